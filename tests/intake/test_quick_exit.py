"""Quick exit that leaves no trail: the typed text is saved (even when the sign-out lands
first), the exit address is configurable, and signed-out intake addresses lead to the neutral
page, never to the sign-in page with the step in its address."""

import re
from html import unescape
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import Client as Browser

from intake.views import quick_save_token as page_token
from tests.factories import IntakeFactory

SESSION = "a-session-key-of-this-browser"


def quick_save_token(*, intake, user, step: str, session: str = SESSION) -> str:
    """The token a wizard page of this browser's session carries."""
    request = SimpleNamespace(session=SimpleNamespace(session_key=session), user=user)
    return page_token(intake=intake, request=request, step=step)


def beacon(session: str = SESSION) -> Browser:
    """What quick exit's sendBeacon sends with: the browser's session cookie, still there even
    when the sign-out has already ended the session."""
    sender = Browser()
    sender.cookies[settings.SESSION_COOKIE_NAME] = session
    return sender


pytestmark = pytest.mark.django_db


CONSENTED = {"consent": {"confidentiality_explained": True, "recording_preference": "full"}}


@pytest.fixture
def intake(alice, alices_client):
    return IntakeFactory(client=alices_client)  # consent given (the factory's default)


def signed_in(persona) -> Browser:
    browser = Browser()
    browser.force_login(persona.user)
    return browser


def token_on_page(browser, intake, step: str) -> str:
    page = browser.get(f"/intakes/{intake.pk}/step/{step}/").content.decode()
    return re.search(r'name="quick_save_token" value="([^"]+)"', page).group(1)


def test_typed_text_is_saved_even_after_the_sign_out(alice, intake) -> None:
    browser = signed_in(alice)
    token = token_on_page(browser, intake, "goals")
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert browser.get("/away/").status_code == 200  # signed out first
    response = beacon(cookie).post(
        "/away/save/",
        {
            "quick_save_token": token,
            f"intake_{intake.pk}-current_step": "goals",
            "goals-client_goals": ["Half-typed goal"],
            "goals-what_brings_you": "Typed just before leaving",
        },
    )
    assert response.status_code == 204
    intake.refresh_from_db()
    assert intake.answers["goals"] == {
        "client_goals": ["Half-typed goal"],
        "what_brings_you": "Typed just before leaving",
    }


def test_an_invalid_field_keeps_its_stored_answer(alice, intake) -> None:
    intake.answers = {**CONSENTED, "goals": {"client_goals": ["Kept"], "what_brings_you": "Old"}}
    intake.save()
    beacon().post(
        "/away/save/",
        {
            "quick_save_token": quick_save_token(intake=intake, user=alice.user, step="goals"),
            f"intake_{intake.pk}-current_step": "goals",
            "goals-client_goals": ["x" * 600],  # too long: not valid
            "goals-what_brings_you": "New",
        },
    )
    intake.refresh_from_db()
    assert intake.answers["goals"] == {"client_goals": ["Kept"], "what_brings_you": "New"}


def test_a_list_with_one_answer_too_long_keeps_the_others(alice, intake) -> None:
    """One goal too long refuses the list in the wizard (which says which one to shorten); a
    quick exit keeps every goal that fits, and for the box whose new words do not, the words
    saved there before."""
    intake.answers = {**CONSENTED, "goals": {"client_goals": ["Kept", "Edited in a hurry"]}}
    intake.save()
    response = beacon().post(
        "/away/save/",
        {
            "quick_save_token": quick_save_token(intake=intake, user=alice.user, step="goals"),
            f"intake_{intake.pk}-current_step": "goals",
            "goals-client_goals": ["Kept", "x" * 600, "Short goal QE", ""],
            "goals-what_brings_you": "New",
        },
    )
    assert response.status_code == 204
    intake.refresh_from_db()
    assert intake.answers["goals"] == {
        "client_goals": ["Kept", "Edited in a hurry", "Short goal QE"],
        "what_brings_you": "New",
    }


