"""Writing plans. A draft starts from the client's own goals, verbatim, and their strengths."""

from collections.abc import Collection
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from forms import work_is_a_topic
from intake.models import Intake

from .contract import PlanInvalid, clean_text
from .models import (
    ClientDecision,
    GoalProgress,
    PlanAgreement,
    PlanGoal,
    PlanReview,
    PlanStatus,
    PlanStep,
    PlanVersion,
    TreatmentPlan,
)

__all__ = ["PlanInvalid", "StalePlan", "plan_review_record", "plan_update"]

# Codes that say "nothing to record" are not strengths or supports.
NOT_RECORDED = {"prefer_not_to_say", "none"}


class StalePlan(Exception):
    """The caller edited a version of the plan that has since changed."""


def _codes(answers: dict[str, Any], step: str, field: str) -> list[str]:
    return [c for c in answers.get(step, {}).get(field, []) if c not in NOT_RECORDED]


def strengths_from_intake(answers: dict[str, Any]) -> list[dict[str, str]]:
    """Precautions (only when work is a topic) and coping strategies, as the client's strengths."""
    strengths = []
    if work_is_a_topic(answers):
        strengths += [
            {"source": "precautions", "code": c}
            for c in _codes(answers, "precautions", "precautions_used")
        ]
    strengths += [
        {"source": "coping", "code": c}
        for c in _codes(answers, "stigma_coping", "coping_strategies")
    ]
    return strengths


def safety_follow_up_wanted(answers: dict[str, Any]) -> bool:
    """The client told us of violence, harm by police, or no one to turn to (G1, G5)."""
    told = set(answers.get("stigma_coping", {}).get("stigma_experiences", []))
    alone = "none" in answers.get("supports", {}).get("current_supports", [])
    return bool(told & {"violence", "police"}) or alone


def _offer_safety_services(plan: TreatmentPlan, *, work_topic: bool) -> None:
    """Offer, never decide: the directory's safety services join the plan as undecided
    referrals, peer-led affirming ones first; the client chooses."""
    from referrals.models import ClientDecision as ReferralDecision
    from referrals.models import PlanReferral
    from referrals.selectors import safety_agencies

    PlanReferral.objects.bulk_create(
        PlanReferral(
            plan=plan,
            position=i,
            agency=agency,
            client_decision=ReferralDecision.UNDECIDED,
        )
        for i, agency in enumerate(safety_agencies(clinic_id=plan.clinic_id, work_topic=work_topic))
    )


@transaction.atomic
def plan_create_from_intake(*, intake: Intake, actor: User) -> TreatmentPlan:
    existing = TreatmentPlan.objects.filter(intake=intake).first()
    if existing is not None:  # completing twice gives the same draft, not a second one
        return existing
    answers = intake.answers
    supports = answers.get("supports", {})
    plan = TreatmentPlan.objects.create(
        clinic_id=intake.clinic_id,
        client_id=intake.client_id,
        intake=intake,
        created_by=actor,
        strengths=strengths_from_intake(answers),
        strengths_notes=answers.get("stigma_coping", {}).get("coping_notes", ""),
        supports=[c for c in supports.get("current_supports", []) if c not in NOT_RECORDED],
        safety_plan=supports.get("safety_plan", ""),
    )
    goals = answers.get("goals", {}).get("client_goals", [])
    PlanGoal.objects.bulk_create(
        PlanGoal(plan=plan, position=i, client_words=words) for i, words in enumerate(goals)
    )
    if safety_follow_up_wanted(answers):
        _offer_safety_services(plan, work_topic=work_is_a_topic(answers))
    audit_record(
        actor=actor,
        clinic_id=intake.clinic_id,
        action="create",
        obj=plan,
        client_id=intake.client_id,
    )
    return plan


def plan_etag(plan: TreatmentPlan) -> str:
    return f'"{plan.version}-{plan.updated_at.timestamp():.6f}"'


