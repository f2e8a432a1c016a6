"""The wizard read as the client sees it on a shared screen, each promise proved against the
stored data, the PDF text (read back) and FHIR."""

import re
import time

import pytest
from fhir_r4.mapping import questionnaire_response

from documents.render import html_to_pdf
from documents.services import plan_html
from intake.models import Intake, PrivateCheck
from plans.models import TreatmentPlan
from tests.browser.conftest import assert_accessible
from tests.browser.test_wizard_browser import sign_in
from tests.conftest import take_private_checks
from tests.documents.helpers import pdf_text
from tests.factories import ClientFactory, IntakeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REFLECTION = "REFLECTION-SEEN-BY-NOBODY"
PRIVATE = "PRIVATE-CHECK-JUST-BETWEEN-US"


def start(page, name: str, kind: str) -> Intake:
    page.get_by_label("Name the client would like to use").fill(name)
    page.get_by_label(kind.title(), exact=True).check()
    page.get_by_role("button", name="Start with a new client").click()
    page.wait_for_url("**/step/consent/")
    return Intake.objects.get(pk=page.url.split("/intakes/")[1].split("/")[0])


def shown(page) -> str:
    """What the client can read: the page title and everything in the page body."""
    return page.title() + "\n" + page.locator("body").inner_text()


def next_step(page, expected: str) -> str:
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url(f"**/step/{expected}/")
    assert page.title() == "Notes"  # nothing about the step in the history
    return shown(page)


def consent(page, label: str) -> None:
    page.get_by_label("explained confidentiality").check()  # as an individual or a couple
    page.get_by_label(label).check()


def test_clinician_only_content_never_reaches_the_shared_screen(page, alice) -> None:
    sign_in(page, alice)
    ClientFactory(clinic=alice.clinic, display_name="Another Person")
    page.goto("/")
    intake = start(page, "Ash and Kit", "couple")
    # The clinician takes the private checks and writes the reflection on their own pages.
    page.goto(f"/intakes/{intake.pk}/private/private_check_a/")
    assert_accessible(page)
    page.get_by_label("No", exact=True).check()
    page.get_by_label("Anything you'd like the clinician to know").fill(PRIVATE)
    page.get_by_role("button", name="Save").click()
    # Saved: a page to hand the screen back on, with none of the answers on it.
    page.wait_for_url("**/private/private_check_a/?saved=1")
    assert_accessible(page)
    handover = shown(page)
    assert "Please hand the screen back to your clinician." in handover
    assert PRIVATE not in handover
    assert page.get_by_role("link", name="Private check with the second person").is_visible()
    page.goto(f"/intakes/{intake.pk}/private/reflection/")
    page.get_by_label("How might your own views").fill(REFLECTION)
    page.get_by_label("I'd like to talk this through in consultation").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    # The clinician's home page has the safety prompt, for them.
    page.goto("/")
    # Named by the partner whose check asked for it: the follow-up is with them alone.
    assert page.get_by_text("Ash and Kit: safety follow-up with the first person").is_visible()

    page.goto(f"/intakes/{intake.pk}/")
    page.wait_for_url("**/step/consent/")
    screens = [shown(page)]
    consent(page, "Write down what we share")  # a couple speaks for both
    screens.append(next_step(page, "about"))
    screens.append(next_step(page, "goals"))
    page.get_by_label("Item 1", exact=True).fill("argue less")
    screens.append(next_step(page, "partner"))
    page.get_by_label("Communication").check()
    screens.append(next_step(page, "stigma_coping"))
    screens.append(next_step(page, "supports"))
    screens.append(next_step(page, "review"))
    assert "Step 7 of 7" in screens[-1]
    assert_accessible(page)
    for screen in screens:
        for secret in (REFLECTION, PRIVATE, "reflection", "Private check", "Another Person"):
            assert secret.lower() not in screen.lower(), secret
        assert "consultation" not in screen.lower()
    steps = page.get_by_role("navigation", name="Steps").inner_text()
    assert "reflection" not in steps.lower()

    page.get_by_label("We've read this together").check()
    page.get_by_role("button", name="Finish and draft the plan").click()
    page.wait_for_url("**/plans/*/")
    assert "Another Person" not in shown(page)
    assert REFLECTION not in shown(page)
    assert PRIVATE not in shown(page)
    # Stored apart, and absent from the PDF and FHIR.
    intake.refresh_from_db()
    assert PrivateCheck.objects.get(intake=intake).answers["private_notes"] == PRIVATE
    plan = TreatmentPlan.objects.get(intake=intake)
    text = pdf_text(html_to_pdf(plan_html(plan)))
    fhir = questionnaire_response(intake).model_dump_json()
    for secret in (REFLECTION, PRIVATE):
        assert secret not in text
        assert secret not in fhir
        assert secret not in str(intake.answers)


