"""An intake: the answers to the steps in forms/, encrypted at rest as one document."""

from django.conf import settings
from django.db import models

from common.crypto import EncryptedJSONField, EncryptedTextField
from common.models import BaseModel


class Kind(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    COUPLE = "couple", "Couple"


class Status(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class Intake(BaseModel):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="intakes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    form_version = models.CharField(max_length=20)
    # {step: {field: value}}. A step present with a field absent was skipped; a step absent was
    # never asked; "prefer_not_to_say" is an answer of its own.
    answers = EncryptedJSONField(default=dict)
    current_step = models.CharField(max_length=40, blank=True)
    # {step: {field: {"why": …, "words": […]}}}: what a quick exit could not save on a page
    # ("removes_answers": the change would delete answers on other pages, which is asked first;
    # "not_valid": it did not fit the question, too long say, with the words typed). The page
    # says so, and shows the words back, when next shown; saving the page clears this.
    held_back = EncryptedJSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["clinic", "status", "-updated_at"])]

    def __str__(self) -> str:
        return f"Intake {self.pk}"


class Reflection(BaseModel):
    """The clinician's private reflection (Guideline 10): its author's alone, never exported."""

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="reflections")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    notes = EncryptedTextField(blank=True, default="")
    consultation_wanted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["intake", "author"], name="one_reflection_per_author")
        ]


class PrivateCheck(BaseModel):
    """A couple partner's private check (`private_check_a` / `private_check_b`), taken with
    that partner alone. Kept apart from `Intake.answers` on purpose: every joint reader (the
    wizard, the review, the plan, PDFs, FHIR, the intake's API representation) reads only
    `Intake.answers`, so none of them can show these by mistake. Only the care team reads them.
    """

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="private_checks")
    step = models.CharField(max_length=40)
    answers = EncryptedJSONField(default=dict)
    # Derived from the answers by forms/ (feels_safe "no", pressure "a_lot"), kept in clear so
    # that the clinician's page can list the prompts without decrypting every check.
    safety_prompt = models.BooleanField(default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["intake", "step"], name="one_private_check_per_step")
        ]
