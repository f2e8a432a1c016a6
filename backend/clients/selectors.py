"""Reading clients, always through the caller's clinic: another clinic's client does not exist.

Demographic fields (alias, pronouns, EHR id, care team) are clinic-wide; clinical records are
read only by the client's care team (`clinical_scope`)."""

import uuid
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet

from accounts.models import Membership
from audit.services import audit_read_by
from common.crypto import keyed_hashes
from common.selectors import get_or_404

from .models import Client


def client_list(
    *,
    membership: Membership,
    updated_since: datetime | None = None,
    external_id: str | None = None,
) -> QuerySet[Client]:
    from django.contrib.auth.models import User

    qs = Client.objects.filter(clinic_id=membership.clinic_id).prefetch_related(
        Prefetch("care_team", queryset=User.objects.only("id", "username").order_by("username"))
    )
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=updated_since)
    if external_id is not None:
        qs = qs.filter(external_id_hash__in=keyed_hashes("external_id", external_id))
    return qs


def client_get(*, membership: Membership, client_id: uuid.UUID | str) -> Client:
    client = get_or_404(client_list(membership=membership), client_id)
    audit_read_by(membership=membership, obj=client, client_id=client.pk)
    return client


CHANGE_REFUSED = (
    "Only a clinic admin or someone on the client's care team can change or erase the "
    "client's record."
)


def may_change(*, membership: Membership, client: Client) -> bool:
    """Who may change a client's record (alias, pronouns, language, the EHR id that shares the
    record with a connected system) or erase it: clinic admins, who manage the list and handle
    erasure requests, and the client's care team. Other colleagues see the alias only."""
    return membership.is_admin or client.care_team.filter(pk=membership.user_id).exists()


def client_for_change(*, membership: Membership, client_id: uuid.UUID | str) -> Client:
    """The client, to change or erase: 404 outside the clinic, PermissionDenied for a colleague
    who is neither a clinic admin nor on the care team."""
    client = client_get(membership=membership, client_id=client_id)
    if not may_change(membership=membership, client=client):
        raise PermissionDenied(CHANGE_REFUSED)
    return client


def care_team_clients(*, membership: Membership) -> QuerySet[Client]:
    """The clients whose care team the caller is on."""
    return Client.objects.filter(clinical_scope(membership=membership, client_field=""))


def client_for_care(*, membership: Membership, client_id: uuid.UUID | str) -> Client:
    """A client the caller works with (for starting an intake): 404 for anyone off the team."""
    return get_or_404(care_team_clients(membership=membership), client_id)


def clinical_scope(*, membership: Membership, client_field: str = "client") -> Q:
    """Who may read clinical records (intakes, answers, plans, previews, PDFs, FHIR): the
    client's care team only. Clinic admins too, only when they are on the team themselves.
    `client_field`: the path to the client from the rows filtered ("" for clients themselves).
    A join rather than an IN (subquery): the same rows (a user is on a care team once), and
    cheaper to build on every read."""
    path = f"{client_field}__" if client_field else ""
    return Q(**{f"{path}care_team": membership.user_id, f"{path}clinic_id": membership.clinic_id})
