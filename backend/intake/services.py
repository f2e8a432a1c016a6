"""Writing intakes. The wizard and the REST API both call these, with answers that a step form
from forms/ has already validated, so the two can never drift apart."""

from collections.abc import Collection
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from audit.services import audit_record
from clients.models import Client
from clients.services import client_update
from forms import (
    FORM_VERSION,
    PRIVATE_CHECK_STEPS,
    Step,
    asks_couple_about_work,
    needs_safety_prompt,
    prune_answers,
)
from forms.spec import KindIs

from .models import Intake, PrivateCheck, Reflection, Status


class IntakeError(Exception):
    """Base for the intake rules a caller can break; the message is safe to show."""


class StepNotEnabled(IntakeError):
    pass


class IntakeClosed(IntakeError):
    pass


class ConsentFirst(StepNotEnabled):
    """A client's answer sent before confidentiality was explained and confirmed (DESIGN: the
    consent step "must be true to continue"): nothing is kept until it is."""


class PrivateChecksFirst(StepNotEnabled):
    """A couple's joint answer about the work sent before each partner's private check was
    taken with them alone (GUIDELINES, "Couples are two people"): nothing is kept until then."""


def private_checks_untaken(intake: Intake) -> list[str]:
    """A couple's private checks not taken yet, in order."""
    taken = set(
        PrivateCheck.objects.filter(intake=intake, step__in=PRIVATE_CHECK_STEPS).values_list(
            "step", flat=True
        )
    )
    return [name for name in PRIVATE_CHECK_STEPS if name not in taken]


def private_checks_taken(intake: Intake) -> bool:
    return not private_checks_untaken(intake)


class IntakeIncomplete(IntakeError):
    def __init__(self, missing: dict[str, list[str]]) -> None:
        super().__init__("The intake cannot be completed yet.")
        self.missing = missing


@transaction.atomic
def intake_start(*, membership: Membership, actor: User, client: Client, kind: str) -> Intake:
    intake = Intake.objects.create(
        clinic_id=membership.clinic_id,
        client=client,
        kind=kind,
        form_version=FORM_VERSION,
        created_by=actor,
        current_step="consent",
    )
    audit_record(
        actor=actor, clinic_id=intake.clinic_id, action="create", obj=intake, client_id=client.pk
    )
    return intake


def _locked(intake: Intake) -> Intake:
    """Re-read the row under a lock so concurrent step saves apply one after the other."""
    fresh = Intake.objects.select_for_update().get(pk=intake.pk)
    intake.answers, intake.status = fresh.answers, fresh.status
    return intake


@transaction.atomic
def intake_submit_step(
    *,
    intake: Intake,
    step: Step,
    answers: dict[str, Any],
    actor: User,
    sent: Collection[str] = (),
    held_back: dict[str, dict[str, Any]] | None = None,
) -> list[str]:
    """Store one step's validated answers. Returns the answers of other steps that a changed
    answer switched off, now deleted (never kept hidden): whole steps by name, single answers
    as "step.field". The wizard tells the client; the step API lists them.

    The pronouns a client changes in "About you" become the ones on record (the clinic's lists,
    the API, FHIR Patient, the next intake): when given, or when `sent` (the fields the save
    sent, blank ones too) says they were cleared.

    `held_back`: what a quick exit sent on this page but could not save, {field: {"why": …,
    "words": […]}} (Intake.held_back); any save of the page replaces the page's earlier note."""
    intake = _locked(intake)
    # What this intake said before this save (or, not yet saved, what the wizard offered: the
    # record's): only a change made here reaches the record, so re-saving an older intake's
    # page as it was never puts back pronouns given since in another.
    syncs_pronouns = step.name == "about" and intake.kind == "individual"
    about_before = intake.answers.get("about")
    pronouns_before = (
        ""
        if not syncs_pronouns  # only "About you" reads the record (one query, not every save)
        else about_before.get("pronouns", "")
        if about_before is not None
        else intake.client.pronouns
    )
    # The joint answers close with the intake (its plan was drafted from them). The reflection
    # and the couple's private checks are kept apart from them and stay open: a check taken
    # with a partner alone after the joint session is never turned away.
    if intake.status != Status.IN_PROGRESS and not step.clinician_only:
        raise IntakeClosed("This intake is completed; its answers can no longer change.")
    confirmed = intake.answers.get("consent", {}).get("confidentiality_explained")
    if step.name != "consent" and not step.clinician_only and not confirmed:
        raise ConsentFirst(
            "Confidentiality needs to be explained and confirmed first (the consent step, "
            "confidentiality_explained: true). Nothing on this step was saved."
        )
    if not step.enabled(intake.kind, intake.answers):
        if isinstance(step.enabled_when, KindIs):  # no answer would switch it on
            raise StepNotEnabled(
                f"\u201c{step.title}\u201d is not part of {intake.kind} intakes. "
                "Nothing on it was saved."
            )
        raise StepNotEnabled(
            f"\u201c{step.title}\u201d doesn't apply now, because of an earlier answer. "
            "Nothing on it was saved."
        )
    if asks_couple_about_work(intake.kind, step, answers) and not private_checks_taken(intake):
        raise PrivateChecksFirst(
            "Each partner's private check comes before the joint questions about work (the "
            "clinician takes private_check_a and private_check_b with each partner alone). "
            "Nothing on this step was saved."
        )
    removed: list[str] = []
    removed_fields: list[str] = []
    if step.audience == "author":
        Reflection.objects.update_or_create(
            intake=intake,
            author_id=actor.pk,
            defaults={
                "notes": answers.get("reflection_notes", ""),
                "consultation_wanted": bool(answers.get("consultation_wanted")),
            },
        )
    elif step.audience == "care_team":
        # Apart from the joint answers, so no joint reader can ever show them.
        PrivateCheck.objects.update_or_create(
            intake=intake,
            step=step.name,
            defaults={
                "answers": answers,
                "safety_prompt": needs_safety_prompt(step, answers),
                "updated_by": actor,
            },
        )
    else:
        intake.answers, removed, removed_fields = _saved_with(intake, step, answers)
    if not step.clinician_only:  # the wizard resumes on client steps only
        intake.current_step = step.name
        # What a quick exit could not save here, for the page to say when next shown; any
        # other save of the page has been seen through the wizard (or sent whole by the API).
        intake.held_back = {
            **{name: why for name, why in intake.held_back.items() if name != step.name},
            **({step.name: held_back} if held_back else {}),
        }
    if intake.status == Status.IN_PROGRESS:  # a completed intake's row (and its PDFs) unchanged
        intake.save(update_fields=["answers", "current_step", "held_back", "updated_at"])
    audit_record(
        actor=actor,
        clinic_id=intake.clinic_id,
        action="update",
        obj=intake,
        client_id=intake.client_id,
        step=step.name,
        removed_steps=removed,
        removed_fields=removed_fields,
        fields=sorted(answers),
    )
    given = "pronouns" in answers or "pronouns" in sent
    if syncs_pronouns and given:
        pronouns = answers.get("pronouns", "")
        if pronouns not in (pronouns_before, intake.client.pronouns):
            client_update(client=intake.client, actor=actor, pronouns=pronouns)
    return removed + removed_fields


