"""The plan editor in a real browser: one save for the whole page, nothing lost, nothing
preselected, agreement to the text as edited, and a second editor who is told what changed."""

import pytest

from plans.models import PlanStep, TreatmentPlan
from plans.selectors import content_sha256, plan_representation, with_contents
from tests.browser.conftest import assert_accessible, assert_descriptions_resolve
from tests.browser.test_wizard_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def plan(persona_plan):
    plan = persona_plan("continuing")
    goal = plan.goals.get()
    for i, who in enumerate(("client", "peer", "clinician")):
        PlanStep.objects.create(goal=goal, position=i, description=f"Step {i + 1}", who=who)
    return plan


def fresh(plan) -> TreatmentPlan:
    return with_contents(TreatmentPlan.objects.filter(pk=plan.pk)).get()


def open_plan(page, persona, plan) -> None:
    sign_in(page, persona)
    page.goto(f"/plans/{plan.pk}/")


def save(page) -> None:
    page.get_by_role("button", name="Save the plan").click()
    page.wait_for_load_state()


def test_editing_one_field_saves_it_and_nothing_else(page, alice, plan) -> None:
    open_plan(page, alice, plan)
    assert_accessible(page)
    assert_descriptions_resolve(page)  # the goals' help texts included
    # Nothing that records a decision is preselected; saved steps show their own choice.
    whos = page.locator("[data-goal='0'] select[name$='-who']")
    assert [whos.nth(i).input_value() for i in range(whos.count())] == [
        "client",
        "peer",
        "clinician",
    ]
    assert page.locator("input[name='agreement-client_decision']:checked").count() == 0
    # The page is short enough to follow together on a shared screen.
    assert page.evaluate("document.documentElement.scrollHeight") < 3000
    page.get_by_label("If things get hard (the client's own back-up plan)").fill("Call Jo")
    save(page)
    assert page.get_by_text("Saved.").is_visible()
    saved = fresh(plan)
    assert saved.safety_plan == "Call Jo"
    assert [g.client_words for g in saved.goals.all()] == ["Feel less drained after shifts"]
    assert [s.who for s in saved.goals.get().steps.all()] == ["client", "peer", "clinician"]
    assert saved.client_decision == ""


def test_a_fourth_and_fifth_step_and_another_goal(page, alice, plan) -> None:
    open_plan(page, alice, plan)
    goal = page.locator("[data-goal='0']")
    goal.get_by_role("button", name="Add a step").click()
    assert goal.locator("[name='goal-0-step-4-who']").input_value() == ""  # not preselected
    goal.locator("[name='goal-0-step-4-description']").fill("Step 4")
    goal.locator("[name='goal-0-step-4-who']").select_option("client")
    goal.get_by_role("button", name="Add a step").click()
    goal.locator("[name='goal-0-step-5-description']").fill("Step 5")
    goal.locator("[name='goal-0-step-5-who']").select_option("peer")
    page.get_by_role("button", name="Add a goal").click()
    new_goal = page.locator("[data-goal='2'] textarea[name='goal-2-client_words']")
    new_goal.fill("Sleep before 1am")
    assert page.get_by_text("16 of 500 characters").is_visible()  # the counter
    save(page)
    assert page.get_by_text("Saved.").is_visible()
    saved = fresh(plan)
    goals = list(saved.goals.all())
    assert [g.client_words for g in goals] == ["Feel less drained after shifts", "Sleep before 1am"]
    assert [s.description for s in goals[0].steps.all()] == [f"Step {i}" for i in range(1, 6)]
    assert goals[1].steps.count() == 0  # its empty step row was ignored


def test_edit_a_goal_and_record_agreement_in_the_same_save(page, alice, plan) -> None:
    open_plan(page, alice, plan)
    page.locator("textarea[name='goal-0-client_words']").fill("Feel rested after shifts")
    page.get_by_label("I agree with this plan").check()
    page.get_by_label("Client's signature", exact=False).fill("River")
    save(page)
    assert page.get_by_text("Saved.").is_visible()
    assert page.locator("textarea[name='goal-0-client_words']").input_value() == (
        "Feel rested after shifts"
    )
    saved = fresh(plan)
    rep = plan_representation(saved)
    assert rep["goals"][0]["client_words"] == "Feel rested after shifts"
    assert saved.status == "agreed"
    assert saved.agreement_version == saved.version
    assert saved.agreement_sha256 == content_sha256(rep)
    assert saved.client_signed_name == "River"


def test_an_error_is_shown_at_the_field_and_in_a_summary(page, alice, plan) -> None:
    open_plan(page, alice, plan)
    page.get_by_role("button", name="Add a step").first.click()
    page.locator("[name='goal-0-step-4-description']").fill("A new step, no one chosen yet")
    save(page)
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    summary.get_by_role("link").first.click()
    assert page.get_by_text("Choose who does this step.").first.is_visible()
    # What was typed is still there.
    assert page.locator("[name='goal-0-step-4-description']").input_value() == (
        "A new step, no one chosen yet"
    )
    assert_accessible(page)
    assert_descriptions_resolve(page)
    assert fresh(plan).goals.get().steps.count() == 3


