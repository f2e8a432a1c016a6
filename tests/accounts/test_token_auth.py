"""Bearer tokens as an integration uses them: one query finds the token, its user and their
clinic membership; a wrong, expired or membership-less token gets no data."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, Membership
from accounts.services import api_token_create


def client_with(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


@pytest.mark.django_db
def test_a_request_finds_token_user_and_membership_in_one_query(alice) -> None:
    alice.api.get("/api/v1/me")  # anything the first request sets up once
    with CaptureQueriesContext(connection) as queries:
        response = alice.api.get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["clinic"] == str(alice.clinic.pk)
    token_queries = [q["sql"] for q in queries if "accounts_apitoken" in q["sql"]]
    assert len(token_queries) == 1
    assert "accounts_membership" in token_queries[0]
    assert not [q for q in queries if q["sql"].startswith('SELECT "accounts_membership"')]


@pytest.mark.django_db
def test_a_wrong_token_is_refused(alice) -> None:
    wrong = alice.token[:-4] + ("aaaa" if not alice.token.endswith("aaaa") else "bbbb")
    response = client_with(wrong).get("/api/v1/me")
    assert response.status_code == 401


@pytest.mark.django_db
def test_an_expired_token_is_refused_and_deleted(alice) -> None:
    token = api_token_create(user=alice.user, scopes=["read"])
    ApiToken.objects.filter(token_key=token[:15]).update(
        expiry=timezone.now() - timedelta(minutes=1)
    )
    response = client_with(token).get("/api/v1/me")
    assert response.status_code == 401
    assert not ApiToken.objects.filter(token_key=token[:15]).exists()
    assert client_with(alice.token).get("/api/v1/me").status_code == 200  # the others work


@pytest.mark.django_db
def test_a_token_whose_user_left_the_clinic_reads_nothing(alice, alices_client) -> None:
    Membership.objects.filter(user=alice.user).delete()
    response = client_with(alice.token).get(f"/api/v1/clients/{alices_client.pk}/")
    assert response.status_code in (403, 404)
    assert "display_name" not in response.content.decode()


@pytest.mark.django_db
def test_guessing_tokens_is_limited_per_address(alice, settings, monkeypatch) -> None:
    """Past the limit of refused tokens from one address in a minute, every token from it is
    answered 429 with Retry-After, a right one too (a guess is never checked, so a lucky one
    tells nothing); another address is unaffected; the next minute counts afresh."""
    from accounts import authentication

    settings.API_TOKEN_FAILURES_PER_MINUTE = 3
    minute = 29_000_000 * 60.0  # one minute, held still: no window ends mid-test
    monkeypatch.setattr(authentication, "_now", lambda: minute + 10)
    # Addresses of this run's own: the shared cache (Redis in CI's second run) keeps counts
    # for a minute, from other tests and runs.
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"
    guesser = {"REMOTE_ADDR": address}
    wrong = client_with("x" * 64)
    for _ in range(3):
        assert wrong.get("/api/v1/me", **guesser).status_code == 401
    refused = wrong.get("/api/v1/me", **guesser)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["code"] == "throttled"
    assert alice.api.get("/api/v1/me", **guesser).status_code == 429
    assert alice.api.get("/api/v1/me", REMOTE_ADDR=address + "1").status_code == 200
    monkeypatch.setattr(authentication, "_now", lambda: minute + 70)
    assert alice.api.get("/api/v1/me", **guesser).status_code == 200


@pytest.mark.django_db
def test_a_forwarded_for_header_does_not_get_round_the_guessing_limit(
    alice, settings, monkeypatch
) -> None:
    """The caller writes X-Forwarded-For: each guess naming another address is still counted
    against the connection's address (no proxy of ours in front by default)."""
    from accounts import authentication

    settings.API_TOKEN_FAILURES_PER_MINUTE = 3
    # A minute and an address of its own: the shared cache (Redis in CI's second run) keeps
    # counts for a minute, from other tests and runs.
    monkeypatch.setattr(authentication, "_now", lambda: 29_000_005 * 60.0 + 10)
    guesser = f"2001:db8::{uuid.uuid4().hex[:4]}"
    wrong = client_with("x" * 64)
    answers = [
        wrong.get(
            "/api/v1/me", REMOTE_ADDR=guesser, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
        ).status_code
        for i in range(5)
    ]
    assert answers == [401, 401, 401, 429, 429]
    assert alice.api.get("/api/v1/me", REMOTE_ADDR=guesser).status_code == 429
