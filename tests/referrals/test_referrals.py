"""Referral directory (Guideline 8): cautions, suggestions, admin-only edits, plan referrals."""

import itertools
from datetime import date, timedelta

import pytest
from django.test import Client as Browser

from documents.services import html_to_pdf, plan_html
from referrals.models import ReferralAgency
from referrals.selectors import caution_lines, suggestions
from tests.documents.helpers import pdf_text

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 26)
RECENT = TODAY - timedelta(days=30)
STALE = TODAY - timedelta(days=400)


def agency(clinic, name="Harbour Housing", **approach) -> ReferralAgency:
    values = {
        "requires_exit": False,
        "requires_faith_participation": False,
        "police_cooperation": False,
        "affirming_commitment": True,
        "vetted_on": RECENT,
        "services": ["housing"],
        **approach,
    }
    return ReferralAgency.objects.create(clinic=clinic, name=name, **values)


def refer(persona, plan, to: ReferralAgency, decision: str = "accepted"):
    """The plan refers the client to the agency (an API edit, with the plan's ETag)."""
    url = f"/api/v1/plans/{plan.pk}/"
    return persona.api.patch(
        url,
        {"referrals": [{"agency": str(to.pk), "client_decision": decision}]},
        format="json",
        HTTP_IF_MATCH=persona.api.get(url)["ETag"],
    )


def test_an_affirming_recently_vetted_agency_carries_no_caution(clinic_a) -> None:
    assert caution_lines(agency(clinic_a), work_topic=True, work_term="sex work", today=TODAY) == []


APPROACHES = ["requires_exit", "requires_faith_participation", "police_cooperation"]


@pytest.mark.parametrize(
    "flags", [c for n in range(1, 4) for c in itertools.combinations(APPROACHES, n)]
)
def test_each_condition_is_named_plainly(clinic_a, flags) -> None:
    lines = caution_lines(
        agency(clinic_a, **dict.fromkeys(flags, True)),
        work_topic=True,
        work_term="escorting",
        today=TODAY,
    )
    text = " ".join(lines)
    expected = "stop their work (you call it \u201cescorting\u201d) before they can use it"
    assert (expected in text) is ("requires_exit" in flags)
    assert ("religious activities" in text) is ("requires_faith_participation" in flags)
    assert ("works closely with the police" in text) is ("police_cooperation" in flags)
    assert lines[-1] == "It is your choice whether to use it."


@pytest.mark.parametrize(
    ("approach", "expected"),
    [
        ({"vetted_on": STALE}, "not checked this service in the last year"),
        ({"vetted_on": None}, "not checked this service in the last year"),
        ({"affirming_commitment": False}, "not committed to working without judgement"),
        ({"affirming_commitment": None}, "We don't know everything"),
        ({"police_cooperation": None}, "We don't know everything"),
    ],
)
def test_unvetted_non_affirming_or_unknown_agencies_carry_a_caution(
    clinic_a, approach, expected
) -> None:
    text = " ".join(
        caution_lines(
            agency(clinic_a, **approach), work_topic=True, work_term="sex work", today=TODAY
        )
    )
    assert expected in text


def test_exit_caution_does_not_name_the_work_when_work_is_not_a_topic(clinic_a) -> None:
    text = " ".join(
        caution_lines(
            agency(clinic_a, requires_exit=True),
            work_topic=False,
            work_term="sex work",
            today=TODAY,
        )
    )
    assert "sex" not in text
    assert "stop" not in text
    assert "sets conditions about the work people do" in text


def test_suggestions_put_affirming_vetted_agencies_first_with_reasons(alice) -> None:
    clinic = alice.clinic
    agency(clinic, "Zed Legal", services=["legal", "housing"], vetted_on=STALE)
    agency(clinic, "Bay Housing", services=["housing"], police_cooperation=True)
    agency(clinic, "Affirm Legal", services=["legal"])
    agency(clinic, "Dental", services=["medical"])
    ranked = suggestions(membership=alice.membership, needs=["housing", "legal"], today=TODAY)
    assert [s["name"] for s in ranked] == ["Affirm Legal", "Bay Housing", "Zed Legal"]
    assert ranked[0]["affirming"] is True
    assert "Committed to non-judgemental care" in ranked[0]["reasons"][1]
    assert ranked[2]["reasons"][1] == "Not checked in the last 12 months"


