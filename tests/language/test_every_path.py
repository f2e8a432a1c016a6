"""Every path that prints clinician text is checked: API PDF requests (409 wording_review),
referral notes, every clinician-written plan field; the client's own words always exempt."""

import html as html_module
import json

import pytest

from documents.models import PlanDocument
from language.services import plan_client_terms, plan_field_findings
from plans.services import plan_update
from referrals.models import ReferralAgency
from tests.conftest import CONSENT, completed_plan

pytestmark = pytest.mark.django_db


def documents_url(plan) -> str:
    return f"/api/v1/plans/{plan.pk}/documents/"


@pytest.fixture
def judged_plan(alice, persona_plan):
    """A plan whose clinician wrote the issue's PDF wording."""
    plan = persona_plan("continuing")
    goal = plan.goals.get()
    return plan_update(
        plan=plan,
        actor=alice.user,
        changes={
            "goals": [
                {
                    "id": goal.pk,
                    "client_words": goal.client_words,
                    "clinical_restatement": "Client claims she is tired",
                    "steps": [],
                }
            ],
            "supports_notes": "High-risk behaviour with johns.",
        },
    )


def test_an_api_pdf_request_with_unreviewed_wording_answers_409_with_the_findings(
    alice, judged_plan
) -> None:
    response = alice.api.post(documents_url(judged_plan), format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "wording_review"
    found = [(f["field"], f["term"], f["replacement"]) for f in body["findings"]]
    assert found == [
        ("supports_notes", "high-risk lifestyle", None),
        ("supports_notes", "john", "clients"),
        ("goals[0].clinical_restatement", "claims", "says"),
    ]
    finding = body["findings"][2]
    assert judged_plan.goals.get().clinical_restatement[finding["start"] : finding["end"]] == (
        "claims"
    )
    assert finding["suggestion"]
    assert finding["reason"]
    assert finding["where"] == "Goal 1: clinician's restatement"
    assert PlanDocument.objects.count() == 0
    # The same without a body, and with wording_reviewed false.
    assert alice.api.post(documents_url(judged_plan)).status_code == 409
    assert (
        alice.api.post(
            documents_url(judged_plan), {"wording_reviewed": False}, format="json"
        ).status_code
        == 409
    )


def test_wording_reviewed_true_prepares_the_pdf(alice, judged_plan) -> None:
    response = alice.api.post(documents_url(judged_plan), {"wording_reviewed": True}, format="json")
    assert response.status_code == 202
    assert PlanDocument.objects.filter(plan=judged_plan).count() == 1


def test_a_plan_without_findings_needs_no_body(alice, persona_plan) -> None:
    plan = persona_plan("continuing")
    assert alice.api.post(documents_url(plan)).status_code == 202


@pytest.mark.parametrize("value", ["yes", 1, "true", None, [True]])
def test_a_bad_wording_reviewed_is_400_naming_the_field(alice, judged_plan, value) -> None:
    response = alice.api.post(
        documents_url(judged_plan), {"wording_reviewed": value}, format="json"
    )
    assert response.status_code == 400
    assert "wording_reviewed" in response.json()["errors"]


def test_a_body_that_is_not_an_object_is_400(alice, judged_plan) -> None:
    response = alice.api.post(documents_url(judged_plan), [1, 2], format="json")
    assert response.status_code == 400


def test_another_clinics_plan_is_404_before_any_wording_is_shown(charlie, judged_plan) -> None:
    response = charlie.api.post(documents_url(judged_plan), format="json")
    assert response.status_code == 404
    assert "findings" not in response.json()


def test_every_clinician_written_field_and_referral_notes_are_checked(alice, persona_plan) -> None:
    plan = persona_plan("continuing")
    goal = plan.goals.get()
    agency = ReferralAgency.objects.create(clinic=alice.clinic, name="Harbour Peer Line")
    plan = plan_update(
        plan=plan,
        actor=alice.user,
        changes={
            "goals": [
                {
                    "id": goal.pk,
                    "client_words": goal.client_words,
                    "clinical_restatement": "Less drained; she is in denial about it",
                    "steps": [
                        {
                            "description": "Address her non-compliance",
                            "who": "clinician",
                            "frequency": "whenever she relapses",
                        }
                    ],
                }
            ],
            "strengths_notes": "Promiscuous but resourceful",
            "supports_notes": "Her pimp drives her",
            "safety_plan": "Call the peer line if she refuses help",
            "referrals": [
                {
                    "agency": agency.pk,
                    "client_decision": "undecided",
                    "note": "Referred so they can rescue her",
                }
            ],
        },
    )
    found = {(path, finding.term) for path, _label, finding in plan_field_findings(plan)}
    assert found == {
        ("goals[0].clinical_restatement", "in denial"),
        ("goals[0].steps[0].description", "non-compliant"),
        ("goals[0].steps[0].frequency", "relapse (returning to work)"),
        ("strengths_notes", "promiscuous"),
        ("supports_notes", "pimp"),
        ("safety_plan", "refuses"),
        ("referrals[0].note", "rescue"),
    }


def test_referral_notes_gate_the_api_pdf(alice, persona_plan) -> None:
    plan = persona_plan("continuing")
    agency = ReferralAgency.objects.create(clinic=alice.clinic, name="Harbour Peer Line")
    plan = plan_update(
        plan=plan,
        actor=alice.user,
        changes={
            "referrals": [
                {"agency": agency.pk, "client_decision": "undecided", "note": "For ex-prostitutes"}
            ]
        },
    )
    response = alice.api.post(documents_url(plan), format="json")
    assert response.status_code == 409
    assert [f["field"] for f in response.json()["findings"]] == ["referrals[0].note"]


@pytest.fixture
def own_words_plan(alice, alices_client):
    """The client calls their work "the life" and wrote a goal with "hooker" in it; their
    back-up plan and coping notes are their own words too."""
    steps = {
        "consent": CONSENT,
        "about": {"work_focus": "central", "work_term": "the life"},
        "goals": {"client_goals": ["Stop the bank treating me like a hooker"]},
        "stigma_coping": {
            "coping_strategies": ["humor"],
            "coping_notes": "I laugh at the punters with my friends",
        },
        "supports": {"safety_plan": "Ring my sister if a john gets rough"},
    }
    return completed_plan(alice, alices_client, "individual", steps)


def test_the_clients_terms_are_always_exempt(alice, own_words_plan) -> None:
    plan = own_words_plan
    goal = plan.goals.get()
    plan = plan_update(
        plan=plan,
        actor=alice.user,
        changes={
            "goals": [
                {
                    "id": goal.pk,
                    "client_words": goal.client_words,
                    "clinical_restatement": "Banking without being treated like a hooker",
                    "steps": [
                        {"description": "Talk about the life with peers", "who": "client"},
                    ],
                }
            ],
        },
    )
    assert plan.strengths_notes == "I laugh at the punters with my friends"
    assert plan.safety_plan == "Ring my sister if a john gets rough"
    assert plan_field_findings(plan) == []
    assert alice.api.post(documents_url(plan)).status_code == 202


def test_clinician_text_added_to_the_clients_words_is_checked(alice, own_words_plan) -> None:
    plan = plan_update(
        plan=own_words_plan,
        actor=alice.user,
        changes={"safety_plan": "Ring my sister if a john gets rough. She refuses shelters."},
    )
    assert [(p, f.text) for p, _, f in plan_field_findings(plan)] == [("safety_plan", "refuses")]


def test_the_plan_editor_carries_the_clients_terms_for_the_inline_check(
    alice, own_words_plan, client
) -> None:
    client.force_login(alice.user)
    response = client.get(f"/plans/{own_words_plan.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    marker = 'data-language-check-form data-client-terms="'
    assert marker in html
    raw = html[html.index(marker) + len(marker) :].split('"', 1)[0]
    terms = json.loads(html_module.unescape(raw))
    assert terms == plan_client_terms(own_words_plan)
    assert {"the life", "Stop the bank treating me like a hooker"} <= set(terms)
