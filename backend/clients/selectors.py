"""Reading clients, always through the caller's clinic: another clinic's client does not exist."""

import uuid
from datetime import datetime

from django.db.models import QuerySet

from accounts.models import Membership
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
    return get_or_404(Client.objects.filter(clinic_id=membership.clinic_id), client_id)
