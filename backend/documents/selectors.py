"""Reading documents, scoped to the caller's clinic and to the clients they may read."""

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Exists, QuerySet

from accounts.models import ApiToken, Membership
from audit.services import audit_read_by
from clients.selectors import clinical_scope
from common.crypto import encrypted_fields
from common.selectors import get_or_404
from plans.models import TreatmentPlan

from . import wake
from .models import DocStatus, PlanDocument


def documents_for(*, membership: Membership) -> QuerySet[PlanDocument]:
    """With each document's plan row (its client, for scope and audit), its text left out."""
    return (
        PlanDocument.objects.filter(
            clinical_scope(membership=membership, client_field="plan__client"),
            clinic_id=membership.clinic_id,
        )
        .select_related("plan")
        .defer(*encrypted_fields(TreatmentPlan, "plan__"))
    )


def document_get(
    *,
    membership: Membership,
    document_id: uuid.UUID | str,
    ready: bool = False,
    audited: bool = True,
) -> PlanDocument:
    """The document, audited as read (`audited=False`: the caller records the read itself,
    as a download does, with its own action)."""
    qs = documents_for(membership=membership)
    document = get_or_404(qs.filter(status="ready") if ready else qs, document_id)
    if audited:
        audit_read_by(membership=membership, obj=document, client_id=document.plan.client_id)
    return document


def document_again(
    *, membership: Membership, document_id: uuid.UUID | str, token_id: int
) -> PlanDocument | None:
    """The document as it is now, read again after a wait, in one query that also asks again
    whether the caller may still see it: the token not revoked, the user active and still a
    member, still on the client's care team. None when any of these fails (the caller is then
    asked again step by step, to answer 401, 403 or 404 as at the start)."""
    still = Exists(ApiToken.objects.filter(pk=token_id, user_id=membership.user_id)) & Exists(
        Membership.objects.filter(
            pk=membership.pk, clinic_id=membership.clinic_id, user__is_active=True
        )
    )
    return documents_for(membership=membership).filter(still, pk=document_id).first()


_waiters = threading.BoundedSemaphore(max(settings.DOCUMENT_WAITERS, 1))
# One caller may hold at most half of a process's waiting slots (at least one), so that no one
# token, of this clinic or another, can take them all.
_PER_CALLER = max(settings.DOCUMENT_WAITERS // 2, 1)
_by_caller: dict[object, int] = {}
_by_caller_lock = threading.Lock()


@contextlib.contextmanager
def _slot(caller: object) -> Iterator[bool]:
    """A waiting slot for this caller: True when one is free, else False (answer at once)."""
    with _by_caller_lock:
        mine = _by_caller.get(caller, 0)
        got = mine < _PER_CALLER and _waiters.acquire(blocking=False)
        if got:
            _by_caller[caller] = mine + 1
    try:
        yield got
    finally:
        if got:
            with _by_caller_lock:
                _by_caller[caller] -= 1
                if not _by_caller[caller]:
                    del _by_caller[caller]
            _waiters.release()


# Without Redis a waiting read looks at the row often at first (most renders finish within a
# second), then less, so that a slow render costs the database little. With Redis it sleeps on
# the document's channel and looks again only when woken, or every half second in case a
# message was lost.
_WAIT_FAST, _WAIT_FAST_FOR, _WAIT_SLOW, _WAIT_WOKEN = 0.005, 2.0, 0.05, 0.5


def document_wait(*, document_id: uuid.UUID | str, seconds: float, caller: object) -> bool:
    """Wait until the document is ready or failed, or `seconds` pass. Returns False without
    waiting when the process already has DOCUMENT_WAITERS requests waiting, or this caller its
    share of them. Reads one column of one row by primary key, outside any transaction, so each
    look sees the latest commit."""
    if settings.DOCUMENT_WAITERS == 0:
        return False
    with _slot(caller) as free:
        return free and _wait(str(document_id), seconds)


def _wait(document_id: str, seconds: float) -> bool:
    pubsub = wake.subscribe(document_id)  # before the first look: no wake-up is missed
    try:
        start = time.monotonic()
        deadline = start + seconds
        row = PlanDocument.objects.filter(pk=document_id).values_list("status", flat=True)
        while True:
            status = row.first()
            now = time.monotonic()
            if status in (None, DocStatus.READY, DocStatus.FAILED) or now >= deadline:
                return True
            if pubsub is not None:
                try:
                    if pubsub.get_message(timeout=min(_WAIT_WOKEN, deadline - now)):
                        return True  # the worker's word: the document is ready or failed
                    continue
                except Exception:  # Redis went away: look at the row instead
                    pubsub = None
            pause = _WAIT_FAST if now - start < _WAIT_FAST_FOR else _WAIT_SLOW
            time.sleep(min(pause, deadline - now))
    finally:
        if pubsub is not None:
            with contextlib.suppress(Exception):  # closing a dead connection: nothing to do
                pubsub.close()
