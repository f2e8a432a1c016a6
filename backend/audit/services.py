"""Recording audit events. Callers pass objects; only their type and id are written."""

import hashlib
import json
import uuid
from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction

from .context import request_id_var
from .models import AuditChainHead, AuditEvent


def _digest(prev_hash: str, event: AuditEvent) -> str:
    fields = {
        "clinic_id": str(event.clinic_id),
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "client_id": str(event.client_id) if event.client_id else None,
        "request_id": event.request_id,
        "detail": event.detail,
    }
    payload = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


@transaction.atomic
def audit_record(
    *,
    actor: User | None,
    clinic_id: uuid.UUID,
    action: str,
    obj: models.Model,
    client_id: uuid.UUID | None = None,
    **detail: Any,
) -> AuditEvent:
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(clinic_id=clinic_id)
    event = AuditEvent(
        clinic_id=clinic_id,
        actor_id=actor.pk if actor is not None else None,
        action=action,
        object_type=obj._meta.model_name or obj.__class__.__name__.lower(),
        object_id=str(obj.pk),
        client_id=client_id,
        request_id=request_id_var.get(),
        detail=detail,
        prev_hash=head.hash,
    )
    event.hash = _digest(event.prev_hash, event)
    event.save()
    head.hash = event.hash
    head.save(update_fields=["hash"])
    return event


def audit_chain_intact(*, clinic_id: uuid.UUID) -> bool:
    """False when any event was changed, removed or inserted out of order."""
    prev_hash = ""
    for event in AuditEvent.objects.filter(clinic_id=clinic_id).order_by("id"):
        if event.prev_hash != prev_hash or event.hash != _digest(prev_hash, event):
            return False
        prev_hash = event.hash
    return True
