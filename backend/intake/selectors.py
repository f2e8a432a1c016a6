"""Reading intakes, scoped to the caller's clinic, and the per-step state a viewer may see."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from accounts.models import Membership
from audit.services import audit_read_by
from clients.selectors import clinical_scope
from common.selectors import get_or_404
from forms import STEPS, Step, enabled_steps

from .models import Intake, Reflection, Status


def intake_list(*, membership: Membership) -> QuerySet[Intake]:
    return Intake.objects.filter(
        clinical_scope(membership=membership), clinic_id=membership.clinic_id
    )


def intake_get(*, membership: Membership, intake_id: uuid.UUID | str) -> Intake:
    intake = get_or_404(intake_list(membership=membership).select_related("client"), intake_id)
    audit_read_by(membership=membership, obj=intake, client_id=intake.client_id)
    return intake


def reflection_of(*, intake: Intake, viewer: AbstractBaseUser) -> Reflection | None:
    """Only the author's own reflection exists for them; nobody else's is ever returned."""
    return Reflection.objects.filter(intake=intake, author_id=viewer.pk).first()


def step_answers(*, intake: Intake, step: Step, viewer: AbstractBaseUser) -> dict[str, Any] | None:
    """The viewer's view of one step's answers; None when the step was never answered."""
    if step.clinician_only:
        reflection = reflection_of(intake=intake, viewer=viewer)
        if reflection is None:
            return None
        return {
            "reflection_notes": reflection.notes,
            "consultation_wanted": reflection.consultation_wanted,
        }
    answers: dict[str, Any] | None = intake.answers.get(step.name)
    return answers


@dataclass(frozen=True)
class StepState:
    name: str
    enabled: bool
    complete: bool


def intake_steps(*, intake: Intake, viewer: AbstractBaseUser) -> list[StepState]:
    enabled = {s.name for s in enabled_steps(intake.kind, intake.answers)}
    has_reflection = reflection_of(intake=intake, viewer=viewer) is not None
    return [
        StepState(
            name=step.name,
            enabled=step.name in enabled,
            complete=has_reflection if step.clinician_only else step.name in intake.answers,
        )
        for step in STEPS
    ]


def intake_in_progress(*, membership: Membership) -> QuerySet[Intake]:
    return intake_list(membership=membership).filter(status=Status.IN_PROGRESS)
