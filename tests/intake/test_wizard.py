"""Wizard walk-throughs: post whole steps and check which step comes next."""

import re

import pytest
from django.test import Client as Browser

from intake.models import Intake
from plans.models import TreatmentPlan
from tests.factories import IntakeFactory

pytestmark = pytest.mark.django_db


def visible_text(html: str) -> str:
    """The words a person sees: no tags, no attribute values (tokens, ids)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"<[^>]*>", " ", html)


def signed_in(persona) -> Browser:
    browser = Browser()
    browser.force_login(persona.user)
    return browser


def step_url(intake, step: str) -> str:
    return f"/intakes/{intake.pk}/step/{step}/"


def post_step(browser, intake, step: str, fields: dict, **extra):
    data = {f"intake_{intake.pk}-current_step": step, **extra}
    for name, value in fields.items():
        data[f"{step}-{name}"] = value
    return browser.post(step_url(intake, step), data)


@pytest.fixture
def intake(alice, alices_client) -> Intake:
    return IntakeFactory(client=alices_client)


def test_home_starts_an_intake_for_a_new_client_in_one_click(alice) -> None:
    browser = signed_in(alice)
    response = browser.post("/intakes/start/", {"display_name": "Wren", "kind": "couple"})
    intake = Intake.objects.get()
    assert response.url == step_url(intake, "consent")
    assert intake.kind == "couple"
    assert intake.client.display_name == "Wren"


def test_consent_must_be_ticked(alice, intake) -> None:
    browser = signed_in(alice)
    response = post_step(browser, intake, "consent", {"recording_preference": "full"})
    assert response.status_code == 200
    assert "Please tick this box to continue." in response.content.decode()


def test_steps_follow_the_conditions_and_back_works_after_skips(alice, intake) -> None:
    browser = signed_in(alice)
    r = post_step(
        browser,
        intake,
        "consent",
        {"confidentiality_explained": "on", "recording_preference": "minimal"},
    )
    assert r.url == step_url(intake, "about")
    r = post_step(browser, intake, "about", {"work_focus": "no"})
    assert r.url == step_url(intake, "goals")
    r = post_step(browser, intake, "goals", {"client_goals": ["rest more"]})
    assert r.url == step_url(intake, "stigma_coping")  # work steps skipped
    page = browser.get(r.url).content.decode()
    assert "Step 4 of 6" in page  # the reflection is not one of the client's steps
    # What the page says, not its markup: a random CSRF token can spell any three letters.
    assert "sex" not in visible_text(page.split("<main", 1)[1]).lower()
    back = post_step(browser, intake, "stigma_coping", {}, wizard_goto_step="goals")
    assert back.url == step_url(intake, "goals")


def test_work_focus_turns_work_steps_on(alice, intake) -> None:
    browser = signed_in(alice)
    post_step(
        browser,
        intake,
        "consent",
        {"confidentiality_explained": "on", "recording_preference": "full"},
    )
    post_step(browser, intake, "about", {"work_focus": "central", "work_term": "dancing"})
    r = post_step(browser, intake, "goals", {"client_goals": ["more money"]})
    assert r.url == step_url(intake, "work_context")
    page = browser.get(r.url).content.decode()
    assert "What kinds of work do you do?" in page
    assert "kinds of dancing" not in page  # the client's term is never slotted into grammar
    assert "Step 4 of 9" in page


def _with_work_as_a_topic(browser, intake) -> None:
    post_step(
        browser,
        intake,
        "consent",
        {"confidentiality_explained": "on", "recording_preference": "full"},
    )
    post_step(browser, intake, "about", {"work_focus": "central"})
    post_step(browser, intake, "goals", {"client_goals": ["more money"]})


@pytest.mark.parametrize(
    ("how", "lands"),
    [
        ({}, "goals"),
        ({"wizard_goto_step": "consent"}, "consent"),
        ({"save_and_leave": "1"}, "paused"),
    ],
)
def test_a_change_that_would_delete_other_pages_answers_asks_first(
    alice, intake, how, lands
) -> None:
    """Work no longer a topic switches its pages off: nothing is saved (nor deleted) until the
    client confirms, having been told which pages' answers would go; the confirmation then
    does what the first button asked (continue, back, or leave)."""
    browser = signed_in(alice)
    _with_work_as_a_topic(browser, intake)
    post_step(browser, intake, "work_context", {"work_types": ["massage"]})
    post_step(browser, intake, "precautions", {})  # saved blank: nothing there to lose
    asked = post_step(browser, intake, "about", {"work_focus": "not_now"}, **how)
    assert asked.status_code == 200
    page = visible_text(asked.content.decode())
    assert "saving it removes them:" in page
    warning = page.split("saving it removes them:", 1)[1].split("To go ahead", 1)[0]
    # The precautions page was left blank: nothing there to lose, so not named.
    assert " ".join(warning.split()) == "About your work (everything on it)"
    assert "Save the change and remove those answers" in page
    intake.refresh_from_db()
    assert intake.answers["work_context"] == {"work_types": ["massage"]}
    assert intake.answers["about"] == {"work_focus": "central"}
    action = re.search(r'name="confirm_removal" value="([^"]+)"', asked.content.decode())
    assert action is not None
    done = post_step(
        browser, intake, "about", {"work_focus": "not_now"}, confirm_removal=action.group(1)
    )
    assert done.status_code == 302
    assert done.url.rstrip("/").endswith(lands)
    intake.refresh_from_db()
    assert "work_context" not in intake.answers
    assert intake.answers["about"] == {"work_focus": "not_now"}


def test_a_confirmation_is_for_the_loss_it_named_only(alice, intake) -> None:
    """Asked about one change, the client chose another that takes more before pressing the
    button: the button does not save it unasked; it is asked about afresh, naming the rest.
    A single answer is counted as such, not as its whole page."""
    browser = signed_in(alice)
    _with_work_as_a_topic(browser, intake)
    post_step(browser, intake, "work_plans", {"work_direction": "change_conditions"})
    post_step(browser, intake, "harm_reduction", {"change_what": "A shared flat"})
    post_step(browser, intake, "work_context", {"work_types": ["massage"]})
    asked = post_step(browser, intake, "work_plans", {"work_direction": "continue"})
    warning = visible_text(asked.content.decode())
    assert "Looking after yourself in your work (one answer)" in " ".join(warning.split())
    action = re.search(r'name="confirm_removal" value="([^"]+)"', asked.content.decode())
    assert action is not None
    # Before pressing it, "Stop doing it": exit planning instead, the whole page goes.
    again = post_step(
        browser, intake, "work_plans", {"work_direction": "leave"}, confirm_removal=action.group(1)
    )
    assert again.status_code == 200
    assert "saving it removes them" in visible_text(again.content.decode())
    intake.refresh_from_db()
    assert intake.answers["work_plans"] == {"work_direction": "change_conditions"}
    assert intake.answers["harm_reduction"] == {"change_what": "A shared flat"}


def test_a_change_that_deletes_nothing_is_saved_without_asking(alice, intake) -> None:
    """Work pages switched off but never answered: no question, saved at once."""
    browser = signed_in(alice)
    _with_work_as_a_topic(browser, intake)
    saved = post_step(browser, intake, "about", {"work_focus": "not_now"})
    assert saved.status_code == 302
    intake.refresh_from_db()
    assert intake.answers["about"] == {"work_focus": "not_now"}


def _to_harm_reduction(browser, intake, direction: str) -> None:
    _with_work_as_a_topic(browser, intake)
    post_step(browser, intake, "work_plans", {"work_direction": direction})


@pytest.mark.parametrize("how", ["next", "back", "save_and_leave"])
def test_a_page_left_open_never_drops_an_answer_switched_off_meanwhile_unseen(
    alice, intake, how
) -> None:
    """One tab shows "what would you like to change" (the client chose to change how they
    work); in another tab the answer becomes "keep going as I am". The first tab's words are
    neither saved against that answer nor dropped without a word: nothing on the page is saved,
    and the page comes back without the question, saying so, with the words kept to read."""
    browser = signed_in(alice)
    _to_harm_reduction(browser, intake, "change_conditions")
    post_step(browser, intake, "work_plans", {"work_direction": "continue"})  # the other tab
    extra = {"back": {"wizard_goto_step": "work_plans"}, "save_and_leave": {"save_and_leave": "1"}}
    response = post_step(
        browser,
        intake,
        "harm_reduction",
        {"change_what": "Work from a shared flat", "rights": ["police"]},
        **extra.get(how, {}),
    )
    assert response.status_code == 200  # the page again, not on to the next one
    page = response.content.decode()
    text = visible_text(page)
    assert "Nothing on this page was saved yet." in text
    assert "a question on this page no longer applies" in text
    assert 'name="harm_reduction-change_what"' not in page  # no longer asked
    assert re.search(r"<details><summary>Your answer to .+ work, and how\?", page)
    assert "Work from a shared flat" in text  # behind "What you wrote", not lost
    assert re.search(r'value="police"[^>]*checked', page)  # the rest as it was typed
    intake.refresh_from_db()
    assert "harm_reduction" not in intake.answers

    again = post_step(browser, intake, "harm_reduction", {"rights": ["police"]})
    assert again.status_code == 302
    intake.refresh_from_db()
    assert intake.answers["harm_reduction"] == {"rights": ["police"]}


@pytest.mark.parametrize("how", ["next", "back", "save_and_leave"])
def test_a_page_switched_off_in_another_tab_says_nothing_on_it_was_saved(
    alice, intake, how
) -> None:
    browser = signed_in(alice)
    _to_harm_reduction(browser, intake, "change_conditions")
    post_step(browser, intake, "work_plans", {"work_direction": "leave"})  # the other tab
    extra = {"back": {"wizard_goto_step": "work_plans"}, "save_and_leave": {"save_and_leave": "1"}}
    response = post_step(
        browser, intake, "harm_reduction", {"rights": ["police"]}, **extra.get(how, {})
    )
    assert response.status_code == 302
    if how == "save_and_leave":  # leaving: the neutral page asked for, not the next topic
        assert response.url == f"/intakes/{intake.pk}/paused/"
    text = visible_text(browser.get(response.url).content.decode())
    assert "the page you were on no longer applies. Nothing on it was saved." in text
    intake.refresh_from_db()
    assert "harm_reduction" not in intake.answers


def test_a_page_left_open_never_saves_over_a_newer_save_of_it(alice, intake) -> None:
    """Two tabs on "your plans for your work": the second saves "keep going as I am"; the first,
    still showing "change how or where I work", is saved after it. The newer answer stays, and
    the first tab is shown the page as saved now, told why."""
    browser = signed_in(alice)
    _to_harm_reduction(browser, intake, "change_conditions")
    page = browser.get(step_url(intake, "work_plans")).content.decode()
    seen = re.search(r'name="seen" value="([0-9a-f]+)"', page).group(1)
    other = post_step(  # the second tab, shown the same page, saves first
        browser, intake, "work_plans", {"work_direction": "continue"}, seen=seen
    )
    assert other.status_code == 302
    stale = post_step(
        browser, intake, "work_plans", {"work_direction": "change_conditions"}, seen=seen
    )
    assert stale.status_code == 200
    text = visible_text(stale.content.decode())
    assert "This page changed after it was opened here" in text
    assert re.search(r'value="continue"[^>]*checked', stale.content.decode())  # as saved now
    intake.refresh_from_db()
    assert intake.answers["work_plans"] == {"work_direction": "continue"}
    fresh = re.search(r'name="seen" value="([0-9a-f]+)"', stale.content.decode()).group(1)
    again = post_step(browser, intake, "work_plans", {"work_direction": "undecided"}, seen=fresh)
    assert again.status_code == 302  # seen as it is now: saved
    intake.refresh_from_db()
    assert intake.answers["work_plans"] == {"work_direction": "undecided"}


def test_an_answer_left_blank_on_a_page_left_open_is_no_reason_to_stop(alice, intake) -> None:
    browser = signed_in(alice)
    _to_harm_reduction(browser, intake, "change_conditions")
    post_step(browser, intake, "work_plans", {"work_direction": "continue"})
    response = post_step(
        browser, intake, "harm_reduction", {"change_what": "  ", "rights": ["police"]}
    )
    assert response.status_code == 302
    intake.refresh_from_db()
    assert intake.answers["harm_reduction"] == {"rights": ["police"]}


def test_jumping_to_another_step_keeps_what_was_typed(alice, intake) -> None:
    browser = signed_in(alice)
    browser.get(step_url(intake, "goals"))
    r = post_step(
        browser, intake, "goals", {"client_goals": ["keep this"]}, wizard_goto_step="consent"
    )
    assert r.url == step_url(intake, "consent")
    intake.refresh_from_db()
    assert intake.answers["goals"] == {"client_goals": ["keep this"]}


def test_resume_from_another_browser_goes_to_the_saved_step(alice, intake) -> None:
    first = signed_in(alice)
    post_step(
        first,
        intake,
        "consent",
        {"confidentiality_explained": "on", "recording_preference": "full"},
        save_and_leave="1",
    )
    second = signed_in(alice)
    r = second.get(f"/intakes/{intake.pk}/")
    assert r.url == step_url(intake, "consent")
    page = second.get(r.url).content.decode()
    assert re.search(r'value="full"[^>]*checked', page)


def test_a_page_switched_off_since_goes_on_not_back_to_the_start(alice, intake) -> None:
    """The client had the work page open when, in another tab, work stopped being a topic: on
    reloading it (or resuming) they go on to the next page that is on, not to "Before we
    start" as if the intake had begun again."""
    first, second = signed_in(alice), signed_in(alice)
    _with_work_as_a_topic(first, intake)
    assert first.get(step_url(intake, "work_context")).status_code == 200  # the page open
    post_step(second, intake, "about", {"work_focus": "no"})  # nothing there yet to lose
    reloaded = first.get(step_url(intake, "work_context"), follow=True)
    assert reloaded.redirect_chain[-1][0] == step_url(intake, "stigma_coping")
    resumed = first.get(f"/intakes/{intake.pk}/", follow=True)
    assert resumed.redirect_chain[-1][0] == step_url(intake, "stigma_coping")
    intake.refresh_from_db()
    assert intake.current_step == "stigma_coping"
    assert intake.answers["consent"]["confidentiality_explained"] is True  # nothing started over