def both_open(chromium, live_server, plan, *personas) -> list:
    """The plan page open in one browser each, both before either saves."""
    plan.client.care_team.add(*(p.user for p in personas))  # all of the client's care team
    pages = []
    for persona in personas:
        context = chromium.new_context(base_url=live_server.url, bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(15_000)
        open_plan(page, persona, plan)
        pages.append(page)
    return pages


def test_two_editors_the_second_is_told_what_changed(chromium, live_server, alice, bob, plan):
    """Each is told only what was edited: the fields the browser sends back untouched (a
    textarea's line breaks come back as CRLF, a one-line box drops a stored line break) are
    neither saved over nor listed as anyone's change."""
    goal = plan.goals.get()
    goal.client_words = "Rest more\nSee my sister on Sundays"
    goal.save()
    step = goal.steps.get(position=0)
    step.description = "Walk\nin the park"  # saved by an older API client
    step.save()
    first, second = pages = both_open(chromium, live_server, plan, alice, bob)
    first.get_by_label("If things get hard (the client's own back-up plan)").fill("Alice's words")
    second.get_by_label("If things get hard (the client's own back-up plan)").fill("Bob's words")
    save(first)
    save(second)
    assert second.get_by_role("heading", name="Someone else saved this plan").is_visible()
    diff = second.locator("table.diff")
    assert diff.get_by_text("Alice's words").is_visible()
    assert second.get_by_label("Your edit: If things get hard", exact=False).input_value() == (
        "Bob's words"
    )
    assert diff.locator("tbody tr").count() == 1  # Alice changed that one part only
    assert second.locator("dl.yours dt").all_inner_texts() == [
        "If things get hard (the client's own back-up plan)"
    ]
    # The form now shows the saved plan; nothing was overwritten.
    field = second.get_by_label("If things get hard (the client's own back-up plan)", exact=True)
    assert field.input_value() == "Alice's words"
    saved = fresh(plan)
    assert saved.safety_plan == "Alice's words"
    assert saved.goals.get().client_words == "Rest more\nSee my sister on Sundays"
    assert saved.goals.get().steps.get(position=0).description == "Walk\nin the park"
    for page in pages:
        page.context.close()


def test_two_editors_of_different_parts_are_both_saved(chromium, live_server, alice, bob, plan):
    """Alice changes the back-up plan, Bob (on a page opened before her save) the goal's
    restatement: both are saved, nothing else is rewritten (the goal's words with a line break
    come back from Bob's browser untouched), and Bob is told what Alice changed."""
    goal = plan.goals.get()
    goal.client_words = "Rest more\nSee my sister on Sundays"
    goal.save()
    first, second = pages = both_open(chromium, live_server, plan, alice, bob)
    first.get_by_label("If things get hard (the client's own back-up plan)").fill("Alice's words")
    save(first)
    second.get_by_text("Clinician's restatement and date").first.click()  # folded away
    second.get_by_label("Clinician's restatement").first.fill("Rest and family contact")
    save(second)
    said = second.locator(".messages").inner_text()
    assert "Someone else saved this plan while you had it open" in said
    assert "Back-up plan" in said
    assert not second.get_by_role("heading", name="Someone else saved this plan").is_visible()
    assert (
        second.get_by_label("If things get hard (the client's own back-up plan)").input_value()
        == "Alice's words"
    )
    assert_accessible(second)
    saved = fresh(plan)
    assert saved.safety_plan == "Alice's words"
    assert saved.goals.get().clinical_restatement == "Rest and family contact"
    assert saved.goals.get().client_words == "Rest more\nSee my sister on Sundays"
    assert [s.description for s in saved.goals.get().steps.all()] == ["Step 1", "Step 2", "Step 3"]
    for page in pages:
        page.context.close()


def test_quick_exit_from_the_editor_keeps_what_was_typed_for_later(page, alice, plan) -> None:
    """Typing in the editor, then Escape twice on a shared screen: the page is gone at once,
    and what was typed is offered back on the next visit, saved only by the clinician's Save."""
    open_plan(page, alice, plan)
    page.locator("[name='safety_plan']").fill("Text Jo; the peer line after 6pm")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url("**/away/")
    assert fresh(plan).safety_plan != "Text Jo; the peer line after 6pm"
    open_plan(page, alice, plan)
    notice = page.get_by_role("region", name="You left this plan with changes not saved")
    assert notice.is_visible()
    assert_accessible(page)
    notice.get_by_role("link", name="Show my unsaved changes").click()
    page.wait_for_load_state()
    assert page.locator("[name='safety_plan']").input_value() == "Text Jo; the peer line after 6pm"
    save(page)
    assert fresh(plan).safety_plan == "Text Jo; the peer line after 6pm"
    assert not page.get_by_text("You left this plan with changes not saved").is_visible()


def test_a_spanish_clients_plan_is_gone_through_in_spanish(page, alice, plan) -> None:
    """A Spanish-speaking client reads the plan page with their clinician: in Spanish (checked
    with axe-core), with no English words of the page's own, the counter and the saved message
    too; the clinician can show it in English, and it stays so after a save."""
    from tests.i18n.test_spanish import ENGLISH_ONLY, _words

    plan.client.language = "es"
    plan.client.save()
    open_plan(page, alice, plan)
    assert page.get_by_role("heading", name="Plan de cuidado de River").is_visible()
    assert_accessible(page)
    assert_descriptions_resolve(page)
    own = _words(str(plan_representation(fresh(plan))))  # the plan's own words, e.g. "Step 1"
    screen = page.locator("main").inner_text()
    assert not (_words(screen) & ENGLISH_ONLY) - own, screen
    box = page.get_by_label(
        "Si las cosas se ponen difíciles (el plan propio de la persona atendida)"
    )
    box.fill("Llamar a Jo")
    assert page.get_by_text("11 de 4000 caracteres").is_visible()
    page.get_by_role("button", name="Guardar el plan").click()
    page.wait_for_load_state()
    assert page.get_by_text("Guardado.").is_visible()
    assert fresh(plan).safety_plan == "Llamar a Jo"
    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"**/plans/{plan.pk}/?lang=en")
    assert page.get_by_role("heading", name="Care plan for River").is_visible()
    page.get_by_label("If things get hard (the client's own back-up plan)").fill("Llamar a Ana")
    save(page)
    assert page.url.endswith(f"/plans/{plan.pk}/?lang=en")
    assert page.get_by_text("Saved.").is_visible()
    assert page.get_by_role("link", name="Español").is_visible()