def test_only_clinic_admins_change_the_directory(alice, admin_ann) -> None:
    body = {"name": "Peer Line", "services": ["peer_support"], "affirming_commitment": True}
    assert alice.api.post("/api/v1/referral-agencies/", body, format="json").status_code == 403
    created = admin_ann.api.post("/api/v1/referral-agencies/", body, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["requires_exit"] is None  # unknown by default
    listed = alice.api.get("/api/v1/referral-agencies/").json()
    assert [a["name"] for a in listed] == ["Peer Line"]
    url = f"/api/v1/referral-agencies/{body['id']}/"
    assert alice.api.patch(url, {"notes": "x"}, format="json").status_code == 403
    assert (
        admin_ann.api.patch(
            url, {"vetted_on": "2026-10-01", "vetted_by": "Ann"}, format="json"
        ).status_code
        == 200
    )


def test_outsiders_get_404_on_agencies(charlie, admin_ann) -> None:
    created = admin_ann.api.post("/api/v1/referral-agencies/", {"name": "X"}, format="json")
    url = f"/api/v1/referral-agencies/{created.json()['id']}/"
    assert charlie.api.get(url).status_code == 404
    assert charlie.api.get("/api/v1/referral-agencies/").json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "X", "services": ["spa"]}, "services"),
        ({"name": "X", "requires_exit": "maybe"}, "requires_exit"),
        ({"name": "X", "vetted_on": "last week"}, "vetted_on"),
        ({"name": 3}, "name"),
    ],
)
def test_bad_agency_input_is_400(admin_ann, body, field) -> None:
    response = admin_ann.api.post("/api/v1/referral-agencies/", body, format="json")
    assert response.status_code == 400
    assert any(k.startswith(field) for k in response.json()["errors"])


def test_plan_referrals_print_cautions_and_the_clients_decision(alice, persona_plan) -> None:
    plan = persona_plan("leaving")
    kind = agency(alice.clinic, "Open Door Legal", services=["legal"])
    strict = agency(
        alice.clinic,
        "New Path",
        services=["legal"],
        requires_exit=True,
        requires_faith_participation=True,
    )
    body = {
        "referrals": [
            {"agency": str(kind.pk), "client_decision": "accepted"},
            {"agency": str(strict.pk), "client_decision": "declined", "note": "Maybe later"},
        ]
    }
    response = alice.api.patch(
        f"/api/v1/plans/{plan.pk}/",
        body,
        format="json",
        HTTP_IF_MATCH=alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"],
    )
    assert response.status_code == 200
    assert [r["client_decision"] for r in response.json()["referrals"]] == ["accepted", "declined"]
    text = " ".join(pdf_text(html_to_pdf(plan_html(plan))).split())
    assert "Open Door Legal" in text
    assert "New Path" in text
    assert "You decided to use this service." in text
    assert "stop sex work before they can use it" in text
    assert "religious activities" in text
    open_door = text[text.index("Open Door Legal") : text.index("New Path")]
    assert "choice" not in open_door  # no caution beside the affirming, vetted service


def test_an_agency_from_another_clinic_cannot_be_referred(alice, charlie, persona_plan) -> None:
    plan = persona_plan("leaving")
    theirs = agency(charlie.clinic, "Elsewhere")
    response = refer(alice, plan, theirs)
    assert response.status_code == 400
    assert "referrals" in " ".join(response.json()["errors"])


def test_decisions_are_kept_across_plan_versions(alice, persona_plan) -> None:
    plan = persona_plan("leaving")
    legal = agency(alice.clinic, "Open Door Legal", services=["legal"])
    url = f"/api/v1/plans/{plan.pk}/"
    refer(alice, plan, legal)
    alice.api.patch(
        url,
        {"agreement": {"client_decision": "agrees"}},
        format="json",
        HTTP_IF_MATCH=alice.api.get(url)["ETag"],
    )
    body = alice.api.patch(
        url, {"safety_plan": "Call Jo"}, format="json", HTTP_IF_MATCH=alice.api.get(url)["ETag"]
    ).json()
    assert body["version"] == 2
    assert body["referrals"][0]["client_decision"] == "accepted"