def test_an_address_with_no_such_page_goes_to_where_the_intake_is(alice, intake) -> None:
    browser = signed_in(alice)
    _with_work_as_a_topic(browser, intake)
    assert browser.get(step_url(intake, "work_context")).status_code == 200
    for wrong in ("nonexistent", "private_check_a"):
        assert browser.get(step_url(intake, wrong)).url == step_url(intake, "work_context")


def test_two_intakes_in_one_session_never_mix(alice, alices_client) -> None:
    one, two = IntakeFactory(client=alices_client), IntakeFactory(client=alices_client)
    browser = signed_in(alice)
    post_step(browser, one, "goals", {"client_goals": ["first person's goal"]})
    post_step(browser, two, "goals", {"client_goals": ["second person's goal"]})
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.answers["goals"]["client_goals"] == ["first person's goal"]
    assert two.answers["goals"]["client_goals"] == ["second person's goal"]
    page = browser.get(step_url(one, "goals")).content.decode()
    assert "first person" in page
    assert "second person" not in page


def test_outsider_gets_404_on_the_wizard(charlie, intake) -> None:
    assert signed_in(charlie).get(step_url(intake, "consent")).status_code == 404


def test_signed_out_visitor_is_sent_to_the_neutral_page(client, intake) -> None:
    # Back after a quick exit: never the sign-in page with the intake step in its address.
    response = client.get(step_url(intake, "consent"))
    assert response.status_code == 302
    assert response.url == "/away/"


