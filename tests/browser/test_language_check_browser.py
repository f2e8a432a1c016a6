"""The plan editor's inline check in a real browser: it sends the client's terms, so their own
words are never flagged, and a one-click replacement swaps only the flagged word."""

import json

import pytest

from tests.browser.conftest import assert_accessible
from tests.conftest import CONSENT, completed_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_inline_check_sends_the_clients_terms_and_replaces_safely(
    page, alice, alices_client
) -> None:
    plan = completed_plan(
        alice,
        alices_client,
        "individual",
        {
            "consent": CONSENT,
            "about": {"work_focus": "central", "work_term": "the life"},
            "goals": {"client_goals": ["Stop the bank treating me like a hooker"]},
        },
    )
    page.goto("/login/")
    page.get_by_label("Username").fill(alice.user.username)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    page.goto(f"/plans/{plan.pk}/")
    sent = []
    page.on(
        "request",
        lambda r: (
            sent.append(json.loads(r.post_data))
            if r.url.endswith("/api/v1/language-check/")
            else None
        ),
    )
    page.get_by_text("Clinician's restatement and date").first.click()  # opens the details
    field = page.get_by_label("Clinician's restatement (optional)").first
    field.fill("Banking without being treated like a hooker; she refuses to go back in the life")
    box = page.locator(".findings").first
    box.get_by_role("button", name="Use \u201cdeclines\u201d").wait_for()
    assert "the life" in sent[-1]["client_terms"]
    assert "Stop the bank treating me like a hooker" in sent[-1]["client_terms"]
    # Only the clinician's own word is a finding: "hooker" and "the life" are the client's.
    assert box.locator("p").count() == 1
    assert_accessible(page)
    box.get_by_role("button", name="Use \u201cdeclines\u201d").click()
    assert field.input_value() == (
        "Banking without being treated like a hooker; she declines to go back in the life"
    )