def test_a_minimal_client_is_not_asked_what_is_not_recorded(page, alice) -> None:
    sign_in(page, alice)
    intake = start(page, "Rowan", "couple")
    take_private_checks(intake, alice.user)  # before the couple's questions about work
    consent(page, "Write down only what our plan needs")
    next_step(page, "about")
    next_step(page, "goals")
    assert page.get_by_label("Anything else about what brings you here?").count() == 0
    page.get_by_label("Item 1", exact=True).fill("Sleep")
    next_step(page, "partner")
    assert page.get_by_label("Partner: what would you like to work on").count() == 0
    page.get_by_label("Sex work", exact=True).check()
    next_step(page, "work_context")
    assert page.get_by_label("Anything you'd like to say about what your work means").count() == 0
    next_step(page, "precautions")
    next_step(page, "stigma_coping")
    assert page.get_by_label("Anything you'd like to add?").count() == 0
    intake.refresh_from_db()
    assert "what_brings_you" not in intake.answers["goals"]
    assert intake.answers["work_context"] == {}


def test_a_no_work_details_client_gets_no_work_step_and_no_work_on_paper(page, alice) -> None:
    sign_in(page, alice)
    intake = start(page, "Sky", "individual")
    consent(page, "Don't write down details about my work")
    about = next_step(page, "about")
    assert "what do you call your work" not in about
    assert "How much does your work have to do" not in about
    goals = next_step(page, "goals")
    for title in ("About your work", "Your plans for your work", "Making a change"):
        assert title not in goals
    page.get_by_label("Item 1", exact=True).fill("Feel steadier")
    next_step(page, "stigma_coping")
    next_step(page, "supports")
    next_step(page, "review")
    page.get_by_label("We've read this together").check()
    page.get_by_role("button", name="Finish and draft the plan").click()
    page.wait_for_url("**/plans/*/")
    intake.refresh_from_db()
    assert set(intake.answers) == {
        "consent",
        "about",
        "goals",
        "stigma_coping",
        "supports",
        "review",
    }
    assert intake.answers["about"] == {}
    plan = TreatmentPlan.objects.get(intake=intake)
    text = re.sub(r"\s+", " ", pdf_text(html_to_pdf(plan_html(plan))))
    fhir = questionnaire_response(intake).model_dump_json()
    assert "Feel steadier" in text
    for word in ("sex work", "Your work", "work_focus", "work_plans"):
        assert word not in text
        assert word not in fhir


def test_quick_exit_saves_the_typed_text_and_leaves_no_trail(page, alice) -> None:
    sign_in(page, alice)
    intake = start(page, "Quinn", "individual")
    consent(page, "Write down what I share")
    next_step(page, "about")
    next_step(page, "goals")
    page.get_by_label("Item 1", exact=True).fill("Typed, not yet saved")
    page.get_by_label("Anything else about what brings you here?").fill("Half a thought")
    page.get_by_role("link", name="Quick exit").click()
    page.wait_for_url("**/away/")
    assert page.title() == "Weather"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        intake.refresh_from_db()
        if "goals" in intake.answers:
            break
        time.sleep(0.2)
    assert intake.answers["goals"] == {
        "client_goals": ["Typed, not yet saved"],
        "what_brings_you": "Half a thought",
    }
    # Back: never the sign-in page, never an intake address.
    page.go_back()
    page.wait_for_load_state()
    assert "/step/" not in page.url
    assert "/login" not in page.url
    assert page.get_by_role("button", name="Sign in").count() == 0
    assert page.title() in ("Weather", "Notes")
    assert "Typed, not yet saved" not in page.locator("body").inner_text()
    # Further back: still nothing from the intake.
    page.go_back()
    page.wait_for_load_state()
    assert "/step/" not in page.url
    assert page.get_by_role("button", name="Sign in").count() == 0