def _check_references(plan: TreatmentPlan, changes: dict[str, Any]) -> dict[str, list[str]]:
    """The rules that need the database: ids belong to this plan, agencies to this clinic."""
    from referrals.models import ReferralAgency

    errors: dict[str, list[str]] = {}
    goals = {str(g.pk): g for g in plan.goals.prefetch_related("steps")}
    for i, goal in enumerate(changes.get("goals", [])):
        goal_id = str(goal["id"]) if goal.get("id") else None
        if goal_id is not None and goal_id not in goals:
            errors[f"goals.{i}.id"] = ["This goal is not part of this plan."]
            continue
        steps = {str(s.pk) for s in goals[goal_id].steps.all()} if goal_id else set()
        for j, step in enumerate(goal.get("steps", [])):
            if step.get("id") and str(step["id"]) not in steps:
                errors[f"goals.{i}.steps.{j}.id"] = ["This step is not part of this goal."]
    referrals = {str(r.pk) for r in plan.referrals.all()}
    wanted = {str(r["agency"]) for r in changes.get("referrals", []) if r.get("agency")}
    known = {
        str(pk)
        for pk in ReferralAgency.objects.filter(
            clinic_id=plan.clinic_id, pk__in=list(wanted)
        ).values_list("pk", flat=True)
    }
    for i, referral in enumerate(changes.get("referrals", [])):
        if referral.get("id") and str(referral["id"]) not in referrals:
            errors[f"referrals.{i}.id"] = ["This referral is not part of this plan."]
        if referral.get("agency") and str(referral["agency"]) not in known:
            errors[f"referrals.{i}.agency"] = [
                "This service is not in your clinic's referral directory."
            ]
    return errors


def _unchanged(stored: Any, sent: Any) -> bool:
    """A text sent back as it was read: the same words, whatever its line breaks were stored as
    (a browser's intake stored "\r\n") or the space around it. Kept as stored, not rewritten:
    rewriting it would be an edit, and an edit of an agreed plan opens a new version."""
    return (
        isinstance(stored, str) and isinstance(sent, str) and clean_text(stored) == clean_text(sent)
    )


def _assign(obj: Any, data: dict[str, Any], fields: tuple[str, ...]) -> None:
    for field in fields:
        if field in data and not _unchanged(getattr(obj, field), data[field]):
            setattr(obj, field, data[field])


def _save_steps(goal: PlanGoal, steps: list[dict[str, Any]]) -> None:
    """The goal's steps become the list given: a step with an id keeps it and changes only the
    fields sent; a step without one is new; steps left out are removed."""
    existing = {str(s.pk): s for s in goal.steps.all()}
    keep = []
    for position, data in enumerate(steps):
        step = existing.get(str(data.get("id"))) if data.get("id") else None
        if step is None:
            step = PlanStep(goal=goal)
        step.position = position
        _assign(step, data, ("description", "who", "frequency"))
        step.save()
        keep.append(step.pk)
    goal.steps.exclude(pk__in=keep).delete()


def _save_goals(plan: TreatmentPlan, goals: list[dict[str, Any]]) -> None:
    """The plan's goals become the list given. Goals with an id are updated in place (ids stay
    stable for FHIR and reviews) and change only the fields sent; others are new; goals left
    out are removed. A goal sent without `steps` keeps its steps."""
    existing = {str(g.pk): g for g in plan.goals.all()}
    keep = []
    for position, data in enumerate(goals):
        goal = existing.get(str(data.get("id"))) if data.get("id") else None
        if goal is None:
            goal = PlanGoal(plan=plan)
        goal.position = position
        _assign(goal, data, ("client_words", "clinical_restatement", "target_date"))
        goal.save()
        keep.append(goal.pk)
        if "steps" in data:
            _save_steps(goal, data["steps"])
    plan.goals.exclude(pk__in=keep).delete()


def _save_referrals(plan: TreatmentPlan, referrals: list[dict[str, Any]]) -> None:
    from referrals.models import PlanReferral

    existing = {str(r.pk): r for r in plan.referrals.all()}
    keep = []
    for position, data in enumerate(referrals):
        referral = existing.get(str(data.get("id"))) if data.get("id") else None
        if referral is None:
            referral = PlanReferral(plan=plan)
        referral.position = position
        if "agency" in data:
            referral.agency_id = data["agency"]
        _assign(referral, data, ("client_decision", "note"))
        referral.save()
        keep.append(referral.pk)
    plan.referrals.exclude(pk__in=keep).delete()


