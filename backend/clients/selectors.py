"""Reading clients, always through the caller's clinic: another clinic's client does not exist."""

import uuid
from datetime import datetime

from django.db.models import Q, QuerySet

from accounts.models import Membership
from audit.services import audit_read_by
from common.selectors import get_or_404

from .models import Client


def client_list(
    *, membership: Membership, updated_since: datetime | None = None
) -> QuerySet[Client]:
    qs = Client.objects.filter(clinic_id=membership.clinic_id)
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=updated_since)
    return qs


def client_get(*, membership: Membership, client_id: uuid.UUID | str) -> Client:
    client = get_or_404(Client.objects.filter(clinic_id=membership.clinic_id), client_id)
    audit_read_by(membership=membership, obj=client, client_id=client.pk)
    return client


def clinical_scope(*, membership: Membership, client_field: str = "client") -> Q:
    """Who may read clinical records: every clinician in the clinic; a clinic admin only for
    the clients they work with themselves (they created the client or one of the intakes)."""
    if not membership.is_admin:
        return Q()
    user = membership.user_id
    own = Client.objects.filter(
        Q(clinic_id=membership.clinic_id) & (Q(created_by_id=user) | Q(intakes__created_by_id=user))
    ).values("pk")
    return Q(**{f"{client_field}_id__in": own})
