"""What the resources say: a Questionnaire faithful to forms/, answers as given, a US Core-shaped
CarePlan with referrals and the client's decisions, superseded documents, and security labels
that follow what is inside."""

import json

import pytest
from django.test import override_settings
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir_r4.mapping import security_labels

from documents import services as document_services
from forms import STEPS, STEPS_BY_NAME
from referrals.models import ReferralAgency

pytestmark = pytest.mark.django_db
SDC = "http://hl7.org/fhir/StructureDefinition"


def get(persona, path: str, model=None) -> dict:
    response = persona.api.get(path)
    assert response.status_code == 200, response.content
    body = json.loads(response.content)
    if model is not None:
        model.model_validate(body)
    return body


def walk(items):
    for item in items:
        yield item
        yield from walk(item.get("item", []))


def test_questionnaire_holds_every_text_intro_and_help_from_forms(alice) -> None:
    body = get(alice, "/fhir/Questionnaire/couple", Questionnaire)
    items = {i["linkId"]: i for i in walk(body["item"])}
    for step in STEPS:
        if step.clinician_only:
            assert step.name not in items
            continue
        assert items[step.name]["text"] == step.title
        # A couple's intro is their own, else the general one when there is one (true for
        # every couple).
        expected = step.couple_intro or step.general_intro or step.intro
        assert items[f"{step.name}.intro"]["text"] == expected
        assert items[f"{step.name}.intro"]["type"] == "display"
        for field in step.fields_for("couple"):
            item = items[field.name]
            # Verbatim from forms/ (a couple's per-person wording): no placeholder filled in.
            assert item["text"] == (field.couple_label or field.general_label or field.label)
            if field.help:
                help_item = items[f"{field.name}.help"]
                assert help_item["text"] == field.help
                control = help_item["extension"][0]["valueCodeableConcept"]["coding"][0]
                assert control["code"] == "help"
            if field.why:
                assert field.why in items[f"{field.name}.why"]["text"]
                assert field.who_sees in items[f"{field.name}.why"]["text"]
            for option, choice in zip(item.get("answerOption", []), field.choices, strict=True):
                assert option["valueCoding"]["display"] == choice.label
    consent_intro = items["consent.intro"]["text"]
    assert "court can order" in consent_intro  # the limits of confidentiality, before any question


def test_questionnaire_constraints_are_standard_extensions(alice) -> None:
    items = {i["linkId"]: i for i in walk(get(alice, "/fhir/Questionnaire/individual")["item"])}
    goals = items["client_goals"]
    extensions = {e["url"]: e.get("valueInteger") for e in goals["extension"]}
    assert extensions[f"{SDC}/questionnaire-minOccurs"] == 1
    assert extensions[f"{SDC}/questionnaire-maxOccurs"] == 10
    assert goals["maxLength"] == 500
    assert goals["repeats"] is True
    for name in ("stigma_experiences", "current_supports", "work_types"):
        field = STEPS_BY_NAME[_step_of(name)].get_field(name)
        exclusive = {
            o["valueCoding"]["code"]
            for o in items[name]["answerOption"]
            if {"url": f"{SDC}/questionnaire-optionExclusive", "valueBoolean": True}
            in o.get("extension", [])
        }
        assert exclusive == field.exclusive_codes, name
        assert exclusive
    for name in ("confidentiality_explained", "confirmed"):
        constraint = next(
            e for e in items[name]["extension"] if e["url"] == f"{SDC}/questionnaire-constraint"
        )
        parts = {
            p["url"]: next(v for k, v in p.items() if k.startswith("value"))
            for p in constraint["extension"]
        }
        assert parts["expression"] == "answer.value = true"
        assert items[name]["required"] is True


def _step_of(field_name: str) -> str:
    return next(s.name for s in STEPS for f in s.fields if f.name == field_name)


@override_settings(FHIR_BASE_URL="https://care.example.org/fhir")
def test_canonical_urls_are_https_from_the_configured_base(alice, persona_plan) -> None:
    plan = persona_plan("not_a_topic")
    questionnaire = get(alice, "/fhir/Questionnaire/individual")
    assert questionnaire["url"] == "https://care.example.org/fhir/Questionnaire/individual"
    response = get(alice, f"/fhir/QuestionnaireResponse/{plan.intake_id}", QuestionnaireResponse)
    assert response["questionnaire"] == (
        f"https://care.example.org/fhir/Questionnaire/individual|{questionnaire['version']}"
    )
    about = next(g for g in response["item"] if g["linkId"] == "about")
    focus = next(i for i in about["item"] if i["linkId"] == "work_focus")
    assert focus["answer"][0]["valueCoding"]["system"].startswith("https://care.example.org/")


