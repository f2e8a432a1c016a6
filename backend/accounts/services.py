"""Creating clinicians and API tokens (the management commands and tests call these)."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone

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


ENROLMENT_CODE_VALID = timedelta(days=7)


def enrolment_code_issue(*, membership: Membership) -> str:
    """A new one-time code for setting up two-factor; removes the user's devices (an admin
    reset). Only a hash is kept; the code is returned once, to be handed over in person."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    code = "-".join(secrets.token_hex(3) for _ in range(3))  # 72 random bits
    TOTPDevice.objects.filter(user_id=membership.user_id).delete()
    membership.enrolment_code = make_password(code)
    membership.enrolment_code_expires = timezone.now() + ENROLMENT_CODE_VALID
    membership.save(update_fields=["enrolment_code", "enrolment_code_expires"])
    return code


def enrolment_code_valid(*, membership: Membership, code: str) -> bool:
    if not membership.enrolment_code or membership.enrolment_code_expires is None:
        return False
    if membership.enrolment_code_expires < timezone.now():
        return False
    return check_password(code.strip().lower(), membership.enrolment_code)


def enrolment_code_spend(*, membership: Membership) -> None:
    membership.enrolment_code = ""
    membership.enrolment_code_expires = None
    membership.save(update_fields=["enrolment_code", "enrolment_code_expires"])


def parse_scopes(raw: str) -> list[str]:
    scopes = sorted({s.strip() for s in raw.split(",") if s.strip()})
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown or not scopes:
        raise ValueError(f"Scopes must be some of {', '.join(ALL_SCOPES)}.")
    return scopes


def api_token_create(
    *, user: AbstractUser, scopes: list[str], name: str = "", expires_in: timedelta | None = None
) -> str:
    """A new token for the user; only its digest is stored, so the raw token is returned once.
    With `expires_in` it stops working after that long (refused, then deleted, when presented);
    without, it lives until revoked."""
    _, raw = ApiToken.objects.create(user=user, scopes=scopes, name=name, expiry=expires_in)
    return raw