def test_showing_the_page_in_english_keeps_what_was_typed(page, alice, plan) -> None:
    """Switching the page's language in the middle of a session loses nothing: what was typed
    comes back, in English, to save (it was dropped), and is kept from there on too."""
    plan.client.language = "es"
    plan.client.save()
    open_plan(page, alice, plan)
    page.get_by_label(
        "Si las cosas se ponen difíciles (el plan propio de la persona atendida)"
    ).fill("Llamar a mi hermana")
    page.get_by_role("link", name="English").click()
    page.wait_for_url(f"**/plans/{plan.pk}/?lang=en&draft=1")
    box = page.get_by_label("If things get hard (the client's own back-up plan)")
    assert box.input_value() == "Llamar a mi hermana"
    assert fresh(plan).safety_plan == ""  # not saved yet: a draft for its author
    page.get_by_role("link", name="Español").click()  # the draft shown: it goes along
    page.wait_for_url(f"**/plans/{plan.pk}/?lang=es&draft=1")
    assert (
        page.get_by_label(
            "Si las cosas se ponen difíciles (el plan propio de la persona atendida)"
        ).input_value()
        == "Llamar a mi hermana"
    )
    page.get_by_role("button", name="Guardar el plan").click()
    page.wait_for_load_state()
    assert fresh(plan).safety_plan == "Llamar a mi hermana"


def test_a_spanish_couple_read_their_plan_page_said_to_both(page, alice, persona_plan) -> None:
    """A Spanish-speaking couple read the plan page with their clinician: in Spanish (axe-core),
    the decision and the signatures theirs together, nothing in English of the page's own."""
    from tests.i18n.test_spanish import ENGLISH_ONLY, _words

    plan = persona_plan("couple")
    plan.client.language = "es"
    plan.client.save()
    open_plan(page, alice, plan)
    assert page.get_by_role("heading", name="Plan de cuidado de Sam y Alex").is_visible()
    assert_accessible(page)
    decision = page.get_by_role("group", name="La decisión de la pareja sobre este plan")
    assert decision.get_by_label("Estamos de acuerdo con este plan").is_visible()
    own = _words(str(plan_representation(fresh(plan))))
    screen = page.locator("main").inner_text()
    assert not (_words(screen) & ENGLISH_ONLY) - own, screen
    decision.get_by_label("Estamos de acuerdo con este plan").check()
    page.get_by_label(
        "Sus firmas: los dos nombres tal como los quieren en el plan (opcional)"
    ).fill("Sam y Alex")
    page.get_by_role("button", name="Guardar el plan").click()
    page.wait_for_load_state()
    saved = fresh(plan)
    assert (saved.client_decision, saved.client_signed_name) == ("agrees", "Sam y Alex")
    assert page.get_by_text("“Estamos de acuerdo con este plan”, firmada «Sam y Alex»").is_visible()