def test_unticked_boxes_are_not_exported_as_false(alice, persona_plan) -> None:
    plan = persona_plan("not_a_topic")
    intake = plan.intake
    intake.answers = {
        **intake.answers,
        "review": {"findings_acknowledged": False, "confirmed": True},
    }
    intake.save()
    body = get(alice, f"/fhir/QuestionnaireResponse/{intake.pk}", QuestionnaireResponse)
    review = next(g for g in body["item"] if g["linkId"] == "review")
    assert review["item"] == [{"linkId": "confirmed", "answer": [{"valueBoolean": True}]}]
    assert "false" not in json.dumps(body).lower().replace('"valueboolean": true', "")


def search_ids(persona, query: str) -> set[str]:
    response = persona.api.get(f"/fhir/{query}&_count=100")
    assert response.status_code == 200, response.content
    return {e["resource"]["id"] for e in json.loads(response.content).get("entry", [])}


def assert_status_search_agrees_with_reads(persona, plan) -> None:
    """A search by status finds exactly the documents that read with that status (the search
    is a database query; the read works it out per document)."""
    read: dict[str, set[str]] = {"current": set(), "superseded": set(), "entered-in-error": set()}
    for doc_id in search_ids(persona, f"DocumentReference?patient={plan.client_id}"):
        read[get(persona, f"/fhir/DocumentReference/{doc_id}")["status"]].add(doc_id)
    for status, ids in read.items():
        query = f"DocumentReference?patient={plan.client_id}&status={status}"
        assert search_ids(persona, query) == ids, status
    both = f"DocumentReference?patient={plan.client_id}&status=current,superseded"
    assert search_ids(persona, both) == read["current"] | read["superseded"]


def test_superseded_document_reference(alice, persona_plan, monkeypatch) -> None:
    plan = persona_plan("not_a_topic")
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    first = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    document_services.document_render(document_id=first, worker="w:1")
    assert get(alice, f"/fhir/DocumentReference/{first}")["status"] == "current"
    etag = alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
    changed = alice.api.patch(
        f"/api/v1/plans/{plan.pk}/", {"safety_plan": "new"}, format="json", HTTP_IF_MATCH=etag
    )
    assert changed.status_code == 200
    second = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    document_services.document_render(document_id=second, worker="w:1")
    assert get(alice, f"/fhir/DocumentReference/{first}")["status"] == "superseded"
    assert get(alice, f"/fhir/DocumentReference/{second}")["status"] == "current"


def test_a_drafts_pdf_is_preliminary_and_an_agreed_plans_is_final(
    alice, persona_plan, monkeypatch
) -> None:
    """The PDF of a draft prints "draft": an EHR must not file it as a final document, though it
    rendered. The plan's PDF once agreed is final, already while it is queued; a draft's PDF
    stays preliminary after the plan is agreed (it still says "draft")."""
    import io

    from pypdf import PdfReader

    plan = persona_plan("not_a_topic")
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)

    def made() -> dict:
        body = {"copy": "clinic", "wording_reviewed": True}
        doc = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/", body, format="json").json()
        document_services.document_render(document_id=doc["id"], worker="w:1")
        return alice.api.get(f"/api/v1/documents/{doc['id']}/").json()

    def pdf_text(doc: dict) -> str:
        pdf = alice.api.get(doc["pdf"])
        return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)

    def save(body: dict) -> None:
        etag = alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
        saved = alice.api.patch(
            f"/api/v1/plans/{plan.pk}/", body, format="json", HTTP_IF_MATCH=etag
        )
        assert saved.status_code == 200, saved.content

    draft = made()
    assert (draft["status"], draft["plan_status"]) == ("ready", "draft")
    assert "draft" in pdf_text(draft)
    assert get(alice, f"/fhir/DocumentReference/{draft['id']}")["docStatus"] == "preliminary"
    agree = {"agreement": {"client_decision": "agrees", "client_signed_name": "R."}}
    save(agree)
    # Still queued, the agreed plan's copy is already what it will be once rendered.
    queued = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/",
        {"copy": "clinic", "wording_reviewed": True},
        format="json",
    ).json()
    assert queued["status"] == "queued"
    assert get(alice, f"/fhir/DocumentReference/{queued['id']}")["docStatus"] == "final"
    final = made()
    assert final["id"] == queued["id"]
    assert (final["status"], final["plan_status"]) == ("ready", "agreed")
    assert "agreed" in pdf_text(final)
    assert get(alice, f"/fhir/DocumentReference/{final['id']}")["docStatus"] == "final"
    assert get(alice, f"/fhir/DocumentReference/{draft['id']}")["docStatus"] == "preliminary"

    # The next version's draft never replaces the agreed plan's PDF: an EHR keeping current
    # documents keeps the last agreed plan (and the newest draft beside it).
    save({"safety_plan": "next version"})
    next_draft = made()
    assert next_draft["plan_status"] == "draft"

    def shown(doc: dict) -> tuple:
        body = get(alice, f"/fhir/DocumentReference/{doc['id']}")
        replaces = [r["target"]["reference"] for r in body.get("relatesTo", [])]
        return body["status"], body["docStatus"], replaces

    ref = "DocumentReference/{}".format
    assert shown(draft) == ("superseded", "preliminary", [])
    assert shown(final) == ("current", "final", [ref(draft["id"])])
    assert shown(next_draft) == ("current", "preliminary", [])
    # Agreed again: the new agreed PDF replaces both the agreed one and the draft since.
    save(agree)
    final_2 = made()
    assert shown(final) == ("superseded", "final", [ref(draft["id"])])
    assert shown(next_draft)[0] == "superseded"
    assert shown(final_2) == ("current", "final", [ref(final["id"]), ref(next_draft["id"])])
    assert_status_search_agrees_with_reads(alice, plan)


