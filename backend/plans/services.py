"""Writing plans. A draft starts from the client's own goals, verbatim, and their strengths."""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from forms import work_is_a_topic
from intake.models import Intake

from .models import ClientDecision, PlanGoal, PlanStatus, PlanStep, PlanVersion, TreatmentPlan

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


def _open_next_version(plan: TreatmentPlan) -> None:
    """Editing an agreed plan starts the next version; the agreed one stays as its snapshot."""
    if plan.status == PlanStatus.AGREED:
        plan.version += 1
        plan.status = PlanStatus.DRAFT
        plan.client_decision = ""
        plan.agreed_at = None


def _replace_goals(plan: TreatmentPlan, goals: list[dict[str, Any]]) -> None:
    """Goals given with an id are updated in place (ids stay stable for FHIR); others are new;
    goals left out are removed."""
    existing = {str(g.pk): g for g in plan.goals.all()}
    keep = set()
    for position, data in enumerate(goals):
        goal = existing.get(str(data.get("id"))) if data.get("id") else None
        if goal is None:
            goal = PlanGoal(plan=plan)
        goal.position = position
        goal.client_words = data["client_words"]
        goal.clinical_restatement = data.get("clinical_restatement", "")
        goal.target_date = data.get("target_date")
        goal.save()
        keep.add(str(goal.pk))
        if "steps" in data:
            goal.steps.all().delete()
            PlanStep.objects.bulk_create(
                PlanStep(
                    goal=goal,
                    position=i,
                    description=s["description"],
                    who=s.get("who", "client"),
                    frequency=s.get("frequency", ""),
                )
                for i, s in enumerate(data["steps"])
            )
    plan.goals.exclude(pk__in=keep).delete()


def _replace_referrals(plan: TreatmentPlan, referrals: list[dict[str, Any]]) -> None:
    from referrals.models import PlanReferral

    plan.referrals.all().delete()
    PlanReferral.objects.bulk_create(
        PlanReferral(
            plan=plan,
            position=i,
            agency=r["agency"],
            client_decision=r.get("client_decision", "undecided"),
            note=r.get("note", ""),
        )
        for i, r in enumerate(referrals)
    )


SIMPLE_FIELDS = (
    "strengths",
    "strengths_notes",
    "supports",
    "supports_notes",
    "safety_plan",
    "review_date",
)


@transaction.atomic
def plan_update(
    *, plan: TreatmentPlan, actor: User, changes: dict[str, Any], if_match: str | None = None
) -> TreatmentPlan:
    plan = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
    if if_match is not None and if_match != plan_etag(plan):
        raise StalePlan
    content = {k: v for k, v in changes.items() if k != "agreement"}
    if content:
        _open_next_version(plan)
        for field in SIMPLE_FIELDS:
            if field in content:
                setattr(plan, field, content[field])
        if "goals" in content:
            _replace_goals(plan, content["goals"])
        if "referrals" in content:
            _replace_referrals(plan, content["referrals"])
    if "agreement" in changes:
        _record_agreement(plan, changes["agreement"])
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
    if content:
        _emit_plan_event(plan, "plan.updated")
    return plan


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


def _record_agreement(plan: TreatmentPlan, agreement: dict[str, Any]) -> None:
    for field in ("client_comment", "client_signed_name", "clinician_signed_name"):
        if field in agreement:
            setattr(plan, field, agreement[field])
    decision = agreement.get("client_decision")
    if decision is None:
        return
    plan.client_decision = decision
    if decision == ClientDecision.AGREES:
        plan.status = PlanStatus.AGREED
        plan.agreed_at = timezone.now()
        plan.save()
        from .selectors import plan_representation

        PlanVersion.objects.update_or_create(
            plan=plan,
            version=plan.version,
            defaults={"snapshot": plan_representation(plan), "agreed_at": plan.agreed_at},
        )
        _emit_plan_event(plan, "plan.agreed")
    else:
        plan.status = PlanStatus.DRAFT
        plan.agreed_at = None
