"""Creating clinicians and API tokens (the management commands and tests call these)."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import transaction

from .models import ApiToken, Clinic, Membership, Role, Scope

ALL_SCOPES = [scope.value for scope in Scope]


def generate_password() -> str:
    return secrets.token_urlsafe(15)


@transaction.atomic
def clinician_create(
    *, clinic_name: str, username: str, admin: bool = False, password: str | None = None
) -> tuple[AbstractUser, str]:
    """Create the clinic when it does not exist yet, and a clinician in it. Returns the password."""
    clinic, _ = Clinic.objects.get_or_create(name=clinic_name)
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ValueError(f"A user named {username!r} already exists.")
    password = password or generate_password()
    user = user_model.objects.create_user(username=username, password=password)
    Membership.objects.create(
        user=user, clinic=clinic, role=Role.CLINIC_ADMIN if admin else Role.CLINICIAN
    )
    return user, password


def parse_scopes(raw: str) -> list[str]:
    scopes = sorted({s.strip() for s in raw.split(",") if s.strip()})
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown or not scopes:
        raise ValueError(f"Scopes must be some of {', '.join(ALL_SCOPES)}.")
    return scopes


def api_token_create(*, user: AbstractUser, scopes: list[str], name: str = "") -> str:
    """A new token for the user; only its digest is stored, so the raw token is returned once."""
    _, raw = ApiToken.objects.create(user=user, scopes=scopes, name=name)
    return raw
