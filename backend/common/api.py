"""Small helpers shared by the API views."""

from rest_framework.request import Request

from accounts.models import Membership
from accounts.permissions import membership_of


def caller_membership(request: Request) -> Membership:
    """The caller's membership; the ClinicMember permission has already made sure it exists."""
    membership = membership_of(request.user)
    if membership is None:  # unreachable behind ClinicMember; kept as a hard stop
        raise PermissionError("No clinic membership.")
    return membership