def test_a_quick_exit_never_saves_a_change_that_deletes_other_pages(alice, intake) -> None:
    """The wizard asks before a change that deletes answers on other pages; a client leaving in
    a hurry was not asked, so that change is not saved (what else was typed is)."""
    intake.answers = {
        "consent": {"confidentiality_explained": True, "recording_preference": "full"},
        "about": {"work_focus": "central"},
        "work_context": {"work_types": ["massage"]},
    }
    intake.save()
    response = beacon().post(
        "/away/save/",
        {
            "quick_save_token": quick_save_token(intake=intake, user=alice.user, step="about"),
            f"intake_{intake.pk}-current_step": "about",
            "about-work_focus": "not_now",
            "about-preferred_name": "Jo",
        },
    )
    assert response.status_code == 204
    intake.refresh_from_db()
    assert intake.answers["about"] == {"work_focus": "central", "preferred_name": "Jo"}
    assert intake.answers["work_context"] == {"work_types": ["massage"]}


def page_text(browser, intake, step: str) -> str:
    """The wizard page as the client reads it: its text, markup and scripts left out."""
    html = browser.get(f"/intakes/{intake.pk}/step/{step}/").content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


HELD_NOTE = "When you left this page quickly, not everything on it was saved."


def test_a_change_a_quick_exit_could_not_save_is_said_until_the_page_is_saved(
    alice, intake
) -> None:
    """Work no longer a topic would delete another page's answers: a quick exit saves the rest
    of the page, not that change, and the page says so (naming the question, not the answer)
    when it is next shown, until it is saved again."""
    intake.answers = {
        **CONSENTED,
        "about": {"work_focus": "central"},
        "work_context": {"work_types": ["massage"]},
    }
    intake.save()
    beacon().post(
        "/away/save/",
        {
            "quick_save_token": quick_save_token(intake=intake, user=alice.user, step="about"),
            f"intake_{intake.pk}-current_step": "about",
            "about-work_focus": "not_now",
            "about-preferred_name": "Jo",
        },
    )
    intake.refresh_from_db()
    assert intake.answers["about"] == {"work_focus": "central", "preferred_name": "Jo"}
    assert intake.held_back == {"about": {"work_focus": {"why": "removes_answers"}}}
    browser = signed_in(alice)
    assert browser.get(f"/intakes/{intake.pk}/").url.endswith("/step/about/")  # resumed here
    text = page_text(browser, intake, "about")
    assert HELD_NOTE in text
    assert (
        "Your change to “How much does your work have to do with what you'd like to work on "
        "here?” was not saved, because it would remove answers you gave on other pages"
    ) in text
    assert (
        "Those questions show what was saved before; everything else on this page was saved."
    ) in text
    assert HELD_NOTE not in page_text(browser, intake, "goals")  # that page only
    # Saved again (as it was): the note has been read and goes.
    browser.post(
        f"/intakes/{intake.pk}/step/about/",
        {
            f"intake_{intake.pk}-current_step": "about",
            "seen": re.search(
                r'name="seen" value="([^"]*)"',
                browser.get(f"/intakes/{intake.pk}/step/about/").content.decode(),
            ).group(1),
            "about-work_focus": "central",
            "about-preferred_name": "Jo",
        },
    )
    intake.refresh_from_db()
    assert intake.held_back == {}
    assert intake.answers["work_context"] == {"work_types": ["massage"]}
    assert HELD_NOTE not in page_text(browser, intake, "about")


def test_words_a_quick_exit_could_not_save_are_shown_back_to_copy(alice, intake) -> None:
    """Words too long for their box are not saved (the wizard would have asked to shorten
    them; there was no time): the page says so and shows them back, so nothing typed is lost.
    The boxes of a list that fit are saved; only the one that did not is shown back."""
    intake.answers = {**CONSENTED, "goals": {"client_goals": ["Kept"], "what_brings_you": "Old"}}
    intake.save()
    long_words = "Held words " * 400  # over the 4,000 a box holds
    beacon().post(
        "/away/save/",
        {
            "quick_save_token": quick_save_token(intake=intake, user=alice.user, step="goals"),
            f"intake_{intake.pk}-current_step": "goals",
            "goals-client_goals": ["Kept", "Another goal QE " * 40],
            "goals-what_brings_you": long_words,
        },
    )
    intake.refresh_from_db()
    assert intake.answers["goals"] == {"client_goals": ["Kept"], "what_brings_you": "Old"}
    html = signed_in(alice).get(f"/intakes/{intake.pk}/step/goals/").content.decode()
    note = html.split('id="held-back-summary"')[1].split("</section>")[0]
    shown_back = [
        unescape(w).strip() for w in re.findall(r'<li class="words">(.*?)</li>', note, re.S)
    ]
    assert shown_back == [("Another goal QE " * 40).strip(), long_words.strip()]  # not "Kept"
    text = page_text(signed_in(alice), intake, "goals")
    assert HELD_NOTE in text
    assert "Your answer to “Anything else about what brings you here?” could not be saved" in text
    assert "Your answer to “Your goals” could not be saved" in text
    assert "What you wrote, to copy back" in text


