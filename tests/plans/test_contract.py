"""The one plan-edit contract over the API: If-Match required, partial saves, the rules that need
the database, agreement to exactly what was read, reviews over time, and FHIR."""

import json

import pytest
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.goal import Goal

from documents import services as document_services
from plans.models import PlanAgreement, PlanStep
from plans.selectors import content_sha256, plan_get, plan_representation
from tests.documents.helpers import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(persona_plan):
    return persona_plan("continuing")


def url(plan, suffix: str = "") -> str:
    return f"/api/v1/plans/{plan.pk}/{suffix}"


def etag(persona, plan) -> str:
    return persona.api.get(url(plan))["ETag"]


def patch(persona, plan, body):
    return persona.api.patch(url(plan), body, format="json", HTTP_IF_MATCH=etag(persona, plan))


def test_patch_without_if_match_is_428_and_changes_nothing(alice, plan) -> None:
    response = alice.api.patch(url(plan), {"safety_plan": "x"}, format="json")
    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"
    plan.refresh_from_db()
    assert plan.safety_plan == ""


def test_stale_if_match_is_412_and_changes_nothing(alice, bob, plan) -> None:
    plan.client.care_team.add(bob.user)  # two clinicians of the client's care team
    old = etag(alice, plan)
    assert patch(bob, plan, {"safety_plan": "Bob's"}).status_code == 200
    response = alice.api.patch(
        url(plan), {"safety_plan": "Alice's"}, format="json", HTTP_IF_MATCH=old
    )
    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    plan.refresh_from_db()
    assert plan.safety_plan == "Bob's"


def test_if_match_may_list_etags_and_any_current_one_matches(alice, bob, plan) -> None:
    """RFC 9110: If-Match lists entity tags; the edit goes ahead when one is current."""
    plan.client.care_team.add(bob.user)
    old = etag(alice, plan)
    assert patch(bob, plan, {"safety_plan": "Bob's"}).status_code == 200
    current = etag(alice, plan)
    listed = alice.api.patch(
        url(plan), {"safety_plan": "Alice's"}, format="json", HTTP_IF_MATCH=f"{old}, {current}"
    )
    assert listed.status_code == 200
    plan.refresh_from_db()
    assert plan.safety_plan == "Alice's"
    # A list of only stale or weak tags changes nothing.
    weak = alice.api.patch(
        url(plan),
        {"safety_plan": "x"},
        format="json",
        HTTP_IF_MATCH=f"{old}, W/{etag(alice, plan)}",
    )
    assert weak.status_code == 412
    plan.refresh_from_db()
    assert plan.safety_plan == "Alice's"


