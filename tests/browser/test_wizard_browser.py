"""Whole intakes in a real browser, with an axe-core check on every wizard page."""

import pytest

from intake.models import Intake
from plans.models import TreatmentPlan
from tests.browser.conftest import assert_accessible, assert_descriptions_resolve

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, persona) -> None:
    page.goto("/login/")
    assert_accessible(page)
    page.get_by_label("Username").fill(persona.user.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def start(page, name: str, kind: str) -> None:
    assert_accessible(page)
    page.get_by_label("Name the client would like to use").fill(name)
    page.get_by_label(kind.title(), exact=True).check()
    page.get_by_role("button", name="Start with a new client").click()
    page.wait_for_url("**/step/consent/")


def next_step(page, expected: str) -> None:
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url(f"**/step/{expected}/")
    assert_accessible(page)


def give_consent(page, couple: bool = False) -> None:
    assert_accessible(page)
    if couple:  # both partners' consent, in the couple's own words
        page.get_by_label("explained confidentiality and its limits to each of us").check()
        page.get_by_label("Write down only what our plan needs").check()
    else:
        page.get_by_label("My clinician has explained confidentiality").check()
        page.get_by_label("Write down only what my plan needs").check()
    next_step(page, "about")


CHANGE_WHAT = "Is there anything you'd like to change about how or where you work, and how?"


def to_what_to_change(page) -> str:
    """From consent to the work-safety page, having chosen to change how or where they work;
    the change typed ("Work from a shared flat") and "With the police" ticked, not yet saved."""
    give_consent(page)
    page.get_by_label("It's part of it").check()
    next_step(page, "goals")
    page.get_by_label("Item 1", exact=True).fill("Sleep better")
    for step in ("work_context", "precautions", "stigma_coping", "work_plans"):
        next_step(page, step)
    page.get_by_label("Change how or where I work").check()
    next_step(page, "harm_reduction")
    page.get_by_label(CHANGE_WHAT).fill("Work from a shared flat")
    page.get_by_label("With the police").check()
    return CHANGE_WHAT


def test_individual_intake_where_work_is_part_of_it(page, alice) -> None:
    sign_in(page, alice)
    page.get_by_label("Pronouns").fill("she/her")
    start(page, "Wren", "individual")
    give_consent(page)
    # The pronouns typed at the start are offered here, for the client to keep or change.
    assert page.get_by_label("Your pronouns").input_value() == "she/her"
    page.get_by_label("If you do sex work, what do you call your work?").fill("dancing")
    page.get_by_label("It's part of it").check()
    next_step(page, "goals")
    assert page.get_by_text("Step 3 of 9").is_visible()
    page.get_by_label("Item 1", exact=True).fill("Feel OK about saying no")
    page.get_by_label("Item 2", exact=True).fill("save for a flat")
    next_step(page, "work_context")
    assert page.get_by_text("What kinds of work do you do?").is_visible()
    assert "kinds of dancing" not in page.locator("main").inner_text()
    page.get_by_label("Dancing or stripping").check()
    next_step(page, "precautions")
    page.get_by_label("Support from peers").check()
    next_step(page, "stigma_coping")
    next_step(page, "work_plans")
    direction = page.get_by_role("group", name="What would you like for your work, for now?")
    assert direction.get_by_role("radio").count() == 7
    assert direction.locator("input:checked").count() == 0  # nothing preselected
    page.get_by_label("Keep going as I am").check()
    # harm reduction, not exit planning: the client did not choose to leave
    next_step(page, "harm_reduction")
    # nor asked what they would change about how or where they work: they keep going as they are
    assert "change about how or where you work" not in page.locator("main").inner_text()
    page.get_by_label("Keeping the boundaries I want").check()
    page.get_by_role("button", name="Back").click()
    page.wait_for_url("**/step/work_plans/")
    assert page.get_by_label("Keep going as I am").is_checked()
    next_step(page, "harm_reduction")
    assert page.get_by_label("Keeping the boundaries I want").is_checked()
    next_step(page, "supports")
    page.get_by_label("Housing").check()
    next_step(page, "review")  # the reflection is on the clinician's own page
    assert page.get_by_text("Feel OK about saying no").is_visible()
    assert page.get_by_text("she/her").is_visible()
    page.get_by_label("We've read this together").check()
    page.get_by_role("button", name="Finish and draft the plan").click()
    page.wait_for_url("**/plans/*/")
    assert page.get_by_text("save for a flat").is_visible()
    plan = TreatmentPlan.objects.get()
    assert [g.client_words for g in plan.goals.all()] == [
        "Feel OK about saying no",
        "save for a flat",
    ]
    intake = Intake.objects.get()
    assert intake.answers["work_context"] == {"work_types": ["dancing"]}
    assert intake.answers["harm_reduction"] == {"occupational_health": ["boundaries"]}
    assert "exit_planning" not in intake.answers


def test_changing_to_keep_going_lets_the_change_they_named_go_and_says_so(page, alice) -> None:
    sign_in(page, alice)
    start(page, "Rue", "individual")
    question = to_what_to_change(page)
    next_step(page, "supports")
    change_what = Intake.objects.get().answers["harm_reduction"]["change_what"]
    assert change_what == "Work from a shared flat"

    page.get_by_role("button", name="Your plans for your work").click()
    page.wait_for_url("**/step/work_plans/")
    page.get_by_label("Keep going as I am").check()
    # Asked first: the change would delete what they named; nothing is saved yet.
    next_step(page, "work_plans")
    alert = page.get_by_role("alert").inner_text()
    assert "saving it removes them" in alert
    assert "Looking after yourself" in alert  # the page whose answer would go, by its title
    assert "shared flat" not in alert  # named by page, without repeating what was said
    assert page.evaluate("document.activeElement.id") == "removal-summary"
    # Enter in the form presses the page's own button, never the confirmation.
    first = page.evaluate("document.querySelector('#wizard-form [type=submit]').textContent")
    assert first.strip() == "Save and continue"
    assert page.get_by_label("Keep going as I am").is_checked()  # what was chosen, kept
    saved = Intake.objects.get().answers
    assert saved["harm_reduction"]["change_what"] == "Work from a shared flat"
    assert saved["work_plans"]["work_direction"] == "change_conditions"
    page.get_by_role("button", name="Save the change and remove those answers").click()
    page.wait_for_url("**/step/harm_reduction/")
    assert_accessible(page)
    status = page.get_by_role("status").inner_text()
    assert "some answers you gave on other pages no longer apply, so they were removed" in status
    assert "shared flat" not in status  # said without repeating what was said
    assert page.get_by_label(question).count() == 0
    assert page.get_by_label("With the police").is_checked()  # the rest of the page is kept
    assert Intake.objects.get().answers["harm_reduction"] == {"rights": ["police"]}


def test_a_tab_left_open_shows_its_words_instead_of_dropping_them(page, alice) -> None:
    """Two tabs on one intake: the second changes the plan for work to "keep going as I am"
    while the first still asks what they would change. The first tab's save stops, says why,
    and keeps the words to read (folded away: the screen may be shared)."""
    sign_in(page, alice)
    start(page, "Sol", "individual")
    question = to_what_to_change(page)

    other = page.context.new_page()
    other.goto(page.url.replace("harm_reduction", "work_plans"))
    other.get_by_label("Keep going as I am").check()
    other.get_by_role("button", name="Save and continue").click()
    other.wait_for_url("**/step/harm_reduction/")
    other.close()

    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/step/harm_reduction/")
    alert = page.get_by_role("alert")
    assert "Nothing on this page was saved yet." in alert.inner_text()
    assert "a question on this page no longer applies" in alert.inner_text()
    assert_accessible(page)
    assert page.evaluate("document.activeElement.id") == "unasked-summary"
    assert page.get_by_label(question).count() == 0
    assert not page.get_by_text("Work from a shared flat").is_visible()  # folded away
    page.get_by_text("Your answer to").click()
    assert page.get_by_text("Work from a shared flat").is_visible()
    assert page.get_by_label("With the police").is_checked()
    assert "harm_reduction" not in Intake.objects.get().answers
    next_step(page, "supports")
    assert Intake.objects.get().answers["harm_reduction"] == {"rights": ["police"]}


def test_couple_intake_where_work_is_not_a_topic(page, alice) -> None:
    sign_in(page, alice)
    start(page, "Ash and Kit", "couple")
    assert page.get_by_text("How much would you both like written down?").is_visible()
    give_consent(page, couple=True)
    page.get_by_label("First person: what would you like to be called?").fill("Ash")
    page.get_by_label("Second person: what would you like to be called?").fill("Kit")
    page.get_by_label("Second person: pronouns").fill("they/them")
    next_step(page, "goals")
    page.get_by_label("Item 1", exact=True).fill("argue less")
    next_step(page, "partner")  # the couple choose their topics before anything about work
    topics = page.get_by_role("group", name="Which topics would you both like to work on?")
    assert topics.locator("input:checked").count() == 0
    assert not page.get_by_label("Sex work", exact=True).is_checked()
    page.get_by_label("Polyamorous").check()
    topics.get_by_label("Communication").check()
    page.get_by_label("Family or friends pulled away from me").check()
    # the worker's account belongs with work as a topic: typed without it, it is refused
    page.get_by_label("Only if you chose work as a topic").fill("It's just a job to me.")
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/step/partner/")
    # (at the field, and in the summary at the top)
    assert page.locator(".field .errors").get_by_text("only to the topics you chose").is_visible()
    page.get_by_label("Only if you chose work as a topic").fill("")
    next_step(page, "stigma_coping")
    main = page.locator("main").inner_text().lower()
    assert "sex" not in main
    assert "work self" not in main
    assert "either of you" in main
    next_step(page, "supports")
    next_step(page, "review")  # the reflection is on the clinician's own page
    page.get_by_label("We've read this together").check()
    page.get_by_role("button", name="Finish and draft the plan").click()
    page.wait_for_url("**/plans/*/")
    intake = Intake.objects.get()
    assert intake.answers["about"] == {
        "partner_a_name": "Ash",
        "partner_b_name": "Kit",
        "partner_b_pronouns": "they/them",
    }
    assert intake.answers["partner"]["couple_topics"] == ["communication"]
    assert intake.answers["partner"]["partner_stigma"] == ["cut_off"]
    assert "worker_description" not in intake.answers["partner"]


def test_escape_twice_is_a_quick_exit_with_the_csp_enforced(strict_page, alice) -> None:
    page = strict_page
    page.goto("/login/")
    page.get_by_label("Username").fill(alice.user.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    page.get_by_label("Name the client would like to use").fill("Quinn")
    page.get_by_role("button", name="Start with a new client").click()
    page.wait_for_url("**/step/consent/")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url("**/away/")
    assert page.title() == "Weather"
    assert not [e for e in page.csp_errors if "Content Security Policy" in e]
    page.go_back()
    assert "/step/" not in page.url or page.get_by_role("button", name="Sign in").is_visible()


def test_a_step_with_something_to_fix_says_what_where_focus_lands(page, alice) -> None:
    """Sent without what it needs, a step answers with a summary naming each field, focus on
    that summary (a keyboard or screen-reader user starts there), each link going to its
    field, and each field described by its own message."""
    sign_in(page, alice)
    start(page, "Wren", "individual")
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert "Nothing on this page was saved yet" in summary.inner_text()
    links = summary.get_by_role("link")
    assert links.count() >= 1
    first = links.first
    assert first.inner_text().split(":")[0].strip()  # names the field
    first.click()
    focused = page.evaluate("document.activeElement.id")
    assert focused == first.get_attribute("href").lstrip("#")
    assert page.locator("[aria-describedby$='_error']").count() >= 1
    assert_descriptions_resolve(page)
    assert_accessible(page)


def test_the_review_says_which_pronouns_the_plan_uses_when_about_you_was_skipped(
    page, alice
) -> None:
    """Jumping past "About you" without saving it: the review says the page is not filled in
    and which pronouns the plan uses meanwhile (the ones on record, which the PDF prints)."""
    from documents.context import plan_context

    sign_in(page, alice)
    page.get_by_label("Pronouns").fill("she/her")
    start(page, "Wren", "individual")
    page.get_by_label("My clinician has explained confidentiality").check()
    page.get_by_label("Write down only what my plan needs").check()
    nav = page.get_by_role("navigation", name="Steps")
    nav.get_by_role("button", name="What you'd like to work on").click()
    page.wait_for_url("**/step/goals/")
    page.get_by_label("Item 1", exact=True).fill("Sleep better")
    nav.get_by_role("button", name="Look over your answers").click()
    page.wait_for_url("**/step/review/")
    assert_accessible(page)
    about = page.get_by_role("heading", name="About you", exact=True)
    said = about.locator("xpath=following-sibling::*[1]").inner_text()
    assert said == (
        "Not filled in. Until you save this page, the plan uses the pronouns on your record: "
        "she/her."
    )
    page.get_by_label("We've read this together").check()
    page.get_by_role("button", name="Finish and draft the plan").click()
    page.wait_for_url("**/plans/*/")
    assert plan_context(TreatmentPlan.objects.get())["pronouns"] == "she/her"


def test_confidentiality_comes_first_and_the_page_says_so(page, alice) -> None:
    """A step chosen in the list before consent is confirmed leads back to the first page,
    which says why; nothing was written down."""
    sign_in(page, alice)
    start(page, "Wren", "individual")
    nav = page.get_by_role("navigation", name="Steps")
    nav.get_by_role("button", name="What you'd like to work on").click()
    page.wait_for_url("**/step/consent/")
    assert_accessible(page)
    assert page.get_by_text(
        "Confidentiality comes first: on this page your clinician explains it and you confirm "
        "it. Nothing else is written down until then."
    ).is_visible()
    assert Intake.objects.get().answers == {}
    give_consent(page)
    assert Intake.objects.get().answers["consent"]["confidentiality_explained"] is True


def test_every_goal_box_the_page_promises_is_there(page, alice) -> None:
    """The goals page says "Up to 10": three boxes, and the other seven behind "Add more", which
    works without a script; a fourth goal is kept word for word like the first three."""
    sign_in(page, alice)
    start(page, "Sky", "individual")
    give_consent(page)
    next_step(page, "goals")
    assert page.get_by_text("Up to 10.", exact=False).is_visible()
    assert not page.get_by_label("Item 4", exact=True).is_visible()
    goals = ["Sleep better", "Call my mum  on Sundays", "Save for a course", "Dance again"]
    for n, words in enumerate(goals[:3], start=1):
        page.get_by_label(f"Item {n}", exact=True).fill(words)
    page.get_by_text("Add more (up to 10 in all)").click()
    assert page.get_by_label("Item 10", exact=True).is_visible()
    assert_accessible(page)
    page.get_by_label("Item 4", exact=True).fill(goals[3])
    next_step(page, "stigma_coping")
    intake = Intake.objects.get()
    assert intake.answers["goals"]["client_goals"] == goals
    page.get_by_role("button", name="Back").click()
    page.wait_for_url("**/step/goals/")
    assert [page.get_by_label(f"Item {n}", exact=True).input_value() for n in range(1, 5)] == goals
    assert page.get_by_label("Item 5", exact=True).is_visible()  # one more box than are filled


def test_the_step_list_ticks_only_pages_with_something_answered(page, alice) -> None:
    """A page passed with nothing filled in is not ticked as done; one answered is."""
    sign_in(page, alice)
    start(page, "Rae", "individual")
    give_consent(page)
    next_step(page, "goals")  # "About you" passed with nothing filled in
    page.get_by_label("Item 1", exact=True).fill("Sleep better")
    next_step(page, "stigma_coping")
    steps = page.get_by_role("navigation", name="Steps")
    assert steps.get_by_role("button", name="Before we start (saved)").is_visible()
    assert steps.get_by_role("button", name="What you'd like to work on (saved)").is_visible()
    about = steps.get_by_role("button", name="About you", exact=True)
    assert about.is_visible()
    assert "done" not in (about.get_attribute("class") or "")
    assert Intake.objects.get().answers["goals"]["client_goals"] == ["Sleep better"]


def test_a_couples_questions_about_work_wait_for_each_private_check(page, alice) -> None:
    """A couple who choose work as a topic meet its questions only after the clinician has
    talked with each partner alone: until then a page says so (nothing about work on it), and
    the worker's account typed early stays on the page with a message at the box."""
    sign_in(page, alice)
    start(page, "Ash and Kit", "couple")
    give_consent(page, couple=True)
    next_step(page, "goals")
    page.get_by_label("Item 1", exact=True).fill("argue less")
    next_step(page, "partner")
    page.get_by_role("group", name="Which topics would you both like to work on?").get_by_label(
        "Sex work", exact=True
    ).check()
    account = page.get_by_label("Only if you chose work as a topic")
    account.fill("It's a job I chose.")
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/step/partner/")
    message = "This is asked once your clinician has talked with each of you on your own."
    assert page.locator(".field .errors").get_by_text(message).is_visible()
    assert account.input_value() == "It's a job I chose."
    account.fill("")
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/step/work_context/")
    assert_accessible(page)
    assert page.get_by_role("heading", name="Before the questions about work").is_visible()
    assert page.get_by_role("checkbox").count() == 0  # nothing asked yet
    page.get_by_role("link", name="Carry on").click()  # too soon: said so, not a silent reload
    page.wait_for_load_state()
    not_yet = "Not yet: your clinician still needs to talk with each of you on your own."
    assert page.get_by_role("status").get_by_text(not_yet).is_visible()
    page.get_by_role("link", name="Skip these questions for now").click()
    page.wait_for_url("**/step/stigma_coping/")  # the next page not about work
    page.go_back()
    page.wait_for_url("**/step/work_context/**")
    intake = Intake.objects.get()
    for _ in range(2):  # the clinician's way to each check, with each person alone
        page.get_by_role("link", name="For your clinician: the private checks").click()
        page.wait_for_url("**/private/private_check_*/")
        page.get_by_label("Yes", exact=True).check()
        page.get_by_role("button", name="Save").click()
        page.wait_for_url("**/private/private_check_*/?saved=1")
        assert page.get_by_text("Please hand the screen back to your clinician.").is_visible()
        page.goto(f"/intakes/{intake.pk}/step/work_context/")
    assert page.get_by_role("heading", name="Before the questions about work").count() == 0
    assert page.get_by_label("Massage").is_visible()
    intake.refresh_from_db()
    assert intake.answers["partner"]["couple_topics"] == ["sex_work"]
    assert "work_context" not in intake.answers


def test_the_review_shows_the_clients_words_as_typed(page, alice) -> None:
    """What the client confirms is what they wrote: each goal on its own (a goal with a ";" in
    it stays one goal), and a longer answer with its line breaks and blank lines."""
    sign_in(page, alice)
    start(page, "Noor", "individual")
    page.get_by_label("My clinician has explained confidentiality").check()
    page.get_by_label("Write down what I share").check()
    next_step(page, "about")
    page.get_by_label("It's not connected to why I came").check()
    next_step(page, "goals")
    page.get_by_label("Item 1", exact=True).fill("Sleep; eat better")
    page.get_by_label("Item 2", exact=True).fill("See my sister")
    brings = "Tired all the time.\n\n  Mostly after shifts."
    page.get_by_label("Anything else about what brings you here?").fill(brings)
    next_step(page, "stigma_coping")
    next_step(page, "supports")
    next_step(page, "review")
    goals = page.locator("section.review dd").filter(has_text="Sleep; eat better")
    assert goals.locator("li").all_inner_texts() == ["Sleep; eat better", "See my sister"]
    shown = page.locator("section.review .words").filter(has_text="Tired all the time.")
    assert shown.inner_text() == brings
    assert Intake.objects.get().answers["goals"]["what_brings_you"] == brings


def test_a_second_tab_saved_over_shows_what_it_held(page, alice) -> None:
    """Goals typed in a tab whose page was saved meanwhile in another are not lost: the page
    shows what is saved and, folded away, what this tab held, to copy back."""
    sign_in(page, alice)
    start(page, "Eli", "individual")
    give_consent(page)
    next_step(page, "goals")
    other = page.context.new_page()
    other.goto(page.url)
    other.get_by_label("Item 1", exact=True).fill("Saved in the other tab")
    other.get_by_role("button", name="Save and continue").click()
    other.wait_for_url("**/step/stigma_coping/")
    other.close()
    page.get_by_label("Item 1", exact=True).fill("Find a doctor who   doesn't judge")
    page.get_by_label("Item 2", exact=True).fill("Call Mum")
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url("**/step/goals/")
    alert = page.get_by_role("alert")
    assert "This page changed after it was opened here" in alert.inner_text()
    assert page.get_by_label("Item 1", exact=True).input_value() == "Saved in the other tab"
    alert.get_by_text("Your answer to").click()
    held = alert.locator("li.words").all_inner_texts()
    assert held == ["Find a doctor who   doesn't judge", "Call Mum"]
    assert_accessible(page)
    assert Intake.objects.get().answers["goals"]["client_goals"] == ["Saved in the other tab"]
