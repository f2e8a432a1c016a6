"""recording_preference, binding (DESIGN "What is recorded"): what is not recorded is not asked,
not stored, dropped by the API with `not_recorded`, and deleted when the preference changes."""

import json
import re

import pytest
from django.test import Client as Browser
from fhir_r4.mapping import care_plan, questionnaire, questionnaire_response
from fhir_r4.mapping import consent as fhir_consent

from documents.render import html_to_pdf
from documents.services import plan_html
from forms import STEPS_BY_NAME
from forms.django_forms import validate_payload
from intake.models import Intake
from intake.services import intake_complete, intake_start, intake_submit_step
from tests.conftest import take_private_checks
from tests.documents.helpers import pdf_text
from tests.factories import IntakeFactory

pytestmark = pytest.mark.django_db

FREE_TEXT = {
    "goals": "what_brings_you",
    "work_context": "work_meaning",
    "stigma_coping": "coping_notes",
    "partner": "partner_concerns",
}


def consent(preference: str) -> dict:
    return {"confidentiality_explained": True, "recording_preference": preference}


def put(persona, intake_id, step: str, body):
    return persona.api.put(f"/api/v1/intakes/{intake_id}/steps/{step}/", body, format="json")


@pytest.fixture
def couple(alice, alices_client) -> Intake:
    intake = IntakeFactory(client=alices_client, kind="couple")
    take_private_checks(intake, alice.user)  # before the joint questions about work
    return intake


def test_minimal_drops_free_text_the_plan_does_not_use_and_says_so(alice, couple) -> None:
    put(alice, couple.pk, "consent", consent("minimal"))
    sent = {  # in step order: the couple choose work as a topic before the work steps
        "goals": {"client_goals": ["Sleep"], "what_brings_you": "WORDS-1"},
        "partner": {"couple_topics": ["trust", "sex_work"], "partner_concerns": "WORDS-4"},
        "work_context": {"work_types": ["massage"], "work_meaning": "WORDS-2"},
        "stigma_coping": {"coping_strategies": ["humor"], "coping_notes": "WORDS-3"},
    }
    for step, body in sent.items():
        response = put(alice, couple.pk, step, body)
        assert response.status_code == 200, response.content
        assert response.json()["not_recorded"] == [FREE_TEXT[step]]
    couple.refresh_from_db()
    assert "WORDS-" not in json.dumps(couple.answers)
    assert couple.answers["goals"] == {"client_goals": ["Sleep"]}
    assert couple.answers["partner"] == {"couple_topics": ["trust", "sex_work"]}
    # With "full" nothing is dropped, and the list says so.
    put(alice, couple.pk, "consent", consent("full"))
    response = put(alice, couple.pk, "goals", sent["goals"])
    assert response.json()["not_recorded"] == []
    assert response.json()["answers"]["goals"]["what_brings_you"] == "WORDS-1"


def test_changing_the_preference_later_deletes_what_is_no_longer_wanted(alice, couple) -> None:
    put(alice, couple.pk, "consent", consent("full"))
    put(alice, couple.pk, "about", {"work_term": "the life"})
    put(alice, couple.pk, "goals", {"client_goals": ["Sleep"], "what_brings_you": "WORDS-1"})
    put(alice, couple.pk, "partner", {"couple_topics": ["sex_work"]})
    put(alice, couple.pk, "stigma_coping", {"coping_notes": "WORDS-3"})
    put(alice, couple.pk, "work_context", {"work_types": ["agency"]})
    body = put(alice, couple.pk, "consent", consent("minimal")).json()
    assert "what_brings_you" not in body["answers"]["goals"]
    assert body["answers"]["stigma_coping"] == {}
    assert body["answers"]["about"]["work_term"] == "the life"  # minimal keeps what the plan uses
    body = put(alice, couple.pk, "consent", consent("no_work_details")).json()
    assert "work_context" not in body["answers"]
    assert body["answers"]["about"] == {}
    couple.refresh_from_db()
    assert "the life" not in json.dumps(couple.answers)
    assert "agency" not in json.dumps(couple.answers)


def test_no_work_details_turns_the_work_steps_off_in_the_api(alice, couple) -> None:
    put(alice, couple.pk, "consent", consent("no_work_details"))
    response = put(alice, couple.pk, "about", {"work_term": "the life"})
    assert response.json()["not_recorded"] == ["work_term"]
    response = put(alice, couple.pk, "partner", {"couple_topics": ["sex_work"]})
    states = {s["name"]: s["enabled"] for s in response.json()["steps"]}
    for step in ("work_context", "precautions", "work_plans", "exit_planning"):
        assert states[step] is False
        assert put(alice, couple.pk, step, {}).status_code == 409


def browser_for(persona) -> Browser:
    browser = Browser()
    browser.force_login(persona.user)
    return browser


