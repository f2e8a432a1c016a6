"""Small helpers shared by the API views."""

import uuid
from datetime import UTC, datetime

from django.contrib.auth.models import User
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

from accounts.models import ApiToken, Membership
from accounts.permissions import membership_of


def caller_membership(request: Request) -> Membership:
    """The caller's membership; the ClinicMember permission has already made sure it exists."""
    membership = membership_of(request.user)
    if membership is None:  # unreachable behind ClinicMember; kept as a hard stop
        raise PermissionError("No clinic membership.")
    return membership


def caller_again(request: Request) -> Membership:
    """The caller checked again from the database, after a request has waited: the token still
    there (not revoked), the session still open, the user still active and a clinic member.
    401 or 403 otherwise, as if the request had started now."""
    token = request.auth
    if isinstance(token, ApiToken):
        if not ApiToken.objects.filter(pk=token.pk).exists():
            raise exceptions.AuthenticationFailed()
    elif not request.session.exists(request.session.session_key or ""):
        raise exceptions.NotAuthenticated()
    membership = (
        Membership.objects.select_related("user")
        .filter(user_id=getattr(request.user, "pk", None) or 0, user__is_active=True)
        .first()
    )
    if membership is None:
        raise exceptions.PermissionDenied()
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
            # The database compares in UTC, and PostgreSQL refuses offsets past 15:59 that
            # Python accepts: hand it UTC. A time that cannot be expressed in UTC is refused.
            value = value.astimezone(UTC)
        except (ValueError, OverflowError):
            return None
    return value


def datetime_param(request: Request, name: str) -> datetime | None:
    """An ISO 8601 date-time query parameter with a time zone, or None when absent; anything
    else (no zone, an offset like +99:99, garbage) is a 400 naming the parameter."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    value = parse_timestamp(raw)
    if value is None:
        raise ValidationError({name: ["Use an ISO 8601 date-time with a time zone."]})
    return value


def uuid_param(request: Request, name: str) -> uuid.UUID | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValidationError({name: ["Use an id (UUID)."]}) from None
