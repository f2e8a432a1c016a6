"""A bulk export of plan PDFs for a date range, with its progress."""

from django.conf import settings
from django.db import models

from common.models import BaseModel


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"  # the PDFs are being rendered, spread over the workers
    ASSEMBLING = "assembling", "Assembling"  # all PDFs ready; the zip is being written
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"  # past EXPORT_RETENTION_DAYS: the file is gone


class ExportJob(BaseModel):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    date_from = models.DateField()
    date_to = models.DateField()
    status = models.CharField(
        max_length=20, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=200, blank=True)  # encrypted zip in storage
    size = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    # Set while a worker writes the zip; an assembly older than its lease is taken over.
    assembling_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Export {self.pk} ({self.status})"


class ExportItem(models.Model):
    """One plan in an export, fixed when the export starts: each plan is in the zip once."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="items")
    # Erasing a client deletes their plans, and with them their place in every export.
    plan = models.ForeignKey("plans.TreatmentPlan", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    plan_version = models.PositiveIntegerField()
    document = models.ForeignKey(
        "documents.PlanDocument", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    renders_requested = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "plan"], name="each_plan_once_per_export")
        ]
        indexes = [models.Index(fields=["document"])]

    def __str__(self) -> str:
        return f"Export item {self.pk}"