def test_the_note_is_in_the_clients_language(alice, intake) -> None:
    intake.client.language = "es"
    intake.client.save()
    intake.answers = {**CONSENTED, "goals": {"what_brings_you": "Antes"}}
    intake.save()
    beacon().post(
        "/away/save/",
        {
            "quick_save_token": quick_save_token(intake=intake, user=alice.user, step="goals"),
            f"intake_{intake.pk}-current_step": "goals",
            "goals-what_brings_you": "palabras " * 500,
        },
    )
    text = page_text(signed_in(alice), intake, "goals")
    assert "Cuando saliste rápido de esta página, no se guardó todo lo que tenía." in text
    assert "Lo que escribiste, para copiarlo de nuevo" in text
    assert HELD_NOTE not in text


def test_quick_save_needs_a_valid_token_and_the_same_access(alice, charlie, intake) -> None:
    body = {f"intake_{intake.pk}-current_step": "goals", "goals-client_goals": ["x"]}
    assert beacon().post("/away/save/", body).status_code == 403
    # A token copied from the page is worth nothing without the browser's session cookie.
    copied = {
        **body,
        "quick_save_token": quick_save_token(intake=intake, user=alice.user, step="goals"),
    }
    assert Browser().post("/away/save/", copied).status_code == 403
    assert beacon("another-browser").post("/away/save/", copied).status_code == 403
    forged = {
        **body,
        "quick_save_token": quick_save_token(intake=intake, user=alice.user, step="goals") + "x",
    }
    assert beacon().post("/away/save/", forged).status_code == 403
    outsider = {
        **body,
        "quick_save_token": quick_save_token(intake=intake, user=charlie.user, step="goals"),
    }
    assert beacon().post("/away/save/", outsider).status_code == 404
    reflection = {
        "quick_save_token": quick_save_token(intake=intake, user=alice.user, step="reflection"),
        f"intake_{intake.pk}-current_step": "reflection",
        "reflection-reflection_notes": "x",
    }
    assert beacon().post("/away/save/", reflection).status_code == 204
    intake.refresh_from_db()
    assert intake.answers == CONSENTED  # nothing added
    assert not intake.reflections.exists()
    # The token saves the step it was issued for, whatever step the body names.
    other_step = {
        "quick_save_token": quick_save_token(intake=intake, user=alice.user, step="goals"),
        f"intake_{intake.pk}-current_step": "supports",
        "supports-safety_plan": "x",
        "goals-client_goals": ["From the goals page"],
    }
    assert beacon().post("/away/save/", other_step).status_code == 204
    intake.refresh_from_db()
    assert intake.answers == {**CONSENTED, "goals": {"client_goals": ["From the goals page"]}}


def test_the_exit_address_is_configurable(alice, settings) -> None:
    settings.QUICK_EXIT_URL = "https://weather.example/today"
    browser = signed_in(alice)
    response = browser.get("/away/")
    assert response.status_code == 302
    assert response.url == "https://weather.example/today"
    assert browser.get("/").status_code == 302  # signed out


def test_signed_out_intake_addresses_lead_to_the_neutral_page(client, intake) -> None:
    for url in (
        f"/intakes/{intake.pk}/step/goals/",
        f"/intakes/{intake.pk}/",
        f"/intakes/{intake.pk}/paused/",
        f"/intakes/{intake.pk}/private/reflection/",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == "/away/"
        assert "next=" not in response.url
    assert client.post("/logout/").url == "/login/"


@pytest.mark.parametrize("value", ["http://weather.example/", "//evil.example/", "javascript:x"])
def test_a_bad_exit_address_stops_start_up_naming_it(tmp_path, value: str) -> None:
    from tests.config.test_settings import start

    result = start(tmp_path, QUICK_EXIT_URL=value)
    assert result.returncode != 0
    assert "QUICK_EXIT_URL must be" in result.stderr
