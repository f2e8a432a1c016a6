"""seed_demo keeps one working demo token across restarts, says when it had to make a new one,
and seeds nothing on a real database unless asked to (issue 11, item 13)."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import ApiToken, Clinic

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def token_in(output: str) -> str:
    return re.search(r"^API_TOKEN=(\S+)$", output, re.M).group(1)


@pytest.fixture(autouse=True)
def own_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def test_the_same_token_works_after_a_restart(client) -> None:
    first = seed("--demo")
    second = seed("--demo")
    assert token_in(first) == token_in(second)
    assert "unchanged" in second
    response = client.get("/api/v1/clients/", HTTP_AUTHORIZATION=f"Bearer {token_in(second)}")
    assert response.status_code == 200
    assert ApiToken.objects.count() == 1


def test_a_revoked_token_is_replaced_and_it_says_so(client) -> None:
    first = token_in(seed("--demo"))
    ApiToken.objects.all().delete()
    output = seed("--demo")
    assert "new demo API token" in output
    second = token_in(output)
    assert second != first
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200


def test_the_kept_token_is_encrypted_and_private() -> None:
    token = token_in(seed("--demo"))
    kept = Path(settings.DATA_DIR) / ".demo_token"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert token.encode() not in kept.read_bytes()


def test_no_demo_on_a_real_database_unless_asked(settings) -> None:
    settings.DEMO = False  # what DATABASE_URL without DEMO=true gives
    output = seed()
    assert "API_TOKEN=" not in output
    assert not Clinic.objects.exists()
    assert not ApiToken.objects.exists()
    assert token_in(seed("--demo"))
    settings.DEMO = True  # DEMO=true
    assert token_in(seed())
