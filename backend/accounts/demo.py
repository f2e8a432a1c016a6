"""Demo data for `make run`: one clinic, one clinician, a few alias-only clients. Idempotent.

Only the embedded default seeds it (or DEMO=true / `seed_demo --demo`): a real database must
not get a demo admin with a full-scope token by accident. The demo token stays the same across
restarts: the database keeps only its digest, so the raw token is kept encrypted (with the
field keys) in DATA_DIR/.demo_token, mode 0600, and reused while it still signs in.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from rest_framework.exceptions import AuthenticationFailed

from common.crypto import fernet
from config.env import local_secret

from .authentication import ApiTokenAuthentication
from .models import ApiToken, Clinic, Membership, Role
from .services import ALL_SCOPES, api_token_create, generate_password

DEMO_CLINIC = "Demo clinic"
DEMO_USERNAME = "demo"
DEMO_TOKEN_NAME = "demo"  # noqa: S105 - a label, not a secret
DEMO_CLIENTS = [("River", "they/them"), ("Sam", "she/her"), ("Jordan", "he/him")]


@dataclass(frozen=True)
class Demo:
    username: str
    password: str
    token: str
    new_token: bool  # False when the token printed last time still works


def _token_file() -> Path:
    return Path(settings.DATA_DIR) / ".demo_token"


def _kept_token(user: AbstractUser) -> str | None:
    """The token saved by the last run, if it still signs in as the demo user."""
    try:
        raw = fernet().decrypt(_token_file().read_bytes()).decode()
        found_user, token = ApiTokenAuthentication().authenticate_credentials(raw.encode())
    except (FileNotFoundError, InvalidToken, AuthenticationFailed, UnicodeDecodeError):
        return None
    if found_user.pk != user.pk or token.name != DEMO_TOKEN_NAME:
        return None
    return raw


def _keep_token(raw: str) -> None:
    path = _token_file()
    temp = path.with_name(".demo_token.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(fernet().encrypt(raw.encode()))
    os.replace(temp, path)


@transaction.atomic
def seed_demo() -> Demo:
    from clients.models import Client

    password = local_secret(settings.DATA_DIR, ".demo_password", generate_password)
    clinic, _ = Clinic.objects.get_or_create(name=DEMO_CLINIC)
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=DEMO_USERNAME)
    if created:
        user.set_password(password)
        user.save()
        Membership.objects.create(user=user, clinic=clinic, role=Role.CLINIC_ADMIN)
    if not Client.objects.filter(clinic=clinic).exists():
        for name, pronouns in DEMO_CLIENTS:
            Client.objects.create(clinic=clinic, display_name=name, pronouns=pronouns)
    token = _kept_token(user)
    if token is not None:
        return Demo(username=DEMO_USERNAME, password=password, token=token, new_token=False)
    # One demo token at a time: a new one replaces any other, so tokens do not pile up.
    ApiToken.objects.filter(user=user, name=DEMO_TOKEN_NAME).delete()
    token = api_token_create(user=user, scopes=ALL_SCOPES, name=DEMO_TOKEN_NAME)
    _keep_token(token)
    return Demo(username=DEMO_USERNAME, password=password, token=token, new_token=True)
