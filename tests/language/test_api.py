"""POST /api/v1/language-check/ and dismissals."""

import pytest

from language.models import ClinicLexiconEntry

pytestmark = pytest.mark.django_db


def check(persona, body):
    return persona.api.post("/api/v1/language-check/", body, format="json")


def test_findings_have_offsets_term_suggestion_and_reason(alice) -> None:
    response = check(alice, {"text": "Client refuses to engage and claims that she is fine."})
    assert response.status_code == 200
    findings = response.json()["findings"]
    assert [(f["term"], f["start"], f["end"]) for f in findings] == [
        ("refuses", 7, 14),
        ("claims", 29, 35),
    ]
    assert findings[0]["suggestion"] == "declines"
    assert findings[0]["replacement"] == "declines"
    assert findings[0]["reason"]


def test_client_terms_are_exempt(alice) -> None:
    body = {"text": "She calls herself a hooker.", "client_terms": ["hooker"]}
    assert check(alice, body).json()["findings"] == []


def test_a_clinics_own_entries_apply_to_that_clinic_only(alice, charlie) -> None:
    ClinicLexiconEntry.objects.create(
        clinic=alice.clinic,
        term="lazy",
        forms="lazy, laziness",
        suggestion="describe what happened",
        reason="Judgemental.",
    )
    assert [f["term"] for f in check(alice, {"text": "Seems lazy."}).json()["findings"]] == ["lazy"]
    assert check(charlie, {"text": "Seems lazy."}).json()["findings"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": 5}, "text"),
        ({"text": "x" * 20_001}, "text"),
        ({}, "text"),
        ({"text": "ok", "client_terms": "hooker"}, "client_terms"),
        ({"text": "ok", "client_terms": [1]}, "client_terms"),
    ],
)
def test_bad_input_is_400_naming_the_field(alice, body, field) -> None:
    response = check(alice, body)
    assert response.status_code == 400
    assert any(key.startswith(field) for key in response.json()["errors"])


def test_repeated_dismissals_of_the_same_term_suggest_consultation(alice) -> None:
    url = "/api/v1/language-check/dismissals/"
    answers = [
        alice.api.post(url, {"term": "claims", "reason": "quoting a report"}, format="json").json()[
            "consultation_suggested"
        ]
        for _ in range(3)
    ]
    assert answers == [False, False, True]


def test_requires_authentication(client) -> None:
    assert (
        client.post(
            "/api/v1/language-check/", {"text": "x"}, content_type="application/json"
        ).status_code
        == 401
    )