def test_if_match_star_is_refused_as_no_etag_at_all(alice, plan) -> None:
    """`*` would overwrite what its sender has not seen: asked for the ETag instead."""
    response = alice.api.patch(url(plan), {"safety_plan": "x"}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 428
    assert "not *" in response.json()["detail"]
    plan.refresh_from_db()
    assert plan.safety_plan == ""


def test_a_goal_sent_with_only_its_id_and_one_field_keeps_everything_else(alice, plan) -> None:
    goal = plan.goals.get()
    for i in range(4):
        PlanStep.objects.create(goal=goal, position=i, description=f"step {i}", who="peer")
    response = patch(
        alice, plan, {"goals": [{"id": str(goal.pk), "clinical_restatement": "Rest more"}]}
    )
    assert response.status_code == 200, response.content
    [body] = response.json()["goals"]
    assert body["client_words"] == "Feel less drained after shifts"
    assert body["clinical_restatement"] == "Rest more"
    assert [s["description"] for s in body["steps"]] == [f"step {i}" for i in range(4)]


def test_twenty_steps_are_allowed_and_the_twenty_first_is_refused(alice, plan) -> None:
    goal = plan.goals.get()
    steps = [{"description": f"s{i}", "who": "client"} for i in range(21)]
    body = {"goals": [{"id": str(goal.pk), "steps": steps[:20]}]}
    assert patch(alice, plan, body).status_code == 200
    response = patch(alice, plan, {"goals": [{"id": str(goal.pk), "steps": steps}]})
    assert response.status_code == 400
    assert any(k.startswith("goals") for k in response.json()["errors"])


def test_a_new_step_needs_who_it_is_for(alice, plan) -> None:
    goal = plan.goals.get()
    response = patch(
        alice, plan, {"goals": [{"id": str(goal.pk), "steps": [{"description": "x"}]}]}
    )
    assert response.status_code == 400
    assert "goals.0.steps.0.who" in json.dumps(response.json()["errors"]) or any(
        "who" in k for k in response.json()["errors"]
    )


def test_ids_from_another_plan_or_clinic_are_refused_by_field(
    alice, charlie, plan, persona_plan
) -> None:
    from referrals.models import ReferralAgency

    other = persona_plan("leaving")
    other_goal = other.goals.get()
    response = patch(alice, plan, {"goals": [{"id": str(other_goal.pk), "client_words": "x"}]})
    assert response.status_code == 400
    assert response.json()["errors"] == {"goals.0.id": ["This goal is not part of this plan."]}
    elsewhere = ReferralAgency.objects.create(clinic=charlie.clinic, name="Elsewhere")
    response = patch(
        alice,
        plan,
        {"referrals": [{"agency": str(elsewhere.pk), "client_decision": "accepted"}]},
    )
    assert response.status_code == 400
    assert "referrals.0.agency" in response.json()["errors"]
    other_goal.refresh_from_db()
    assert other_goal.client_words == "Find steady work I like"


def test_a_referral_decision_is_never_assumed(alice, plan) -> None:
    from referrals.models import ReferralAgency

    agency = ReferralAgency.objects.create(clinic=alice.clinic, name="Open Door")
    response = patch(alice, plan, {"referrals": [{"agency": str(agency.pk)}]})
    assert response.status_code == 400
    assert any("client_decision" in k for k in response.json()["errors"])


def test_agreement_records_version_and_hash_of_the_content_after_the_edit(alice, plan) -> None:
    goal = plan.goals.get()
    body = {
        "goals": [{"id": str(goal.pk), "client_words": "Feel rested"}],
        "agreement": {
            "client_decision": "agrees",
            "client_signed_name": "R.",
            "clinician_signed_name": "A. Clinician",
        },
    }
    response = patch(alice, plan, body)
    assert response.status_code == 200, response.content
    rep = response.json()
    assert rep["goals"][0]["client_words"] == "Feel rested"
    agreement = rep["agreement"]
    assert agreement["version"] == rep["version"] == 1
    assert agreement["content_sha256"] == content_sha256(rep) == rep["content_sha256"]
    record = PlanAgreement.objects.get(plan=plan)
    assert (record.version, record.content_sha256) == (1, agreement["content_sha256"])
    # Any later edit opens a new version, with no decision on it yet.
    edited = patch(alice, plan, {"safety_plan": "Call Jo"}).json()
    assert (edited["version"], edited["agreement"]["client_decision"]) == (2, None)


def test_not_yet_and_agree_with_changes_are_decisions_too(alice, plan) -> None:
    rep = patch(alice, plan, {"agreement": {"client_decision": "not_yet"}}).json()
    assert (rep["status"], rep["agreement"]["client_decision"]) == ("draft", "not_yet")
    rep = patch(alice, plan, {"agreement": {"client_decision": "wants_changes"}}).json()
    assert rep["agreement"]["client_decision"] == "wants_changes"
    assert PlanAgreement.objects.filter(plan=plan).count() == 2


def test_agreement_to_content_other_than_shown_is_refused(alice, plan) -> None:
    response = patch(
        alice, plan, {"agreement": {"client_decision": "agrees", "content_sha256": "0" * 64}}
    )
    assert response.status_code == 400
    assert "agreement.content_sha256" in response.json()["errors"]
    plan.refresh_from_db()
    assert plan.status == "draft"


def test_fhir_care_plan_carries_the_agreement_as_a_provenance(alice, plan) -> None:
    patch(
        alice,
        plan,
        {"agreement": {"client_decision": "agrees", "client_signed_name": "River R."}},
    )
    response = alice.api.get(f"/fhir/CarePlan/{plan.pk}")
    body = json.loads(response.content)
    CarePlan.model_validate(body)
    [provenance] = body["contained"]
    assert provenance["resourceType"] == "Provenance"
    assert body["supportingInfo"] == [
        {"reference": "#agreement", "display": "The client's decision"}
    ]
    assert provenance["target"] == [{"reference": f"CarePlan/{plan.pk}", "display": "Version 1"}]
    assert provenance["activity"]["coding"][0]["code"] == "agrees"
    assert provenance["signature"][0]["who"]["display"] == "River R."
    digest = content_sha256(
        plan_representation(plan_get(membership=alice.membership, plan_id=plan.pk))
    )
    assert provenance["entity"][0]["what"]["identifier"]["value"] == digest


def review(persona, plan, ratings: list[int], note: str = ""):
    goal = plan.goals.get()
    body = {
        "goals": [
            {"goal": str(goal.pk), "progress": r, "client_note": f"note {r}"} for r in ratings
        ],
        "note": note,
    }
    return persona.api.post(url(plan, "reviews/"), body, format="json")


def test_reviews_are_recorded_and_listed_in_order(alice, charlie, plan) -> None:
    first = review(alice, plan, [1], note="first look")
    assert first.status_code == 201, first.content
    assert first.json()["goals"][0]["progress"] == 1
    assert review(alice, plan, [3]).status_code == 201
    listed = alice.api.get(url(plan, "reviews/")).json()["results"]
    assert [r["goals"][0]["progress"] for r in listed] == [1, 3]
    assert listed[0]["note"] == "first look"
    assert charlie.api.get(url(plan, "reviews/")).status_code == 404
    assert review(charlie, plan, [2]).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"goals": [{"goal": "GOAL", "progress": 5}]}, "goals.0.progress"),
        ({"goals": [{"goal": "GOAL", "progress": -1}]}, "goals.0.progress"),
        ({"goals": [{"goal": "GOAL"}]}, "goals.0.progress"),
        (
            {"goals": [{"goal": "00000000-0000-0000-0000-000000000000", "progress": 2}]},
            "goals.0.goal",
        ),
        ({"goals": [{"goal": "GOAL", "progress": 2}], "note": 5}, "note"),
        ({"goals": "x"}, "goals"),
    ],
)
def test_bad_reviews_are_400_naming_the_field(alice, plan, body, field) -> None:
    goal = str(plan.goals.get().pk)
    body = json.loads(json.dumps(body).replace("GOAL", goal))
    response = alice.api.post(url(plan, "reviews/"), body, format="json")
    assert response.status_code == 400, response.content
    assert any(k.startswith(field) for k in response.json()["errors"]), response.json()


