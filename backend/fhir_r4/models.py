"""FHIR Bulk Data exports: the request only. Files are built when downloaded, from the records
as the requester may see them, so no exported copy of client data is ever stored."""

from django.conf import settings
from django.db import models

from common.models import BaseModel


class BulkExport(BaseModel):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    # Who asked: a backend client or a person; only they may fetch the files.
    backend_client = models.ForeignKey(
        "smart.BackendClient", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    types = models.JSONField()
    since = models.DateTimeField(null=True, blank=True)
    # The kick-off request, from the FHIR base: "$export?_type=CarePlan" (the manifest's
    # `request`). Made of the checked parameters only: type names and an instant.
    kick_off = models.CharField(max_length=300, blank=True, default="")

    def __str__(self) -> str:
        return f"Bulk export {self.pk}"
