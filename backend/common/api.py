"""Small helpers shared by the API views."""

import uuid
from datetime import datetime

from django.contrib.auth.models import User
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError
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


def datetime_param(request: Request, name: str) -> datetime | None:
    """An ISO 8601 date-time query parameter with a time zone, or None when absent; anything
    else (no zone, an offset like +99:99, garbage) is a 400 naming the parameter."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
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