SIMPLE_FIELDS = (
    "strengths",
    "strengths_notes",
    "supports",
    "supports_notes",
    "safety_plan",
    "review_date",
    "client_copy_sections",
)


def _representation(plan: TreatmentPlan) -> dict[str, Any]:
    from .selectors import plan_representation, with_contents

    return plan_representation(with_contents(TreatmentPlan.objects.filter(pk=plan.pk)).get())


@transaction.atomic
def plan_update(
    *,
    plan: TreatmentPlan,
    actor: User,
    changes: dict[str, Any],
    if_match: Collection[str] | None = None,
) -> TreatmentPlan:
    """Apply an edit (only the fields given change) and, in the same save, the client's decision
    on the content as it is after the edit. Once a decision is recorded, any edit to the content
    opens the next version, so a decision always refers to content that no longer changes."""
    from .selectors import content_sha256

    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    if isinstance(if_match, str):  # one ETag, not the characters of one
        if_match = [if_match]
    if if_match is not None and plan_etag(plan) not in if_match:  # the ETags the editor saw
        raise StalePlan
    errors = _check_references(plan, changes)
    if errors:
        raise PlanInvalid(errors)
    content = {k: v for k, v in changes.items() if k != "agreement"}
    copy_before = list(plan.client_copy_sections)
    edited = False
    if content:
        rep = _representation(plan)
        simple = {
            f: content[f]
            for f in SIMPLE_FIELDS
            if f in content and not _unchanged(getattr(plan, f), content[f])
        }
        for field, value in simple.items():
            setattr(plan, field, value)
        if simple:  # written without a new updated_at: the ETag moves below, if anything changed
            TreatmentPlan.objects.filter(pk=plan.pk).update(**simple)
        if "goals" in content:
            _save_goals(plan, content["goals"])
        if "referrals" in content:
            _save_referrals(plan, content["referrals"])
        after = _representation(plan)
        # Sent but the same as saved, the plan keeps its version and ETag: an edit made
        # elsewhere from that ETag is not refused for a save that changed nothing.
        edited = after != rep
        if content_sha256(after) != content_sha256(rep) and plan.client_decision:
            _open_next_version(plan)
    if "agreement" in changes:
        _record_agreement(plan, changes["agreement"], actor)
    if edited or "agreement" in changes:
        plan.save()
    audit_record(
        actor=actor,
        clinic_id=plan.clinic_id,
        action="update",
        obj=plan,
        client_id=plan.client_id,
        fields=sorted(changes),
        version=plan.version,
    )
    if edited:
        _emit_plan_event(plan, "plan.updated")
    agreed_now = plan.status == PlanStatus.AGREED and "agreement" in changes
    if agreed_now or (
        plan.status == PlanStatus.AGREED and plan.client_copy_sections != copy_before
    ):
        from documents.services import documents_prerender

        # After the commit of the whole save (a review recorded in the same save included), so
        # the copies are of the plan exactly as saved; robust: a failure here never fails the save.
        plan_id = str(plan.pk)
        transaction.on_commit(
            lambda: documents_prerender(plan_id=plan_id, actor=actor), robust=True
        )
    return plan


def _open_next_version(plan: TreatmentPlan) -> None:
    """The decision was given on the previous content: the edit starts the next version as a
    draft with no decision; an agreed version stays readable as its snapshot."""
    plan.version += 1
    plan.status = PlanStatus.DRAFT
    plan.client_decision = ""
    plan.agreed_at = None
    plan.agreement_version = None
    plan.agreement_sha256 = ""
    plan.agreement_recorded_at = None
    plan.client_comment = ""
    plan.client_signed_name = ""
    plan.clinician_signed_name = ""


