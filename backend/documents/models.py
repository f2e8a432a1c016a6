"""A rendered plan PDF and its status row: queued -> rendering -> ready | failed."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from common.models import BaseModel


class DocStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RENDERING = "rendering", _("Rendering")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class Copy(models.TextChoices):
    CLIENT = "client", "The client's copy"
    CLINIC = "clinic", "The clinic's copy"


class PlanDocument(BaseModel):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(
        "plans.TreatmentPlan", on_delete=models.CASCADE, related_name="documents"
    )
    plan_version = models.PositiveIntegerField()
    # When the plan it shows was saved: a draft stays "version 1" through many saves, and two
    # copies of it are told apart (and from the plan as it is now) by this.
    plan_saved_at = models.DateTimeField(null=True, blank=True)
    # Whether that save was agreed (the PDF prints "agreed" or "draft"): a draft's PDF is never
    # a final document, even once rendered. Blank for documents made before this was recorded.
    plan_status = models.CharField(max_length=20, blank=True, default="")
    # Hash of everything the PDF is made from (services.content_key): never rendered twice.
    content_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=DocStatus.choices, default=DocStatus.QUEUED)
    # The options it was made with (DESIGN, "The client's copy"): codes only, never text.
    copy = models.CharField(max_length=10, choices=Copy.choices, default=Copy.CLINIC)
    discreet = models.BooleanField(default=False)
    sections = models.JSONField(default=list)
    protected = models.BooleanField(default=False)  # opens only with the requester's passphrase
    # The passphrase, Fernet-encrypted, from the request until the worker has used it; wiped
    # (set to "") in the same update that marks the document ready or failed.
    passphrase_token = models.TextField(blank=True, default="")
    # The HTML the PDF is made from, fixed when it was asked for (the plan as it was then, held
    # still while read): a save made while it waits to render never changes it. A Fernet token,
    # as the passphrase's, so reads of the row decrypt nothing; wiped ("") in the same update
    # that marks the document ready or failed. Empty for documents queued without it (bulk
    # exports): the worker then makes it from the plan.
    html_token = models.TextField(blank=True, default="")
    sha256 = models.CharField(max_length=64, blank=True)  # of the PDF the client receives
    size = models.PositiveIntegerField(null=True, blank=True)
    file = models.CharField(max_length=200, blank=True)  # storage name; encrypted at rest
    error = models.CharField(max_length=200, blank=True)  # never client text
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_by = models.CharField(max_length=200, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "content_hash"],
                condition=~Q(status="failed"),
                name="one_live_document_per_content",
            )
        ]
        indexes = [models.Index(fields=["status", "lease_until"])]

    def __str__(self) -> str:
        return f"Document {self.pk} ({self.status})"

    @property
    def filename(self) -> str:
        """Neutral, never the client's name; a discreet copy's says no more than its title."""
        return "my-plan.pdf" if self.discreet else "care-plan.pdf"