def test_quick_exit_signs_out_and_shows_a_neutral_page(alice, intake) -> None:
    browser = signed_in(alice)
    response = browser.get("/away/")
    page = visible_text(response.content.decode()).lower()
    assert response.status_code == 200
    for word in ("intake", "care", "sex", "client", "plan"):
        assert word not in page
    assert browser.get(step_url(intake, "consent")).status_code == 302


def test_every_wizard_page_has_a_quick_exit(alice, intake) -> None:
    browser = signed_in(alice)
    for step in ("consent", "about", "goals", "supports", "review"):
        assert 'id="quick-exit"' in browser.get(step_url(intake, step)).content.decode()


def test_finishing_drafts_the_plan_and_shows_it(alice, intake) -> None:
    browser = signed_in(alice)
    post_step(
        browser,
        intake,
        "consent",
        {"confidentiality_explained": "on", "recording_preference": "full"},
    )
    post_step(browser, intake, "goals", {"client_goals": ["<b>my</b> words, exactly"]})
    review = browser.get(step_url(intake, "review")).content.decode()
    assert "&lt;b&gt;my&lt;/b&gt; words, exactly" in review
    r = post_step(browser, intake, "review", {"confirmed": "on"})
    plan = TreatmentPlan.objects.get()
    assert r.url == f"/plans/{plan.pk}/"
    page = browser.get(r.url).content.decode()
    assert "&lt;b&gt;my&lt;/b&gt; words, exactly" in page
    intake.refresh_from_db()
    assert intake.status == "completed"


