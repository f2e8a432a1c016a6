"""Base model: a random UUID as the public id (nothing guessable or countable) and timestamps."""

import uuid

from django.db import models


class BaseModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker said it was alive; /healthz reads it instead of pinging."""

    name = models.CharField(max_length=200, primary_key=True)  # the worker's hostname
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.name
