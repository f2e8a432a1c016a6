"""Append-only audit events: ids only, never client text. Each row hashes its predecessor."""

from typing import Any

from django.db import models


class AuditEvent(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    clinic_id = models.UUIDField(db_index=True)
    actor_id = models.IntegerField(null=True)
    action = models.CharField(max_length=20)  # create, read, update, export, erase, ...
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    client_id = models.UUIDField(null=True, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict)  # field names and codes only
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Audit events are append-only.")


class AuditChainHead(models.Model):
    """The newest hash of each clinic's chain. Locked while an event is added, so that
    concurrent events line up one after another instead of forking the chain."""

    clinic_id = models.UUIDField(primary_key=True)
    hash = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return str(self.clinic_id)
