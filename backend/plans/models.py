"""The collaborative treatment plan drafted from a completed intake.

A plan is one identity with a current version. Agreeing freezes the version as a PlanVersion
snapshot; editing an agreed plan opens the next version as a draft, so past versions stay
readable exactly as they were agreed.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from common.crypto import EncryptedJSONField, EncryptedTextField
from common.models import BaseModel

TEXT_MAX = 4000


def default_client_copy_sections() -> list[str]:
    from .contract import default_client_copy_sections as sections

    return sections()


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AGREED = "agreed", _("Agreed")


class ClientDecision(models.TextChoices):
    AGREES = "agrees", _("I agree with this plan")
    WANTS_CHANGES = "wants_changes", _("I agree, with the changes I asked for")
    NOT_YET = "not_yet", _("Not yet")


class StepOwner(models.TextChoices):
    # Lazy, as every label here: the client's copy and the plan page say them in the client's
    # language (the API in English).
    CLIENT = "client", _("Me")
    CLINICIAN = "clinician", _("My clinician")
    PEER = "peer", _("A peer")
    OTHER_SUPPORT = "other_support", _("Someone else who supports me")


class TreatmentPlan(BaseModel):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="plans")
    intake = models.OneToOneField("intake.Intake", on_delete=models.CASCADE, related_name="plan")
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    # Strengths are codes from the intake (precautions, coping) plus the client's own words.
    strengths = EncryptedJSONField(default=list)
    strengths_notes = EncryptedTextField(blank=True, default="")
    supports = EncryptedJSONField(default=list)
    supports_notes = EncryptedTextField(blank=True, default="")
    safety_plan = EncryptedTextField(blank=True, default="")
    review_date = models.DateField(null=True, blank=True)
    # Section codes the client chose to take home (contract.COPY_SECTIONS); codes, no text.
    client_copy_sections = models.JSONField(default=default_client_copy_sections)
    client_decision = models.CharField(max_length=20, choices=ClientDecision.choices, blank=True)
    client_comment = EncryptedTextField(blank=True, default="")
    client_signed_name = EncryptedTextField(blank=True, default="")
    clinician_signed_name = EncryptedTextField(blank=True, default="")
    agreed_at = models.DateTimeField(null=True, blank=True)
    # What the decision above was given on: the version and a hash of its content as shown.
    agreement_version = models.PositiveIntegerField(null=True, blank=True)
    agreement_sha256 = models.CharField(max_length=64, blank=True)
    agreement_recorded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["clinic", "-updated_at"])]

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

    def __str__(self) -> str:
        return f"Goal {self.pk}"


class PlanStep(BaseModel):
    goal = models.ForeignKey(PlanGoal, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    description = EncryptedTextField()
    who = models.CharField(max_length=20, choices=StepOwner.choices, default=StepOwner.CLIENT)
    frequency = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"Step {self.pk}"


class PlanVersion(models.Model):
    """An agreed version, frozen as the API representation it had when agreed."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    snapshot = EncryptedJSONField()
    agreed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="one_snapshot_per_version")
        ]

    def __str__(self) -> str:
        return f"Plan {self.plan_id} v{self.version}"


class PlanAgreement(BaseModel):
    """Each decision the client gave, on exactly which version and content (kept as history)."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="agreements")
    version = models.PositiveIntegerField()
    content_sha256 = models.CharField(max_length=64)
    client_decision = models.CharField(max_length=20, choices=ClientDecision.choices)
    client_comment = EncryptedTextField(blank=True, default="")
    client_signed_name = EncryptedTextField(blank=True, default="")
    clinician_signed_name = EncryptedTextField(blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Agreement {self.pk}"


class PlanReview(BaseModel):
    """A review with the client: their own rating of progress on each goal, over time."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="reviews")
    plan_version = models.PositiveIntegerField()
    note = EncryptedTextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Review {self.pk}"


class GoalProgress(models.Model):
    """The client's rating of one goal at one review: 0 not started ... 4 done."""

    review = models.ForeignKey(PlanReview, on_delete=models.CASCADE, related_name="ratings")
    goal = models.ForeignKey(PlanGoal, on_delete=models.CASCADE, related_name="progress")
    progress = models.PositiveSmallIntegerField()
    client_note = EncryptedTextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "goal"], name="one_rating_per_goal"),
            models.CheckConstraint(condition=models.Q(progress__lte=4), name="progress_is_0_to_4"),
        ]

    def __str__(self) -> str:
        return f"Progress {self.pk}"


class PlanReadCopy(models.Model):
    """The plan's API representation as last built, and the state it was built from (`stamp`:
    the plan's ETag, the language and the representation's code). A read of an unchanged plan
    decrypts this one value instead of loading every goal, step and referral. Every change to a
    plan's content saves the plan (a new updated_at, so a new ETag), so a copy built before it is
    never served. Encrypted like the rows it copies; erased with the plan."""

    plan = models.OneToOneField(
        TreatmentPlan, on_delete=models.CASCADE, primary_key=True, related_name="read_copy"
    )
    stamp = models.CharField(max_length=64)
    body = EncryptedJSONField()

    def __str__(self) -> str:
        return f"Read copy of plan {self.pk}"


class PlanDraft(BaseModel):
    """What a clinician had typed in the plan editor, unsaved, when they left with quick exit:
    kept for them alone and offered back the next time they open the plan (nothing is saved to
    the plan until they press Save). The form as sent, with the version it began from, so a
    save from it is checked for others' changes like any other. Encrypted; erased with the
    plan, on their next save or when they discard it."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="drafts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    form = EncryptedJSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "author"], name="one_draft_per_plan_author")
        ]