def test_copies_with_other_options_do_not_replace_each_other_and_failed_ones_are_in_error(
    alice, persona_plan, monkeypatch
) -> None:
    """An EHR keeping only `current` documents keeps one of each copy: the client's copy, the
    clinic's and a discreet one of the same version are all current, each saying which copy it
    is; only the same copy made again replaces one. A document whose file was lost is
    entered-in-error and replaces nothing."""
    from django.core.files.storage import default_storage

    from documents.models import PlanDocument

    plan = persona_plan("not_a_topic")
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)

    def made(body: dict) -> str:
        doc = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/", body, format="json").json()
        document_services.document_render(document_id=doc["id"], worker="w:1")
        return doc["id"]

    client = made({"wording_reviewed": True})
    clinic = made({"copy": "clinic", "wording_reviewed": True})
    discreet = made({"discreet": True, "wording_reviewed": True})
    shown = {d: get(alice, f"/fhir/DocumentReference/{d}") for d in (client, clinic, discreet)}
    assert {d: r["status"] for d, r in shown.items()} == dict.fromkeys(shown, "current")
    assert not any("relatesTo" in r for r in shown.values())
    assert shown[clinic]["description"].startswith("The clinic's copy")
    assert shown[client]["description"].startswith("The client's copy")
    assert "discreet" in shown[discreet]["description"]
    assert "a goal, step or note that does is left out" in shown[discreet]["description"]
    assert shown[discreet]["content"][0]["attachment"]["title"] == "my-plan.pdf"
    # The same copy again, after an edit, replaces the earlier one of its kind only.
    etag = alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
    alice.api.patch(
        f"/api/v1/plans/{plan.pk}/", {"safety_plan": "new"}, format="json", HTTP_IF_MATCH=etag
    )
    again = made({"copy": "clinic", "wording_reviewed": True})
    assert get(alice, f"/fhir/DocumentReference/{clinic}")["status"] == "superseded"
    assert get(alice, f"/fhir/DocumentReference/{again}")["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{clinic}"}}
    ]
    assert get(alice, f"/fhir/DocumentReference/{client}")["status"] == "current"
    # A lost file: the document is failed, entered-in-error, and replaces nothing.
    default_storage.delete(PlanDocument.objects.get(pk=again).file)
    assert alice.api.get(f"/api/v1/documents/{again}/pdf").status_code == 409
    lost = get(alice, f"/fhir/DocumentReference/{again}")
    assert (lost["status"], lost["docStatus"]) == ("entered-in-error", "preliminary")
    assert "relatesTo" not in lost
    assert get(alice, f"/fhir/DocumentReference/{clinic}")["status"] == "current"
    assert_status_search_agrees_with_reads(alice, plan)