def test_fhir_goal_achievement_follows_the_latest_rating(alice, plan) -> None:
    goal = plan.goals.get()

    def status() -> dict:
        body = json.loads(alice.api.get(f"/fhir/Goal/{goal.pk}").content)
        Goal.model_validate(body)
        return body["achievementStatus"]

    assert status()["coding"][0]["code"] == "in-progress"
    review(alice, plan, [1])
    review(alice, plan, [3])
    assert status()["coding"][0]["code"] == "improving"
    assert status()["text"] == "The client's rating: 3 of 4"
    review(alice, plan, [4])
    assert status()["coding"][0]["code"] == "achieved"


def test_a_review_sequence_shows_in_the_pdf(alice, plan, monkeypatch) -> None:
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    before = alice.api.post(url(plan, "documents/")).json()["id"]
    for rating in (1, 2, 4):
        assert review(alice, plan, [rating]).status_code == 201
    doc_id = alice.api.post(url(plan, "documents/")).json()["id"]
    assert doc_id != before  # a new review is new content for the PDF
    document_services.document_render(document_id=doc_id, worker="w:1")
    pdf = alice.api.get(f"/api/v1/documents/{doc_id}/pdf").content
    text = " ".join(pdf_text(pdf).split())
    assert "Your progress at reviews" in text
    assert "1 of 4 (A little)" in text
    assert "2 of 4 (Halfway)" in text
    assert "4 of 4 (Done)" in text
    assert text.index("1 of 4") < text.index("2 of 4") < text.index("4 of 4")
    assert "In your words: “note 4”" in text
    html = alice.api.get(url(plan, "preview")).content.decode()
    assert html.count("<rect ") == 3  # one bar per review, drawn in the template


def test_an_integration_agrees_with_the_fingerprint_it_showed(alice, plan) -> None:
    shown = alice.api.get(url(plan)).json()["content_sha256"]
    body = {"agreement": {"client_decision": "agrees", "content_sha256": shown}}
    response = patch(alice, plan, body)
    assert response.status_code == 200, response.content
    assert response.json()["agreement"]["content_sha256"] == shown