def test_suggestions_endpoint_uses_the_intakes_needs(alice, charlie, persona_plan) -> None:
    plan = persona_plan("leaving")  # referral_needs: legal
    agency(alice.clinic, "Open Door Legal", services=["legal"])
    agency(alice.clinic, "Harbour Housing", services=["housing"])
    body = alice.api.get(f"/api/v1/plans/{plan.pk}/referral-suggestions").json()
    assert body["needs"] == ["legal"]
    assert [s["name"] for s in body["suggestions"]] == ["Open Door Legal"]
    assert charlie.api.get(f"/api/v1/plans/{plan.pk}/referral-suggestions").status_code == 404


def test_admin_builds_the_directory_in_the_browser(admin_ann, alice) -> None:
    browser = Browser()
    browser.force_login(admin_ann.user)
    response = browser.post(
        "/referrals/",
        {
            "name": "Night Shelter",
            "services": ["housing"],
            "requires_exit": "unknown",
            "requires_faith_participation": "true",
            "police_cooperation": "false",
            "affirming_commitment": "unknown",
            "vetted_on": "2026-11-01",
            "vetted_by": "Ann",
        },
    )
    assert response.status_code == 302
    shelter = ReferralAgency.objects.get()
    assert (
        shelter.requires_exit,
        shelter.requires_faith_participation,
        shelter.police_cooperation,
    ) == (None, True, False)
    page = browser.get("/referrals/").content.decode()
    assert "religious activities" in page
    clinician = Browser()
    clinician.force_login(alice.user)
    assert clinician.post("/referrals/", {"name": "Sneaky"}).status_code == 404
    assert "Night Shelter" in clinician.get("/referrals/").content.decode()


ACCESS = {
    "sex_worker_led": True,
    "peer_led": True,
    "mandatory_reporting": False,
    "requires_id": False,
    "shares_immigration_data": False,
    "trans_inclusive": True,
    "safety_services": ["bad_date_reporting", "crisis_line"],
}


def test_agencies_record_who_runs_them_and_what_access_needs(admin_ann, alice) -> None:
    created = admin_ann.api.post(
        "/api/v1/referral-agencies/", {"name": "Peer Place", **ACCESS}, format="json"
    )
    assert created.status_code == 201
    body = alice.api.get(f"/api/v1/referral-agencies/{created.json()['id']}/").json()
    assert {k: body[k] for k in ACCESS} == ACCESS
    fresh = admin_ann.api.post("/api/v1/referral-agencies/", {"name": "New"}, format="json")
    assert all(fresh.json()[k] is None for k in ACCESS if k != "safety_services")
    assert fresh.json()["safety_services"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "trans_inclusive": "maybe"}, "trans_inclusive"),
        ({"name": "X", "safety_services": ["spa"]}, "safety_services"),
        ({"name": "X", "safety_services": "crisis_line"}, "safety_services"),
        ({"name": "X", "shares_immigration_data": 3}, "shares_immigration_data"),
    ],
)
def test_bad_access_input_is_400_naming_the_field(admin_ann, body, field) -> None:
    response = admin_ann.api.post("/api/v1/referral-agencies/", body, format="json")
    assert response.status_code == 400
    assert any(k.startswith(field) for k in response.json()["errors"])


@pytest.mark.parametrize(
    ("access", "expected"),
    [
        ({"mandatory_reporting": True}, "must report some things to the authorities"),
        ({"requires_id": True}, "asks for ID"),
        ({"shares_immigration_data": True}, "immigration authorities"),
        ({"trans_inclusive": False}, "welcomes trans and non-binary people"),
    ],
)
def test_access_conditions_carry_a_plain_caution(clinic_a, access, expected) -> None:
    lines = caution_lines(
        agency(clinic_a, **access), work_topic=True, work_term="sex work", today=TODAY
    )
    assert expected in " ".join(lines)
    assert lines[-1] == "It is your choice whether to use it."


def test_peer_led_affirming_services_rank_first_with_labels_not_codes(alice) -> None:
    clinic = alice.clinic
    agency(clinic, "Aardvark Health", services=["sexual_health"])
    agency(clinic, "Zebra Peer Clinic", services=["sexual_health"], sex_worker_led=True)
    agency(clinic, "Middle Peers", services=["sexual_health"], peer_led=True)
    ranked = suggestions(membership=alice.membership, needs=["sexual_health"], today=TODAY)
    assert [s["name"] for s in ranked] == ["Middle Peers", "Zebra Peer Clinic", "Aardvark Health"]
    assert ranked[0]["reasons"][0] == "Offers: Sexual health"
    assert "Led by sex workers" in ranked[1]["reasons"]
    assert all("sexual_health" not in " ".join(s["reasons"]) for s in ranked)


