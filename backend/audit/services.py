"""Recording and sealing audit events. Callers pass objects; only their type and id are written.

Reads append signed events without any lock (`audit_read`, collected per request by
`audit.middleware.ReadAuditMiddleware`); writes append and then seal (`audit_record`). Sealing
takes the clinic's head lock and chains every unsealed event in order; it also runs from a
periodic task and from `manage.py audit_verify`.
"""

import logging
import uuid
from collections.abc import Iterable
from datetime import UTC
from typing import Any

from django.apps import apps
from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone

from .chain import canonical_detail, event_mac, head_mac, link_hash
from .context import pending_reads, read_view, request_id_var
from .models import AuditChainHead, AuditEvent

logger = logging.getLogger("audit.anchor")

SEAL_BATCH = 500


def _signed_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "uid": str(event.uid),
        "at": event.at.astimezone(UTC).isoformat(),
        "clinic_id": str(event.clinic_id),
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "client_id": str(event.client_id) if event.client_id else None,
        "request_id": event.request_id,
        "detail": event.detail,
    }


def audit_event_build(
    *,
    actor_id: int | None,
    clinic_id: uuid.UUID,
    action: str,
    obj: models.Model,
    client_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """An unsaved, signed, unsealed event."""
    event = AuditEvent(
        at=timezone.now(),
        uid=uuid.uuid4(),
        clinic_id=clinic_id,
        actor_id=actor_id,
        action=action,
        object_type=obj._meta.model_name or obj.__class__.__name__.lower(),
        object_id=str(obj.pk),
        client_id=client_id,
        request_id=request_id_var.get(),
        detail=canonical_detail(detail or {}),
    )
    event.mac = event_mac(_signed_fields(event))
    return event


def audit_append(events: list[AuditEvent]) -> None:
    """Appends signed events in one insert, without touching any chain head."""
    if events:
        AuditEvent.objects.bulk_create(events)


@transaction.atomic(savepoint=False)  # inside a caller's transaction, it fails with it
def audit_record(
    *,
    actor: User | None,
    clinic_id: uuid.UUID,
    action: str,
    obj: models.Model,
    client_id: uuid.UUID | None = None,
    seal_on_commit: bool = False,
    **detail: Any,
) -> AuditEvent:
    """A change (or any event outside a request): appended, then sealed with whatever waits.
    `seal_on_commit`: sealed once the caller's transaction commits, after the on-commit work
    registered before this call (a PDF request sends its job to the workers first)."""
    event = audit_event_build(
        actor_id=actor.pk if actor is not None else None,
        clinic_id=clinic_id,
        action=action,
        obj=obj,
        client_id=client_id,
        detail=detail,
    )
    audit_append([event])
    if seal_on_commit:
        transaction.on_commit(lambda: audit_seal(clinic_id=clinic_id))
    else:
        audit_seal(clinic_id=clinic_id)
    return event


@transaction.atomic(savepoint=False)
def audit_record_per_client(
    *,
    actor_id: int | None,
    clinic_id: uuid.UUID,
    action: str,
    obj: models.Model,
    clients: dict[uuid.UUID, dict[str, Any]],
) -> None:
    """One event per client touched by one action (an export names each client whose plans
    left), so that filtering the audit by client finds it; appended together, sealed once."""
    audit_append(
        [
            audit_event_build(
                actor_id=actor_id,
                clinic_id=clinic_id,
                action=action,
                obj=obj,
                client_id=client_id,
                detail=detail,
            )
            for client_id, detail in clients.items()
        ]
    )
    audit_seal(clinic_id=clinic_id)


def audit_read(
    *,
    actor: User | None = None,
    actor_id: int | None = None,
    clinic_id: uuid.UUID,
    obj: models.Model,
    client_id: uuid.UUID | None = None,
    action: str = "read",
    **detail: Any,
) -> None:
    """A read. Inside a request it waits for the response (and is dropped if the request
    fails); elsewhere it is appended at once. Either way it takes no lock."""
    for key, value in (read_view.get() or {}).items():
        detail.setdefault(key, value)
    event = audit_event_build(
        actor_id=actor.pk if actor is not None else actor_id,
        clinic_id=clinic_id,
        action=action,
        obj=obj,
        client_id=client_id,
        detail=detail,
    )
    pending = pending_reads.get()
    if pending is None:
        audit_append([event])
    else:
        pending.append(event)


def audit_read_by(
    *,
    membership: Any,
    obj: models.Model,
    client_id: uuid.UUID | None,
    action: str = "read",
    **detail: Any,
) -> None:
    """A read by a clinic member, as the selectors register it."""
    audit_read(
        actor_id=membership.user_id,
        clinic_id=membership.clinic_id,
        obj=obj,
        client_id=client_id,
        action=action,
        **detail,
    )


def client_linked(model: type[models.Model]) -> bool:
    """Rows of this model show a client (the client itself, or something of theirs)."""
    if model._meta.label == "audit.AuditEvent":  # ids of events, read by admins
        return False
    if model._meta.label == "clients.Client":
        return True
    if model._meta.label == "documents.PlanDocument":  # a plan's, so a client's
        return True
    return any(f.name == "client" or f.attname == "client_id" for f in model._meta.concrete_fields)


def audit_listed(*, membership: Any, rows: Iterable[models.Model], **detail: Any) -> None:
    """One event per list shown, naming the clients on it (ids only)."""
    clients: list[str] = []
    for row in rows:
        if row._meta.label == "clients.Client":
            cid = row.pk
        elif row._meta.label == "documents.PlanDocument":
            cid = row.plan.client_id  # type: ignore[attr-defined]  # selected with the row
        else:
            cid = getattr(row, "client_id", None)
        if cid is not None and str(cid) not in clients:
            clients.append(str(cid))
    clinic = apps.get_model("accounts", "Clinic")(pk=membership.clinic_id)  # no query
    audit_read(
        actor_id=membership.user_id,
        clinic_id=membership.clinic_id,
        obj=clinic,
        action="list",
        clients=clients,
        **detail,
    )


def audit_seal(*, clinic_id: uuid.UUID, limit: int | None = None) -> int:
    """Chains the clinic's unsealed events in id order; returns how many were sealed.
    An event whose MAC does not verify (forged or edited before sealing) is left unsealed,
    so that `audit_verify` reports it."""
    sealed = 0
    after_id = 0
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().filter(clinic_id=clinic_id).first()
        if head is None:
            if AuditEvent.objects.filter(clinic_id=clinic_id, seq__isnull=False).exists():
                # Never start a second chain over a first one whose head has gone.
                logger.error("audit chain head of clinic=%s is missing; not sealing", clinic_id)
                return 0
            head, _ = AuditChainHead.objects.select_for_update().get_or_create(clinic_id=clinic_id)
        while limit is None or sealed < limit:
            size = SEAL_BATCH if limit is None else min(SEAL_BATCH, limit - sealed)
            batch = list(
                AuditEvent.objects.filter(
                    clinic_id=clinic_id, seq__isnull=True, id__gt=after_id
                ).order_by("id")[:size]
            )
            good = []
            for event in batch:
                if event.mac != event_mac(_signed_fields(event)):
                    logger.warning("audit event id=%s fails its MAC; left unsealed", event.pk)
                    continue
                head.seq += 1
                event.seq = head.seq
                event.prev_hash = head.hash
                event.hash = link_hash(prev_hash=head.hash, seq=head.seq, mac=event.mac)
                head.hash = event.hash
                good.append(event)
            if good:
                AuditEvent.objects.bulk_update(good, ["seq", "prev_hash", "hash"])
                sealed += len(good)
            if len(batch) < size:
                break
            after_id = batch[-1].pk
        if sealed or not head.mac:
            head.mac = head_mac(clinic_id=str(clinic_id), seq=head.seq, hash=head.hash)
            head.save()
            # An anchor outside the database: compare with `audit_verify` to see a rollback.
            logger.info("audit anchor clinic=%s seq=%s hash=%s", clinic_id, head.seq, head.hash)
    return sealed


def audit_seal_all() -> int:
    clinic_ids = (
        AuditEvent.objects.filter(seq__isnull=True).values_list("clinic_id", flat=True).distinct()
    )
    return sum(audit_seal(clinic_id=c) for c in list(clinic_ids))


def audit_chain_problems(*, clinic_id: uuid.UUID) -> list[str]:
    """Where the clinic's chain breaks, first break first; empty when intact.
    Run `audit_seal` first to include events appended since the last seal."""
    problems: list[str] = []
    # The head first: events a sealer adds while we read lie beyond it and are not judged.
    head = AuditChainHead.objects.filter(clinic_id=clinic_id).first()
    expected_seq = 0
    prev_hash = ""
    seen: set[uuid.UUID] = set()
    events = AuditEvent.objects.filter(clinic_id=clinic_id, seq__isnull=False)
    if head is not None:
        events = events.filter(seq__lte=head.seq)
    for event in events.order_by("seq").iterator(chunk_size=2000):
        assert event.seq is not None  # noqa: S101 - filtered above
        where = f"event id={event.pk} seq={event.seq}"
        if event.seq != expected_seq + 1:
            problems.append(
                f"seq {expected_seq + 1}..{event.seq - 1} missing before {where} (deleted)"
            )
        elif event.prev_hash != prev_hash:
            problems.append(f"{where}: does not follow seq {expected_seq} (reordered or moved)")
        if event.mac != event_mac(_signed_fields(event)):
            problems.append(f"{where}: content changed (MAC does not verify)")
        elif event.hash != link_hash(prev_hash=event.prev_hash, seq=event.seq, mac=event.mac):
            problems.append(f"{where}: link changed (hash does not verify)")
        if event.uid in seen:
            problems.append(f"{where}: duplicate of an earlier event (uid {event.uid})")
        seen.add(event.uid)
        expected_seq = event.seq
        prev_hash = event.hash
    for event in AuditEvent.objects.filter(clinic_id=clinic_id, seq__isnull=True):
        if event.mac != event_mac(_signed_fields(event)):
            problems.append(f"unsealed event id={event.pk}: forged or edited (MAC does not verify)")
    if head is None:
        if expected_seq:
            problems.append(f"head missing (chain holds {expected_seq} sealed events)")
    elif head.mac != head_mac(clinic_id=str(clinic_id), seq=head.seq, hash=head.hash):
        problems.append(f"head: changed (MAC does not verify; says seq={head.seq})")
    elif head.seq > expected_seq:
        problems.append(
            f"end of chain: head says {head.seq} events, the chain ends at seq={expected_seq} "
            f"(seq {expected_seq + 1}..{head.seq} deleted)"
        )
    elif head.hash != prev_hash:
        problems.append(f"end of chain: seq={head.seq} is not the event the head signed")
    return problems


def audit_chain_intact(*, clinic_id: uuid.UUID) -> bool:
    """False when any event was changed, removed (the newest included), inserted or reordered."""
    return not audit_chain_problems(clinic_id=clinic_id)
