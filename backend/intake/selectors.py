"""Reading intakes, scoped to the caller's clinic, and the per-step state a viewer may see."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import ApiToken, Membership
from audit.services import audit_read_by
from clients.selectors import clinical_scope
from common.selectors import get_or_404
from forms import STEPS, Step, enabled_steps
from forms.who_sees import Sharing

from .models import Intake, PrivateCheck, Reflection, Status


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
    if step.audience == "care_team":
        # The caller already passed intake_get, i.e. is on the client's care team.
        check = PrivateCheck.objects.filter(intake=intake, step=step.name).first()
        return None if check is None else dict(check.answers)
    if step.audience == "author":
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
    clinician_only: bool = False


def intake_steps(*, intake: Intake, viewer: AbstractBaseUser) -> list[StepState]:
    enabled = {s.name for s in enabled_steps(intake.kind, intake.answers)}
    done = set(intake.answers)
    if reflection_of(intake=intake, viewer=viewer) is not None:
        done.add("reflection")
    done.update(PrivateCheck.objects.filter(intake=intake).values_list("step", flat=True))
    return [
        StepState(
            name=step.name,
            enabled=step.name in enabled,
            complete=step.name in done,
            clinician_only=step.clinician_only,
        )
        for step in STEPS
    ]


def private_checks(*, intake: Intake) -> dict[str, dict[str, Any] | None]:
    """The couple private checks, for the care team (callers reach this through intake_get)."""
    stored = {c.step: dict(c.answers) for c in PrivateCheck.objects.filter(intake=intake)}
    return {s.name: stored.get(s.name) for s in STEPS if s.audience == "care_team"}


def safety_prompts(*, membership: Membership) -> QuerySet[PrivateCheck]:
    """Private checks asking for a safety follow-up, for the clients this member works with."""
    return (
        PrivateCheck.objects.filter(
            safety_prompt=True, intake__in=intake_list(membership=membership)
        )
        .select_related("intake__client")
        .order_by("-updated_at")
    )


def intake_readers(*, intake: Intake) -> list[Any]:
    """The clinicians who can read this intake's clinical content.

    Derived from `clients.selectors.clinical_scope`, the one access rule (care team), so the
    "who sees this" text can never promise less than the rule allows."""
    memberships = Membership.objects.filter(clinic_id=intake.clinic_id).select_related("user")
    readers = []
    for member in memberships:
        if not member.user.is_active:
            continue
        if Intake.objects.filter(clinical_scope(membership=member), pk=intake.pk).exists():
            readers.append(member.user)
    return readers


def intake_sharing(*, intake: Intake) -> Sharing:
    """Who can read this intake today, for the "who sees this" text (forms/who_sees.py).

    Connected systems: any API token of a reader (integrations act through tokens), any webhook
    endpoint of the clinic, and any registered backend (EHR) client, when that feature exists."""
    readers = intake_readers(intake=intake)
    live = Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    connected = ApiToken.objects.filter(live, user__in=[u.pk for u in readers]).exists()
    for label in ("webhooks.WebhookEndpoint", "accounts.BackendClient", "fhir_r4.BackendClient"):
        if connected:
            break
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        qs = model.objects.filter(clinic_id=intake.clinic_id)
        if any(f.name == "active" for f in model._meta.fields):
            qs = qs.filter(active=True)
        connected = qs.exists()
    names = tuple(sorted(u.get_full_name() or u.get_username() for u in readers))
    return Sharing(readers=names, connected=connected, couple=intake.kind == "couple")


def intake_in_progress(*, membership: Membership) -> QuerySet[Intake]:
    return intake_list(membership=membership).filter(status=Status.IN_PROGRESS)
