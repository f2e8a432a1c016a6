"""The collaborative treatment plan drafted from a completed intake."""

from common.crypto import EncryptedTextField
from common.models import BaseModel
from django.conf import settings
from django.db import models


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    AGREED = "agreed", "Agreed"


class TreatmentPlan(BaseModel):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="plans")
    intake = models.ForeignKey("intake.Intake", on_delete=models.CASCADE, related_name="plans")
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    review_date = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["intake", "version"], name="one_plan_per_version")
        ]

    def __str__(self) -> str:
        return f"Plan {self.pk} v{self.version}"


class PlanGoal(BaseModel):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="goals")
    position = models.PositiveSmallIntegerField()
    # The client's words, verbatim. A clinical restatement may sit beside them, never instead.
    client_words = EncryptedTextField()
    clinical_restatement = EncryptedTextField(blank=True, default="")
    target_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