def test_care_plan_is_us_core_shaped_with_goals_steps_notes_and_referrals(
    alice, persona_plan
) -> None:
    plan = persona_plan("not_a_topic")
    goal = plan.goals.first()
    agency = ReferralAgency.objects.create(
        clinic=alice.clinic, name="Peer Support Collective", services=["peer_support"]
    )
    declined = ReferralAgency.objects.create(
        clinic=alice.clinic, name="Housing Desk", services=["housing"]
    )
    etag = alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"]
    response = alice.api.patch(
        f"/api/v1/plans/{plan.pk}/",
        {
            "goals": [
                {
                    "id": str(goal.pk),
                    "client_words": goal.client_words,
                    "steps": [
                        {"description": "Wind-down hour", "who": "client", "frequency": "nightly"},
                        {"description": "Check in", "who": "clinician", "frequency": "weekly"},
                    ],
                }
            ],
            "supports_notes": "My flatmate",
            "referrals": [
                {"agency": str(agency.pk), "client_decision": "accepted"},
                {"agency": str(declined.pk), "client_decision": "declined"},
            ],
            "agreement": {"client_decision": "agrees"},
        },
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.content
    body = get(alice, f"/fhir/CarePlan/{plan.pk}", CarePlan)
    codes = [c["code"] for cat in body["category"] for c in cat["coding"]]
    assert "assess-plan" in codes
    assert body["text"]["status"] == "generated"
    tasks = [a["detail"] for a in body["activity"] if "detail" in a]
    assert tasks[0]["goal"] == [{"reference": f"Goal/{goal.pk}"}]
    assert tasks[0]["performer"][0]["reference"] == f"Patient/{plan.client_id}"
    assert tasks[0]["scheduledString"] == "nightly"
    assert tasks[1]["performer"] == [{"display": "The clinician"}]
    notes = [n["text"] for n in body["note"]]
    assert "Safety plan, in the client's words: Text Jo, walk by the river" in notes
    assert any(n.startswith("Supports: Friends") and "My flatmate" in n for n in notes)
    assert any(n.startswith("Strengths: Humour") for n in notes)
    assert any(n.startswith("The client agreed to this plan") for n in notes)
    service_requests = [r for r in body["contained"] if r["resourceType"] == "ServiceRequest"]
    requests = {r["performer"][0]["display"]: r for r in service_requests}
    assert requests["Peer Support Collective"]["status"] == "active"
    assert requests["Housing Desk"]["status"] == "revoked"
    assert "decided not to use" in requests["Housing Desk"]["note"][0]["text"]
    refs = [a["reference"]["reference"] for a in body["activity"] if "reference" in a]
    assert refs == [f"#{r['id']}" for r in service_requests]
    # The agreement is there too, as a Provenance with the decision on this version.
    provenance = next(r for r in body["contained"] if r["resourceType"] == "Provenance")
    assert provenance["target"][0] == {
        "reference": f"CarePlan/{plan.pk}",
        "display": f"Version {plan.version}",
    }
    # Every reference resolves on this server, or is a name only (no Practitioner resources).
    assert "Practitioner/" not in json.dumps(body)
    assert body["author"] == {"type": "Practitioner", "display": alice.user.username}
    assert get(alice, f"/fhir/CarePlan/{plan.pk}")["id"] == str(plan.pk)


def test_security_labels_follow_the_content(alice, persona_plan) -> None:
    quiet = persona_plan("not_a_topic")
    labels = get(alice, f"/fhir/QuestionnaireResponse/{quiet.intake_id}")["meta"]["security"]
    assert [(x["code"]) for x in labels] == ["R", "PSY"]
    working = persona_plan("continuing")  # work types and precautions: restricted
    labels = get(alice, f"/fhir/QuestionnaireResponse/{working.intake_id}")["meta"]["security"]
    assert [x["code"] for x in labels] == ["V", "PSY", "SEX"]
    plan_labels = get(alice, f"/fhir/CarePlan/{working.pk}")["meta"]["security"]
    assert plan_labels[0]["code"] == "V"
    assert get(alice, f"/fhir/Patient/{working.client_id}")["meta"]["security"][0]["code"] == "R"
    assert [
        x["code"] for x in security_labels({"supports": {"referral_needs": ["substance_use"]}})
    ] == [
        "R",
        "ETH",
        "PSY",
    ]
    assert [x["code"] for x in security_labels({"about": {"work_focus": "no"}})] == ["R", "PSY"]