def test_a_change_a_quick_exit_could_not_save_is_said_on_return(page, alice) -> None:
    """Work taken off the table, then a quick exit: that change would delete the work page's
    answers, which the wizard always asks about first, so it is not saved (the name typed is).
    Back at the intake, the page says so, and the change can be made there, asked about."""
    client = ClientFactory(clinic=alice.clinic)
    client.care_team.add(alice.user)
    intake = IntakeFactory(client=client, current_step="about")
    intake.answers = {
        **intake.answers,
        "about": {"work_focus": "central"},
        "work_context": {"work_types": ["massage"]},
    }
    intake.save()
    sign_in(page, alice)
    page.goto(f"/intakes/{intake.pk}/")
    page.wait_for_url("**/step/about/")
    page.get_by_label("Not something I want to focus on now").check()
    page.get_by_label("What would you like to be called?").fill("Jo")
    page.get_by_role("link", name="Quick exit").click()
    page.wait_for_url("**/away/")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not intake.held_back:
        time.sleep(0.2)
        intake.refresh_from_db()
    assert intake.answers["about"] == {"work_focus": "central", "preferred_name": "Jo"}
    assert intake.answers["work_context"] == {"work_types": ["massage"]}

    sign_in(page, alice)
    page.goto(f"/intakes/{intake.pk}/")
    page.wait_for_url("**/step/about/")
    assert_accessible(page)
    note = page.locator("#held-back-summary").inner_text()
    assert "When you left this page quickly, not everything on it was saved." in note
    assert "How much does your work have to do with what you'd like to work on here?" in note
    assert "it would remove answers you gave on other pages" in note
    assert "massage" not in note.lower()  # the question only, never an answer
    assert page.get_by_label("It's central to what I'd like to work on").is_checked()
    assert page.get_by_label("What would you like to be called?").input_value() == "Jo"
    # Made again, it is asked about first, then saved; the note has done its work.
    page.get_by_label("Not something I want to focus on now").check()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Save the change and remove those answers").click()
    page.wait_for_url("**/step/goals/")
    intake.refresh_from_db()
    assert intake.answers["about"] == {"work_focus": "not_now", "preferred_name": "Jo"}
    assert "work_context" not in intake.answers
    assert intake.held_back == {}
    page.get_by_role("button", name="Back").click()
    page.wait_for_url("**/step/about/")
    assert page.locator("#held-back-summary").count() == 0


def test_save_and_finish_later_lands_on_a_neutral_page(page, alice) -> None:
    sign_in(page, alice)
    ClientFactory(clinic=alice.clinic, display_name="Another Person")
    page.goto("/")
    intake = start(page, "Morgan", "individual")
    consent(page, "Write down what I share")
    page.get_by_role("button", name="Save and finish later").click()
    page.wait_for_url(f"**/intakes/{intake.pk}/paused/")
    assert_accessible(page)
    screen = shown(page)
    assert "Another Person" not in screen
    assert "Morgan" not in screen
    assert "consultation" not in screen.lower()
    page.get_by_role("link", name="Carry on").click()
    page.wait_for_url("**/step/consent/")


def test_who_sees_this_on_screen_matches_who_can_read(page, alice, bob, admin_ann) -> None:
    sign_in(page, alice)
    intake = start(page, "Jo", "individual")
    page.get_by_text("Why we ask").first.click()
    text = page.locator("details.why").first.inner_text()
    assert "only if you both choose" not in text
    for persona in (alice, bob, admin_ann):
        can_read = persona.api.get(f"/api/v1/intakes/{intake.pk}/").status_code == 200
        assert (persona.user.username in text) is can_read


def test_a_couple_is_told_each_partner_sees_the_joint_answers(page, alice) -> None:
    """On a couple's joint page, "who sees this" names the other partner too (they read the
    joint answers on the shared screen, the review and the plan); a private check's says never."""
    sign_in(page, alice)
    intake = start(page, "Ash and Kit", "couple")
    page.get_by_text("Why we ask").first.click()
    joint = page.locator("details.why").first.inner_text()
    assert "You both (each of you sees what the other answers)" in joint
    assert alice.user.username in joint
    intake.answers = {**intake.answers, "about": {"partner_a_name": "Ash", "partner_b_name": "Kit"}}
    intake.save()
    page.goto(f"/intakes/{intake.pk}/private/private_check_a/")
    # Named as the couple asked to be called, so the clinician knows who to take it with.
    assert (
        page.get_by_role("heading", level=1).inner_text()
        == "Private check with Ash (the first person)"
    )
    # Read by Ash alone: nothing on it leads to Kit's answers or the clinician's reflection.
    assert page.get_by_role("link", name="Private check with Kit (the second person)").count() == 0
    assert page.get_by_role("link", name="Clinician's private reflection").count() == 0
    page.get_by_text("Why we ask").first.click()
    private = page.locator("details.why").first.inner_text()
    assert "Never the partner" in private
    assert "You both" not in private