def test_a_safety_follow_up_offers_peer_led_services_from_the_directory(
    alice, persona_plan
) -> None:
    clinic = alice.clinic
    agency(clinic, "Bright Legal", services=["legal"])
    agency(clinic, "Night Line", services=["other"], safety_services=["crisis_line"])
    agency(clinic, "Peer Place", services=["peer_support"], sex_worker_led=True)
    agency(clinic, "Cop Shop Legal", services=["legal"], police_cooperation=True)
    agency(clinic, "Harbour Housing", services=["housing"])
    plan = persona_plan("violence_alone")
    offered = [(r.agency.name, r.client_decision) for r in plan.referrals.all()]
    assert offered == [
        ("Peer Place", "undecided"),
        ("Bright Legal", "undecided"),
        ("Night Line", "undecided"),
    ]
    text = " ".join(pdf_text(html_to_pdf(plan_html(plan))).split())
    section = text[text.index("Support to stay safe") : text.index("This is an offer")]
    for name in ("Peer Place", "Bright Legal", "Night Line"):
        assert name in section
    assert "Cop Shop" not in text
    assert "Harbour Housing" not in text


@pytest.mark.parametrize(
    "told",
    [
        {"about": {"work_focus": "no"}, "consent": {"recording_preference": "full"}},
        {
            "about": {"work_focus": "central", "work_term": "escorting"},
            "consent": {"recording_preference": "no_work_details"},
        },
    ],
    ids=["work_not_a_topic", "no_work_details"],
)
def test_a_safety_follow_up_never_offers_a_service_that_tells_of_work_not_brought(
    alice, alices_client, told
) -> None:
    """Violence told, work not a topic (or not to be written down): the follow-up offers the
    other services, never one whose name or kind tells of the work (sex-worker-led, bad-date
    reporting, named for it), whatever else it offers. Not in the plan, its PDFs or FHIR."""
    from tests.conftest import CONSENT, completed_plan

    clinic = alice.clinic
    agency(clinic, "Bright Legal", services=["legal"])
    agency(clinic, "Outreach Project", services=["legal", "peer_support"], sex_worker_led=True)
    agency(clinic, "Ugly Mugs", services=["other"], safety_services=["bad_date_reporting"])
    agency(clinic, "Escort Safety Line", services=["other"], safety_services=["crisis_line"])
    steps = {
        "consent": {**CONSENT, **told["consent"]},
        "about": told["about"],
        "goals": {"client_goals": ["Feel safe at home"]},
        "stigma_coping": {"stigma_experiences": ["violence", "police"]},
        "supports": {"current_supports": ["friends"]},
    }
    plan = completed_plan(alice, alices_client, "individual", steps)
    assert [r.agency.name for r in plan.referrals.all()] == ["Bright Legal"]
    text = " ".join(pdf_text(html_to_pdf(plan_html(plan))).split())
    assert "Bright Legal" in text
    fhir = alice.api.get(f"/fhir/CarePlan/{plan.pk}").content.decode()
    for name in ("Outreach Project", "Ugly Mugs", "Escort Safety Line"):
        assert name not in text
        assert name not in fhir


def test_the_clients_copy_names_a_service_that_tells_of_work_only_with_a_section_about_it(
    alice, persona_plan
) -> None:
    """Work is a topic, and the follow-up offered a sex-worker-led service: the clinic's copy
    names it; the client's copy only once they tick a section about work (the plan page says
    parts about work are left out until then), never a discreet copy."""
    from documents.context import CopyOptions

    agency(alice.clinic, "Outreach Project", services=["peer_support"], sex_worker_led=True)
    agency(alice.clinic, "Bright Legal", services=["legal"])
    plan = persona_plan("violence_alone")
    assert {r.agency.name for r in plan.referrals.all()} == {"Outreach Project", "Bright Legal"}

    def printed(**options) -> str:
        html = plan_html(plan, CopyOptions.of(**options)) if options else plan_html(plan)
        return " ".join(pdf_text(html_to_pdf(html)).split())

    default = ("goals", "supports", "referrals", "review")
    assert "Outreach Project" in printed()
    copy = printed(copy="client", discreet=False, sections=default)
    assert "Bright Legal" in copy
    assert "Outreach Project" not in copy
    assert "Outreach Project" in printed(copy="client", discreet=False, sections=(*default, "work"))
    assert "Outreach Project" not in printed(
        copy="client", discreet=True, sections=(*default, "work")
    )