@pytest.mark.parametrize("typed", ["they/them", "", "she/they"])
def test_the_pronouns_on_record_are_offered_and_the_plan_prints_the_clients_answer(
    alice, intake, typed
) -> None:
    """The pronouns typed when the intake was started are in "About you" (the client sees
    what the plan would print); what the page saves, kept, changed or cleared, is what the
    review shows and what the plan's PDF prints."""
    from documents.context import plan_context

    browser = signed_in(alice)
    consent = {"confidentiality_explained": "on", "recording_preference": "full"}
    post_step(browser, intake, "consent", consent)
    about = browser.get(step_url(intake, "about")).content.decode()
    assert re.search(r'name="about-pronouns"[^>]*value="they/them"', about)
    post_step(browser, intake, "about", {"work_focus": "no", "pronouns": typed})
    post_step(browser, intake, "goals", {"client_goals": ["rest more"]})
    review = visible_text(browser.get(step_url(intake, "review")).content.decode())
    shown = re.search(r"Your pronouns\s+(\S+)", review)
    assert shown is not None
    assert shown.group(1) == (typed or "Skipped")
    post_step(browser, intake, "review", {"confirmed": "on"})
    plan = TreatmentPlan.objects.get()
    assert plan_context(plan)["pronouns"] == typed
    # Once saved, the page shows the answer (a cleared one stays cleared).
    intake.refresh_from_db()
    assert intake.answers["about"].get("pronouns", "") == typed
    # And it is the one on record: the clinic's lists, the API, FHIR Patient, the next intake.
    client = intake.client
    client.refresh_from_db()
    assert client.pronouns == typed
    extensions = str(alice.api.get(f"/fhir/Patient/{client.pk}").json().get("extension", []))
    assert ("individual-pronouns" in extensions) == bool(typed)
    assert typed in extensions
    home = visible_text(browser.get("/").content.decode())
    shown = {p for p in ("they/them", "she/they") if f"River ({p})" in " ".join(home.split())}
    assert shown == ({typed} if typed else set())


