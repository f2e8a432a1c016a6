"""The language check runs only on languages it has a lexicon for (English), and says so: a
Spanish client's plan gets "not checked", not English findings on Spanish text."""

import pytest
from django.test import Client as Browser

from language.services import NOT_CHECKED, plan_field_findings
from plans.services import plan_update

pytestmark = pytest.mark.django_db

FLAGGED = "Client refuses to engage and claims that she is fine."


def check(persona, body):
    return persona.api.post("/api/v1/language-check/", body, format="json")


def test_english_text_is_checked_and_says_so(alice) -> None:
    body = check(alice, {"text": FLAGGED, "language": "en"}).json()
    assert body["checked"] is True
    assert body["language"] == "en"
    assert [f["term"] for f in body["findings"]] == ["refuses", "claims"]
    assert "note" not in body
    assert check(alice, {"text": FLAGGED}).json()["checked"] is True  # English by default


def test_spanish_text_is_not_checked_and_says_so(alice) -> None:
    body = check(alice, {"text": FLAGGED, "language": "es"}).json()
    assert body == {"findings": [], "language": "es", "checked": False, "note": NOT_CHECKED}


def test_unknown_language_is_a_400_naming_the_field(alice) -> None:
    response = check(alice, {"text": "hola", "language": "xx"})
    assert response.status_code == 400
    assert "language" in response.json()["errors"]


def test_a_spanish_clients_plan_has_no_false_findings(alice, persona_plan) -> None:
    plan = persona_plan("not_a_topic")
    plan_update(plan=plan, actor=alice.user, changes={"strengths_notes": "Promiscuous"})
    plan.refresh_from_db()
    assert [f.term for _p, _l, f in plan_field_findings(plan)] == ["promiscuous"]
    plan.client.language = "es"
    plan.client.save()
    plan.refresh_from_db()
    assert plan_field_findings(plan) == []


def test_plan_editor_tells_the_checker_the_clients_language(alice, persona_plan) -> None:
    plan = persona_plan("not_a_topic")
    plan.client.language = "es"
    plan.client.save()
    browser = Browser()
    browser.force_login(alice.user)
    page = browser.get(f"/plans/{plan.pk}/").content.decode()
    assert 'data-language="es"' in page
