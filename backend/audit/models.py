"""Append-only audit events: ids only, never client text.

Events are appended without any lock, each signed on its own (`mac`). Sealing then gives them a
place in the clinic's chain, in order (`seq`, `prev_hash`, `hash`), under the head's lock; the
head itself is signed with the count and the last link, so that a missing tail shows.
"""

import uuid
from typing import Any

from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    # Set before signing (not auto_now_add, which would overwrite it at insert).
    at = models.DateTimeField(default=timezone.now, db_index=True)
    uid = models.UUIDField(default=uuid.uuid4, unique=True)
    clinic_id = models.UUIDField(db_index=True)
    actor_id = models.IntegerField(null=True)
    action = models.CharField(max_length=20)  # create, read, update, export, erase, ...
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    client_id = models.UUIDField(null=True, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict)  # field names and codes only
    mac = models.CharField(max_length=64, blank=True)
    # Empty / null until sealed.
    seq = models.BigIntegerField(null=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["clinic_id", "seq"], name="audit_event_clinic_seq"),
        ]
        indexes = [
            models.Index(
                fields=["clinic_id", "id"],
                name="audit_event_unsealed",
                condition=models.Q(seq__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Audit events are append-only.")


class AuditChainHead(models.Model):
    """Each clinic's sealed chain: how many events, the last link, and a MAC over both.
    Locked only while sealing, never by a reader."""

    clinic_id = models.UUIDField(primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, blank=True)
    mac = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return str(self.clinic_id)