def test_pronouns_on_record_are_the_plans_until_about_you_is_saved(alice, intake) -> None:
    """An intake that never saved "About you" (one filled in by API, say) keeps the pronouns on
    record, and its review says so under "Not filled in" (the plan prints them)."""
    from documents.context import plan_context

    browser = signed_in(alice)
    consent = {"confidentiality_explained": "on", "recording_preference": "full"}
    post_step(browser, intake, "consent", consent)
    post_step(browser, intake, "goals", {"client_goals": ["rest more"]})
    review = " ".join(
        visible_text(browser.get(step_url(intake, "review")).content.decode()).split()
    )
    assert (
        "About you Not filled in. Until you save this page, the plan uses the pronouns on your "
        "record: they/them." in review
    )
    post_step(browser, intake, "review", {"confirmed": "on"})
    assert plan_context(TreatmentPlan.objects.get())["pronouns"] == "they/them"


def test_finishing_without_goals_sends_the_clinician_to_the_goals_step(alice, intake) -> None:
    browser = signed_in(alice)
    post_step(
        browser,
        intake,
        "consent",
        {"confidentiality_explained": "on", "recording_preference": "full"},
    )
    r = post_step(browser, intake, "review", {"confirmed": "on"})
    assert r.status_code == 302
    assert r.url == step_url(intake, "goals")
    assert TreatmentPlan.objects.count() == 0


