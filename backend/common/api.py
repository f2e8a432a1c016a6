"""Small helpers shared by the API views."""

from django.contrib.auth.models import User
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
