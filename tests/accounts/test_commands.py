"""The management commands exactly as DESIGN.md names them."""

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from accounts.demo import DEMO_CLIENTS
from accounts.models import ApiToken, Clinic, Membership, Role
from clients.models import Client


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_add_clinician_creates_clinic_and_prints_a_working_password() -> None:
    output = run("add_clinician", "--clinic", "North", "--username", "dana")
    password = re.search(r"PASSWORD=(\S+)", output).group(1)
    assert get_user_model().objects.get(username="dana").check_password(password)
    membership = Membership.objects.get(user__username="dana")
    assert membership.clinic.name == "North"
    assert membership.role == Role.CLINICIAN


@pytest.mark.django_db
def test_add_clinician_admin_joins_existing_clinic() -> None:
    run("add_clinician", "--clinic", "North", "--username", "dana")
    run("add_clinician", "--clinic", "North", "--username", "eli", "--admin")
    assert Clinic.objects.filter(name="North").count() == 1
    assert Membership.objects.get(user__username="eli").role == Role.CLINIC_ADMIN


@pytest.mark.django_db
def test_add_clinician_refuses_a_taken_username() -> None:
    run("add_clinician", "--clinic", "North", "--username", "dana")
    with pytest.raises(CommandError, match="already exists"):
        run("add_clinician", "--clinic", "South", "--username", "dana")


@pytest.mark.django_db
def test_create_api_token_prints_once_and_stores_only_a_digest(alice) -> None:
    output = run("create_api_token", "--user", alice.user.username, "--scopes", "read")
    token = re.fullmatch(r"API_TOKEN=(\S+)\n", output).group(1)
    stored = ApiToken.objects.get(token_key=token[:15])
    assert stored.scopes == ["read"]
    assert token not in {stored.digest, stored.token_key}
    assert not ApiToken.objects.filter(digest=token).exists()


@pytest.mark.django_db
def test_an_api_token_made_to_expire_works_until_then_and_not_after(alice) -> None:
    from datetime import timedelta

    from django.test import Client as HttpClient
    from django.utils import timezone

    output = run("create_api_token", "--user", alice.user.username, "--expires-in-days", "30")
    token = re.fullmatch(r"API_TOKEN=(\S+)\n", output).group(1)
    stored = ApiToken.objects.get(token_key=token[:15])
    assert timedelta(days=29) < stored.expiry - timezone.now() <= timedelta(days=30)
    http = HttpClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert http.get("/api/v1/me").status_code == 200
    ApiToken.objects.filter(pk=stored.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    refused = http.get("/api/v1/me")
    assert refused.status_code == 401
    assert not ApiToken.objects.filter(pk=stored.pk).exists()  # deleted when presented
    # Without the option it lives until revoked; a nonsense lifetime is refused.
    lasting = re.search(r"API_TOKEN=(\S+)", run("create_api_token", "--user", alice.user.username))
    assert ApiToken.objects.get(token_key=lasting.group(1)[:15]).expiry is None
    with pytest.raises(CommandError, match="from 1 to 3650"):
        run("create_api_token", "--user", alice.user.username, "--expires-in-days", "0")


@pytest.mark.django_db
def test_create_api_token_rejects_unknown_scope(alice) -> None:
    with pytest.raises(CommandError, match="Scopes must be"):
        run("create_api_token", "--user", alice.user.username, "--scopes", "read,admin")


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_each_token_works(client) -> None:
    first = run("seed_demo", "--demo")
    second = run("seed_demo", "--demo")
    assert Clinic.objects.count() == 1
    assert Client.objects.count() == len(DEMO_CLIENTS)
    assert ApiToken.objects.count() == 1  # the second run kept the first token
    token = re.search(r"^API_TOKEN=(\S+)$", second, re.M).group(1)
    assert re.search(r"^API_TOKEN=", first, re.M)
    response = client.get("/api/v1/clients/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == len(DEMO_CLIENTS)
