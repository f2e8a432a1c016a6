"""Hostile input gets a 4xx naming the field, never a 5xx."""

import json
import uuid

import pytest

pytestmark = pytest.mark.django_db


def test_an_oversized_body_is_413_with_the_limit_stated(alice) -> None:
    body = json.dumps({"display_name": "x" * 300_000})
    response = alice.api.generic("POST", "/api/v1/clients/", body, content_type="application/json")
    assert response.status_code == 413
    assert "256 KB" in response.json()["detail"]


@pytest.mark.parametrize("body", ["{", "[1,2", '{"display_name": "\\ud800"}', "nul\x00", ""])
def test_malformed_json_is_400_never_500(alice, body) -> None:
    response = alice.api.generic("POST", "/api/v1/clients/", body, content_type="application/json")
    assert 400 <= response.status_code < 500


def test_wrong_content_type_is_415(alice) -> None:
    response = alice.api.generic(
        "POST",
        "/api/v1/clients/",
        "display_name=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/clients/{id}/",
        "/api/v1/intakes/{id}/",
        "/api/v1/plans/{id}/",
        "/api/v1/plans/{id}/preview",
        "/api/v1/documents/{id}/",
        "/api/v1/documents/{id}/pdf",
        "/api/v1/referral-agencies/{id}/",
        "/api/v1/plans/{id}/referral-suggestions",
    ],
)
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1", "' OR 1=1 --", str(uuid.uuid4())])
def test_malformed_or_unknown_ids_are_404(alice, path, bad_id) -> None:
    assert alice.api.get(path.format(id=bad_id)).status_code == 404


def test_a_huge_list_is_refused_cheaply(alice, alices_client) -> None:
    intake = alice.api.post(
        "/api/v1/intakes/", {"client": str(alices_client.pk), "kind": "individual"}, format="json"
    ).json()
    response = alice.api.put(
        f"/api/v1/intakes/{intake['id']}/steps/supports/",
        {"referral_needs": ["housing"] * 10_000},
        format="json",
    )
    assert response.status_code == 400
    assert "referral_needs" in response.json()["errors"]


def test_template_syntax_in_client_text_renders_as_text(alice, persona_plan) -> None:
    plan = persona_plan("continuing")
    goal = plan.goals.first()
    payload = "{{ settings.SECRET_KEY }} {% debug %} <script>alert(1)</script>"
    alice.api.patch(
        f"/api/v1/plans/{plan.pk}/",
        {"goals": [{"id": str(goal.pk), "client_words": payload}]},
        format="json",
        HTTP_IF_MATCH=alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"],
    )
    html = alice.api.get(f"/api/v1/plans/{plan.pk}/preview").content.decode()
    assert "{{ settings.SECRET_KEY }} {% debug %} &lt;script&gt;" in html
    assert "<script>" not in html
