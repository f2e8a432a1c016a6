"""Reading documents, scoped to the caller's clinic and to the clients they may read."""

import threading
import time
import uuid

from django.conf import settings
from django.db.models import QuerySet

from accounts.models import Membership
from audit.services import audit_read_by
from clients.selectors import clinical_scope
from common.selectors import get_or_404

from .models import DocStatus, PlanDocument


def documents_for(*, membership: Membership) -> QuerySet[PlanDocument]:
    return PlanDocument.objects.filter(
        clinical_scope(membership=membership, client_field="plan__client"),
        clinic_id=membership.clinic_id,
    ).select_related("plan")


def document_get(
    *, membership: Membership, document_id: uuid.UUID | str, ready: bool = False
) -> PlanDocument:
    qs = documents_for(membership=membership)
    document = get_or_404(qs.filter(status="ready") if ready else qs, document_id)
    audit_read_by(membership=membership, obj=document, client_id=document.plan.client_id)
    return document


_waiters = threading.BoundedSemaphore(max(settings.DOCUMENT_WAITERS, 1))
# How often a waiting read looks at the row: often at first (most renders finish within a
# second), then less, so that a slow render costs the database little.
_WAIT_FAST, _WAIT_FAST_FOR, _WAIT_SLOW = 0.005, 2.0, 0.05


def document_wait(*, document_id: uuid.UUID | str, seconds: float) -> bool:
    """Wait until the document is ready or failed, or `seconds` pass. Returns False without
    waiting when the process already has DOCUMENT_WAITERS reads waiting. Reads one column of one
    row by primary key, outside any transaction, so each look sees the latest commit."""
    if settings.DOCUMENT_WAITERS == 0 or not _waiters.acquire(blocking=False):
        return False
    try:
        start = time.monotonic()
        deadline = start + seconds
        row = PlanDocument.objects.filter(pk=document_id).values_list("status", flat=True)
        while True:
            status = row.first()
            now = time.monotonic()
            if status in (None, DocStatus.READY, DocStatus.FAILED) or now >= deadline:
                return True
            pause = _WAIT_FAST if now - start < _WAIT_FAST_FOR else _WAIT_SLOW
            time.sleep(min(pause, deadline - now))
    finally:
        _waiters.release()
