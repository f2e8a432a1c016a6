"""The plan page in the browser's terms: edit with the client, agree, and ask for the PDF."""

import pytest
from django.test import Client as Browser

from documents import services as document_services
from documents.models import PlanDocument
from intake.models import Reflection

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(persona_plan):
    return persona_plan("continuing")


def signed_in(persona) -> Browser:
    browser = Browser()
    browser.force_login(persona.user)
    return browser


def goal_form(plan, **overrides) -> dict:
    goal = plan.goals.first()
    data = {
        "goals-TOTAL_FORMS": "2",
        "goals-INITIAL_FORMS": "1",
        "goals-MIN_NUM_FORMS": "0",
        "goals-MAX_NUM_FORMS": "10",
        "goals-0-id": str(goal.pk),
        "goals-0-client_words": goal.client_words,
        "goals-1-client_words": "",
        "safety_plan": "",
        "review_date": "",
        "save_plan": "1",
    }
    data.update(overrides)
    return data


def test_plan_page_shows_goals_and_the_preview(alice, plan) -> None:
    page = signed_in(alice).get(f"/plans/{plan.pk}/").content.decode()
    assert "Feel less drained after shifts" in page
    assert f'src="/api/v1/plans/{plan.pk}/preview"' in page


def test_outsider_gets_404(charlie, plan) -> None:
    assert signed_in(charlie).get(f"/plans/{plan.pk}/").status_code == 404
    assert signed_in(charlie).post(f"/plans/{plan.pk}/pdf/").status_code == 404


def test_editing_keeps_the_goal_and_adds_steps_and_a_new_goal(alice, plan) -> None:
    response = signed_in(alice).post(
        f"/plans/{plan.pk}/",
        goal_form(
            plan,
            **{
                "goals-0-step0_description": "Rest day",
                "goals-0-step0_who": "client",
                "goals-0-step0_frequency": "weekly",
                "goals-1-client_words": "  my new goal",
                "review_date": "2027-03-01",
            },
        ),
    )
    assert response.status_code == 302
    goals = list(plan.goals.all())
    assert [g.client_words for g in goals] == ["Feel less drained after shifts", "my new goal"]
    assert [s.description for s in goals[0].steps.all()] == ["Rest day"]


def test_recording_agreement_freezes_the_version(alice, plan) -> None:
    signed_in(alice).post(
        f"/plans/{plan.pk}/",
        {"client_decision": "agrees", "client_signed_name": "R", "save_agreement": "1"},
    )
    plan.refresh_from_db()
    assert plan.status == "agreed"
    assert plan.versions.count() == 1


def test_wording_findings_are_shown_before_the_pdf_and_can_be_overridden(
    alice, plan, monkeypatch
) -> None:
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    browser = signed_in(alice)
    browser.post(
        f"/plans/{plan.pk}/",
        goal_form(plan, **{"goals-0-clinical_restatement": "Client refuses to rest"}),
    )
    page = browser.post(f"/plans/{plan.pk}/pdf/").content.decode()
    assert "Try: declines" in page
    assert PlanDocument.objects.count() == 0
    response = browser.post(f"/plans/{plan.pk}/pdf/", {"proceed": "1"})
    assert response.status_code == 302
    assert PlanDocument.objects.count() == 1


def test_the_clients_own_words_never_block_the_pdf(alice, plan, monkeypatch) -> None:
    monkeypatch.setattr(document_services, "_enqueue", lambda _id: None)
    browser = signed_in(alice)
    browser.post(
        f"/plans/{plan.pk}/",
        goal_form(plan, **{"goals-1-client_words": "stop feeling like a victim"}),
    )
    assert browser.post(f"/plans/{plan.pk}/pdf/").status_code == 302
    assert PlanDocument.objects.count() == 1


def test_consultation_flag_shows_on_the_authors_dashboard_only(alice, bob, plan) -> None:
    plan.client.care_team.add(bob.user)
    Reflection.objects.create(
        intake=plan.intake, author=alice.user, notes="x", consultation_wanted=True
    )
    assert (
        "You asked to talk these through in consultation"
        in signed_in(alice).get("/").content.decode()
    )
    assert "consultation" not in signed_in(bob).get("/").content.decode()


def test_repeated_dismissals_prompt_consultation_on_the_dashboard(alice) -> None:
    for _ in range(3):
        alice.api.post("/api/v1/language-check/dismissals/", {"term": "claims"}, format="json")
    page = signed_in(alice).get("/").content.decode()
    assert "You have kept these flagged words several times: claims" in page