def test_no_safety_services_are_added_without_such_answers(alice, persona_plan) -> None:
    agency(alice.clinic, "Peer Place", services=["peer_support"], sex_worker_led=True)
    assert persona_plan("continuing").referrals.count() == 0


def test_admin_records_access_in_the_browser(admin_ann) -> None:
    browser = Browser()
    browser.force_login(admin_ann.user)
    page = browser.get("/referrals/").content.decode()
    assert "Led by sex workers?" in page
    response = browser.post(
        "/referrals/",
        {
            "name": "Peer Place",
            "services": ["peer_support"],
            "sex_worker_led": "true",
            "shares_immigration_data": "true",
            "trans_inclusive": "unknown",
            "safety_services": ["bad_date_reporting"],
        },
    )
    assert response.status_code == 302
    saved = ReferralAgency.objects.get()
    assert (saved.sex_worker_led, saved.shares_immigration_data, saved.trans_inclusive) == (
        True,
        True,
        None,
    )
    assert saved.safety_services == ["bad_date_reporting"]
    assert "immigration authorities" in browser.get("/referrals/").content.decode()


WEB_FORM = {
    "services": ["legal"],
    "requires_exit": "false",
    "requires_faith_participation": "false",
    "police_cooperation": "false",
    "affirming_commitment": "true",
    "vetted_on": "2026-11-01",
    "vetted_by": "Ann",
}


def test_an_agency_renamed_on_the_web_page_moves_its_plans_on(
    admin_ann, alice, persona_plan
) -> None:
    """The web page and the API change an agency through one service: plans that refer to it
    show the new name at once (API, PDF), under a new ETag, and a PDF of the old wording is
    not handed out again."""
    from documents.models import PlanDocument
    from documents.services import document_render

    plan = persona_plan("leaving")
    peer = agency(alice.clinic, "Peer Line", services=["legal"])
    url = f"/api/v1/plans/{plan.pk}/"
    refer(alice, plan, peer)
    before = alice.api.get(url)  # builds the plan's read copy
    old = alice.api.post(f"{url}documents/", {"wording_reviewed": True}, format="json").json()
    assert document_render(document_id=old["id"], worker="w:1") == "ready"

    browser = Browser()
    browser.force_login(admin_ann.user)
    edited = browser.post(f"/referrals/{peer.pk}/", {**WEB_FORM, "name": "Peer Line North"})
    assert edited.status_code == 302

    after = alice.api.get(url)
    assert [r["name"] for r in after.json()["referrals"]] == ["Peer Line North"]
    assert after["ETag"] != before["ETag"]
    stale = alice.api.patch(
        url, {"safety_plan": "Call Jo"}, format="json", HTTP_IF_MATCH=before["ETag"]
    )
    assert stale.status_code == 412
    again = alice.api.post(f"{url}documents/", {"wording_reviewed": True}, format="json")
    assert (again.status_code, again.json()["id"] != old["id"]) == (202, True)
    assert document_render(document_id=again.json()["id"], worker="w:1") == "ready"
    pdf = alice.api.get(f"/api/v1/documents/{again.json()['id']}/pdf").content
    assert "Peer Line North" in " ".join(pdf_text(pdf).split())
    assert PlanDocument.objects.count() == 2


def test_agency_changes_on_the_web_page_are_audited_as_on_the_api(admin_ann) -> None:
    from audit.models import AuditEvent

    browser = Browser()
    browser.force_login(admin_ann.user)
    assert browser.post("/referrals/", {**WEB_FORM, "name": "Open Door"}).status_code == 302
    door = ReferralAgency.objects.get()
    assert (
        browser.post(f"/referrals/{door.pk}/", {**WEB_FORM, "name": "Open Doors"}).status_code
        == 302
    )
    events = AuditEvent.objects.filter(object_type="referralagency", object_id=str(door.pk))
    assert sorted(events.values_list("action", flat=True)) == ["create", "update"]
    assert events.get(action="update").detail["fields"] == ["name"]