def private_url(intake, step: str) -> str:
    return f"/intakes/{intake.pk}/private/{step}/"


def test_reflection_page_shows_only_the_authors_notes(alice, bob, intake) -> None:
    intake.client.care_team.add(bob.user)  # bob reads the intake, but not alice's reflection
    browser = signed_in(alice)
    r = browser.post(
        private_url(intake, "reflection"), {"reflection_notes": "alice's private note"}
    )
    assert r.status_code == 302
    assert (
        "alice&#x27;s private note"
        in browser.get(private_url(intake, "reflection")).content.decode()
    )
    page = signed_in(bob).get(private_url(intake, "reflection")).content.decode()
    assert "alice&#x27;s private note" not in page
    assert "private note" not in page


def test_a_goal_too_long_is_named_by_its_box_and_its_length(alice, intake) -> None:
    """Which goal to shorten, and by how much, named by its box as the page shows the goals
    again (Item 1, Item 2...: a blank box typed between is not kept)."""
    browser = signed_in(alice)
    consent = {"confidentiality_explained": "on", "recording_preference": "full"}
    post_step(browser, intake, "consent", consent)
    page = post_step(browser, intake, "goals", {"client_goals": ["Rest more", "", "x" * 612]})
    html = page.content.decode()
    text = " ".join(visible_text(html).split())
    assert "Item 2 has 612 characters; each one can be up to 500." in text
    assert "Item 1 has" not in text
    second = re.search(
        r'<input[^>]*aria-label="Item 2"[^>]*>|<[^>]*id="id_goals-client_goals_1"[^>]*>', html
    )
    assert second is not None
    assert "x" * 612 in second.group(0)
    intake.refresh_from_db()
    assert "goals" not in intake.answers


def test_nothing_is_asked_or_kept_before_confidentiality_is_confirmed(alice, alices_client) -> None:
    """DESIGN: consent "must be true to continue". Before it, any other page leads back to it,
    and a page sent anyway (an old tab) is not kept: the client is told why, on that page."""
    intake = IntakeFactory(client=alices_client, answers={})
    browser = signed_in(alice)
    assert browser.get(step_url(intake, "goals")).url == step_url(intake, "consent")
    sent = post_step(browser, intake, "goals", {"client_goals": ["Rest"]})
    assert sent.url == step_url(intake, "consent")
    page = " ".join(visible_text(browser.get(sent.url).content.decode()).split())
    assert "Confidentiality comes first" in page
    intake.refresh_from_db()
    assert intake.answers == {}
    post_step(
        browser,
        intake,
        "consent",
        {"confidentiality_explained": "on", "recording_preference": "full"},
    )
    assert browser.get(step_url(intake, "goals")).status_code == 200