def wizard_post(browser, intake, step: str, fields: dict):
    data = {f"intake_{intake.pk}-current_step": step}
    data.update({f"{step}-{k}": v for k, v in fields.items()})
    return browser.post(f"/intakes/{intake.pk}/step/{step}/", data)


def test_the_wizard_does_not_ask_what_is_not_recorded(alice, couple) -> None:
    browser = browser_for(alice)
    wizard_post(
        browser,
        couple,
        "consent",
        {"confidentiality_explained": "on", "recording_preference": "minimal"},
    )
    goals = browser.get(f"/intakes/{couple.pk}/step/goals/").content.decode()
    assert "Anything else about what brings you here?" not in goals
    assert "goals-what_brings_you" not in goals
    # A forged post of the field stores nothing.
    wizard_post(browser, couple, "goals", {"client_goals": ["Sleep"], "what_brings_you": "WORDS"})
    couple.refresh_from_db()
    assert couple.answers["goals"] == {"client_goals": ["Sleep"]}
    partner = browser.get(f"/intakes/{couple.pk}/step/partner/").content.decode()
    assert "partner-partner_concerns" not in partner
    wizard_post(
        browser,
        couple,
        "consent",
        {"confidentiality_explained": "on", "recording_preference": "no_work_details"},
    )
    about = browser.get(f"/intakes/{couple.pk}/step/about/").content.decode()
    assert "about-work_term" not in about
    assert "about-work_focus" not in about
    assert (
        "goals-what_brings_you" in browser.get(f"/intakes/{couple.pk}/step/goals/").content.decode()
    )


def test_no_work_details_plan_pdf_preview_and_fhir_say_nothing_about_the_work(
    alice, alices_client
) -> None:
    # The client first shared everything, then chose not to have their work written down.
    steps = {
        "consent": consent("full"),
        "about": {"work_focus": "central", "work_term": "the life"},
        "goals": {"client_goals": ["Sleep through the night"]},
        "work_context": {"work_types": ["escort_independent"], "work_meaning": "freedom"},
        "precautions": {"precautions_used": ["screening_clients"]},
        "stigma_coping": {"stigma_experiences": ["police"], "coping_strategies": ["humor"]},
        "work_plans": {"work_direction": "leave"},
        "exit_planning": {"exit_stage": "planning", "exit_barriers": ["criminal_record"]},
        "supports": {"current_supports": ["friends"]},
    }
    intake = intake_start(
        membership=alice.membership, actor=alice.user, client=alices_client, kind="individual"
    )
    for name, body in [*steps.items(), ("consent", consent("no_work_details"))]:
        answers = validate_payload(STEPS_BY_NAME[name], body)
        intake_submit_step(
            intake=intake, step=STEPS_BY_NAME[name], answers=answers, actor=alice.user
        )
    plan = intake_complete(intake=intake, actor=alice.user)
    intake = plan.intake
    assert set(intake.answers) == {"consent", "about", "goals", "stigma_coping", "supports"}
    assert intake.answers["about"] == {}
    preview = alice.api.get(f"/api/v1/plans/{plan.pk}/preview").content.decode()
    text = re.sub(r"\s+", " ", pdf_text(html_to_pdf(plan_html(plan))))
    fhir = " ".join(
        r.model_dump_json()
        for r in (questionnaire_response(intake), care_plan(plan), fhir_consent(intake))
    )
    fhir = fhir.replace('"no_work_details"', "")  # the stable code itself, for systems
    for where in (preview, text, fhir):
        for word in ("the life", "sex work", "escort", "Screening", "work", "Making a change"):
            assert word.lower() not in where.lower(), (word, where[:200])
    assert "Sleep through the night" in text


def test_the_form_definition_and_questionnaire_declare_what_is_recorded(alice) -> None:
    body = alice.api.get("/api/v1/forms/couple/").json()
    fields = {f["name"]: f for s in body["steps"] for f in s["fields"]}
    minimal = {"field": "consent.recording_preference", "not_in": ["minimal"]}
    no_work = {"field": "consent.recording_preference", "not_in": ["no_work_details"]}
    for name in FREE_TEXT.values():
        assert fields[name]["recorded_when"] == minimal
    assert fields["work_term"]["recorded_when"] == no_work
    assert fields["client_goals"]["recorded_when"] is None
    items = {
        i["linkId"]: i
        for g in questionnaire("couple").model_dump(mode="json")["item"]
        for i in g["item"]
    }
    assert items["what_brings_you"]["enableWhen"][0]["question"] == "recording_preference"
    assert "enableWhen" not in items["client_goals"]
    assert STEPS_BY_NAME["goals"].not_recorded("individual", {"consent": consent("minimal")}) == [
        "what_brings_you"
    ]
