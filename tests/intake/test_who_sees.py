""" "Who sees this" is generated from the real access rules and is true: everyone it names can
read the answers, nobody else in the clinic can, and connected systems are said when there."""

import html
import re

import pytest
from django.test import Client as Browser
from webhooks.models import WebhookEndpoint

from accounts.models import ApiToken
from forms import STEPS
from forms.describe import describe_form
from intake.selectors import intake_readers
from tests.factories import IntakeFactory

pytestmark = pytest.mark.django_db


def who_sees_on(persona, url: str) -> set[str]:
    browser = Browser()
    browser.force_login(persona.user)
    page = browser.get(url).content.decode()
    found = re.findall(r"<strong>Who sees this:</strong> (.*?)</p>", page)
    return {html.unescape(t) for t in found}


@pytest.fixture
def intake(alice, alices_client):
    return IntakeFactory(client=alices_client, kind="couple")


def test_the_text_names_exactly_who_can_read_the_answers(alice, bob, admin_ann, intake) -> None:
    intake.client.care_team.add(bob.user)  # bob joins the care team; the admin does not
    texts = who_sees_on(alice, f"/intakes/{intake.pk}/step/about/")
    assert len(texts) == 1
    text = texts.pop()
    # Prove it against the rules: each member of the clinic reads the intake iff named.
    for persona in (alice, bob, admin_ann):
        named = persona.user.username in text
        status = persona.api.get(f"/api/v1/intakes/{intake.pk}/").status_code
        assert (status == 200) is named, (persona.user.username, status, text)
    assert {u.username for u in intake_readers(intake=intake)} == {
        alice.user.username,
        bob.user.username,
    }
    # Every persona has an API token, so connected systems are said.
    assert "connects other systems" in text
    assert "only if you both choose" not in text


def test_no_connected_systems_are_claimed_when_there_are_none(alice, intake) -> None:
    ApiToken.objects.all().delete()
    text = who_sees_on(alice, f"/intakes/{intake.pk}/step/about/").pop()
    # (a couple's intake: each partner sees the other's joint answers, and is told so)
    assert text == (
        "You both (each of you sees what the other answers) and your clinician "
        f"({alice.user.username})."
    )
    WebhookEndpoint.objects.create(clinic=alice.clinic, url="https://ehr.example/hook", secret="s")
    text = who_sees_on(alice, f"/intakes/{intake.pk}/step/about/").pop()
    assert "connects other systems" in text


def test_clinician_only_pages_say_who_reads_them(alice, bob, intake) -> None:
    intake.client.care_team.add(bob.user)
    reflection = who_sees_on(alice, f"/intakes/{intake.pk}/private/reflection/")
    assert reflection == {
        "Only you (here, or through the API with your own token). It is never printed, never "
        "in FHIR or bulk exports, and never shown to anyone else."
    }
    check = who_sees_on(alice, f"/intakes/{intake.pk}/private/private_check_a/").pop()
    assert check.startswith("Only the clinicians on the care team")
    assert alice.user.username in check
    assert bob.user.username in check
    assert "Never the partner" in check


def test_no_false_promise_is_left_in_the_form_definition() -> None:
    for kind in ("individual", "couple"):
        for step in describe_form(kind)["steps"]:
            for field in step["fields"]:
                assert "only if you both choose" not in field["who_sees"]
                assert field["who_sees"] != "You and your clinician."
    assert {s.audience for s in STEPS} == {"joint", "author", "care_team"}


def test_saving_a_step_does_not_work_out_the_text(alice, intake) -> None:
    """The text is generated when a page shows it, so a save costs the same in a big clinic."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import MembershipFactory

    browser = Browser()
    browser.force_login(alice.user)

    def save() -> int:
        with CaptureQueriesContext(connection) as ctx:
            browser.post(
                f"/intakes/{intake.pk}/step/about/",
                {f"intake_{intake.pk}-current_step": "about", "about-pronouns": "she/her"},
            )
        return len(ctx.captured_queries)

    save()  # warm: the first request of a session does a little more
    before = save()
    for _ in range(5):
        MembershipFactory(clinic=alice.clinic)
    assert save() == before