def _saved_with(
    intake: Intake, step: Step, answers: dict[str, Any]
) -> tuple[dict[str, dict[str, Any]], list[str], list[str]]:
    """The intake's answers once this step's are saved, and what that switches off on other
    steps: whole steps by name, and single answers as "step.field" (a field of the step saved
    is not counted: one switched off was never asked of its page)."""
    merged = {**intake.answers, step.name: _keep_unsent(step, intake.answers, answers)}
    kept, removed = prune_answers(intake.kind, merged)
    removed_fields = [
        f"{name}.{field}"
        for name, kept_fields in kept.items()
        if name != step.name
        for field in merged.get(name, {})
        if field not in kept_fields
    ]
    return kept, removed, removed_fields


def intake_answers_lost_by(*, intake: Intake, step: Step, answers: dict[str, Any]) -> list[str]:
    """What saving these answers of one step would delete on other steps, counting only what
    holds an answer (a page saved blank loses nothing): step names, and "step.field" for
    single answers. Nothing is saved; the wizard asks before such a save."""
    before = intake.answers
    _, removed, removed_fields = _saved_with(intake, step, answers)
    lost = [name for name in removed if any(_held(v) for v in before[name].values())]
    for item in removed_fields:
        name, field = item.split(".", 1)
        if _held(before[name][field]):
            lost.append(item)
    return lost


def _held(value: Any) -> bool:
    return value not in (None, "", [], False)


def _keep_unsent(step: Step, saved: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """A `kept_unless_sent` field (the worker's own account) changes only when a save sends it:
    left out, the saved words stay; sent empty, they are cleared."""
    out = dict(answers)
    before = saved.get(step.name, {})
    for spec in step.fields:
        if not spec.kept_unless_sent:
            continue
        if spec.name not in out:
            if before.get(spec.name):
                out[spec.name] = before[spec.name]
        elif out[spec.name] in ("", None):
            del out[spec.name]
    return out


def intake_missing(intake: Intake) -> dict[str, list[str]]:
    missing: dict[str, list[str]] = {}
    if not intake.answers.get("consent", {}).get("confidentiality_explained"):
        missing["consent.confidentiality_explained"] = [
            "Confidentiality needs to be explained and confirmed first."
        ]
    goals = intake.answers.get("goals", {})
    if not goals.get("client_goals") and not goals.get("goals_unsure"):
        missing["goals.client_goals"] = ["At least one goal in the client's own words is needed."]
    return missing


@transaction.atomic
def intake_complete(*, intake: Intake, actor: User) -> Any:
    """Complete the intake and draft the plan from it. Completing again returns the same plan."""
    from plans.services import plan_create_from_intake

    intake = _locked(intake)
    if intake.status == Status.COMPLETED:
        return plan_create_from_intake(intake=intake, actor=actor)
    missing = intake_missing(intake)
    if missing:
        raise IntakeIncomplete(missing)
    intake.answers, _ = prune_answers(intake.kind, intake.answers)
    intake.status = Status.COMPLETED
    intake.held_back = {}  # the pages are closed: nothing left to say on them
    intake.completed_at = timezone.now()
    intake.completed_by = actor  # type: ignore[assignment]
    intake.save()
    audit_record(
        actor=actor,
        clinic_id=intake.clinic_id,
        action="complete",
        obj=intake,
        client_id=intake.client_id,
    )
    plan = plan_create_from_intake(intake=intake, actor=actor)
    from webhooks.services import webhook_emit

    webhook_emit(
        clinic_id=intake.clinic_id,
        event="intake.completed",
        data={
            "intake": str(intake.pk),
            "client": str(intake.client_id),
            "plan": str(plan.pk),
            "url": f"/api/v1/intakes/{intake.pk}/",
            "fhir": f"/fhir/QuestionnaireResponse/{intake.pk}",
        },
    )
    return plan
