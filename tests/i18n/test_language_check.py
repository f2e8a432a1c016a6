"""The language check's word list is English. Text in another language is still read for its
words and says that the language's own words are not checked: a Spanish-speaking client's plan
written (in part) in English by the clinician is checked like any other, and Spanish text gets no
made-up findings."""

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


def test_text_for_a_spanish_client_is_read_for_english_words_and_says_what_is_not_checked(
    alice,
) -> None:
    body = check(alice, {"text": FLAGGED, "language": "es"}).json()
    assert [f["term"] for f in body["findings"]] == ["refuses", "claims"]
    assert (body["checked"], body["note"]) == (False, NOT_CHECKED)
    spanish = "Se niega a colaborar y dice que está bien; su pareja la trata como víctima."
    body = check(alice, {"text": spanish, "language": "es"}).json()
    assert body == {"findings": [], "language": "es", "checked": False, "note": NOT_CHECKED}


def test_unknown_language_is_a_400_naming_the_field(alice) -> None:
    response = check(alice, {"text": "hola", "language": "xx"})
    assert response.status_code == 400
    assert "language" in response.json()["errors"]


def test_a_spanish_clients_plan_is_checked_for_english_words_only(alice, persona_plan) -> None:
    """English written by the clinician on a Spanish-speaking client's plan is flagged, and its
    PDF waits for the wording review, as for any client (it went into the client's copy); the
    Spanish written there is not made into findings."""
    plan = persona_plan("not_a_topic")
    plan.client.language = "es"
    plan.client.save()
    goal = plan.goals.first()
    plan_update(
        plan=plan,
        actor=alice.user,
        changes={
            "strengths_notes": "Promiscuous",
            "supports_notes": "Se niega a hablar con su familia; dice que la tratan como víctima.",
            "goals": [{"id": str(goal.pk), "clinical_restatement": "Client is a drug addict"}],
        },
    )
    plan.refresh_from_db()
    found = sorted((path, f.term) for path, _l, f in plan_field_findings(plan))
    assert found == [
        ("goals[0].clinical_restatement", "addict"),
        ("strengths_notes", "promiscuous"),
    ]
    answer = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/", {"copy": "client"}, format="json"
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "wording_review"


def test_plan_editor_tells_the_checker_the_clients_language(alice, persona_plan) -> None:
    plan = persona_plan("not_a_topic")
    plan.client.language = "es"
    plan.client.save()
    browser = Browser()
    browser.force_login(alice.user)
    page = browser.get(f"/plans/{plan.pk}/").content.decode()
    assert 'data-language="es"' in page
