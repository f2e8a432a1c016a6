"""Small helpers shared by the API views."""

from datetime import UTC, datetime

from django.contrib.auth.models import User
from django.utils.dateparse import parse_datetime
from rest_framework.request import Request

from accounts.models import Membership
from accounts.permissions import membership_of


def caller_membership(request: Request) -> Membership:
    """The caller's membership; the ClinicMember permission has already made sure it exists."""
    membership = membership_of(request.user)
    if membership is None:  # unreachable behind ClinicMember; kept as a hard stop
        raise PermissionError("No clinic membership.")
    return membership


def caller(request: Request) -> tuple[Membership, User]:
    """The caller's membership and user, typed for services that record who acted."""
    membership = caller_membership(request)
    return membership, membership.user


def parse_timestamp(raw: str, *, require_tz: bool = True) -> datetime | None:
    """An ISO 8601 date-time with a time zone, or None for anything else (including offsets
    such as +99:99 that parse_datetime rejects with ValueError)."""
    try:
        value = parse_datetime(raw)
    except (ValueError, OverflowError):
        return None
    if value is None or (require_tz and value.tzinfo is None):
        return None
    if value.tzinfo is not None:
        try:
            # The database compares in UTC: a time that cannot be expressed there is refused.
            value.astimezone(UTC)
        except (ValueError, OverflowError):
            return None
    return value