def _record_agreement(plan: TreatmentPlan, agreement: dict[str, Any], actor: User) -> None:
    from .selectors import content_sha256

    decision = agreement.get("client_decision")
    if decision is None:  # signatures or a comment alone, on the decision already recorded
        for field in ("client_comment", "client_signed_name", "clinician_signed_name"):
            if field in agreement:
                setattr(plan, field, agreement[field])
        return
    plan.save()
    rep = _representation(plan)
    digest = content_sha256(rep)
    shown = agreement.get("content_sha256")
    if shown and shown != digest:
        raise PlanInvalid(
            {
                "agreement.content_sha256": [
                    "The plan's content is not what was shown to the client. Show it again."
                ]
            }
        )
    now = timezone.now()
    plan.client_decision = decision
    for field in ("client_comment", "client_signed_name", "clinician_signed_name"):
        setattr(plan, field, agreement.get(field, ""))
    plan.agreement_version = plan.version
    plan.agreement_sha256 = digest
    plan.agreement_recorded_at = now
    PlanAgreement.objects.create(
        plan=plan,
        version=plan.version,
        content_sha256=digest,
        client_decision=decision,
        client_comment=plan.client_comment,
        client_signed_name=plan.client_signed_name,
        clinician_signed_name=plan.clinician_signed_name,
        recorded_by=actor,
    )
    if decision != ClientDecision.AGREES:
        plan.status = PlanStatus.DRAFT
        plan.agreed_at = None
        return
    plan.status = PlanStatus.AGREED
    plan.agreed_at = now
    plan.save()
    PlanVersion.objects.update_or_create(
        plan=plan,
        version=plan.version,
        defaults={"snapshot": _representation(plan), "agreed_at": now},
    )
    _emit_plan_event(plan, "plan.agreed")


def _emit_plan_event(plan: TreatmentPlan, event: str) -> None:
    from webhooks.services import webhook_emit

    webhook_emit(
        clinic_id=plan.clinic_id,
        event=event,
        data={
            "plan": str(plan.pk),
            "client": str(plan.client_id),
            "version": plan.version,
            "url": f"/api/v1/plans/{plan.pk}/",
            "fhir": f"/fhir/CarePlan/{plan.pk}",
        },
    )


@transaction.atomic
def plan_review_record(
    *, plan: TreatmentPlan, actor: User, goals: list[dict[str, Any]], note: str = ""
) -> PlanReview:
    """A review with the client: their rating (0-4) of each goal they rated, and notes."""
    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    known = {str(pk) for pk in plan.goals.values_list("pk", flat=True)}
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for i, rating in enumerate(goals):
        goal_id = str(rating["goal"])
        if goal_id not in known:
            errors[f"goals.{i}.goal"] = ["This goal is not part of this plan."]
        elif goal_id in seen:
            errors[f"goals.{i}.goal"] = ["This goal is rated twice in one review."]
        seen.add(goal_id)
    if not goals and not note:
        errors["goals"] = ["Rate at least one goal, or write a note."]
    if errors:
        raise PlanInvalid(errors)
    review = PlanReview.objects.create(
        plan=plan, plan_version=plan.version, note=note, created_by=actor
    )
    GoalProgress.objects.bulk_create(
        GoalProgress(
            review=review,
            goal_id=r["goal"],
            progress=r["progress"],
            client_note=r.get("client_note", ""),
        )
        for r in goals
    )
    plan.save(update_fields=["updated_at"])  # the PDF shows the reviews: its content changed
    audit_record(
        actor=actor,
        clinic_id=plan.clinic_id,
        action="create",
        obj=review,
        client_id=plan.client_id,
        goals=len(goals),
    )
    return review


# A draft left by quick exit is kept this long for its author to take up, then erased.
DRAFT_KEPT = timedelta(days=7)


def plan_drafts_purge() -> int:
    """Erase quick-exit drafts older than DRAFT_KEPT (run hourly): unsaved text is not kept for
    a clinician who never comes back to it."""
    from .models import PlanDraft

    deleted, _ = PlanDraft.objects.filter(updated_at__lt=timezone.now() - DRAFT_KEPT).delete()
    return deleted
