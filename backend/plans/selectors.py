"""Reading plans, scoped to the caller's clinic, and their one API representation."""

import uuid
from typing import Any

from django.db.models import Prefetch, QuerySet

from accounts.models import Membership
from audit.services import audit_read_by
from clients.selectors import clinical_scope
from common.selectors import get_or_404
from forms import STEPS_BY_NAME
from referrals.models import PlanReferral

from .models import PlanGoal, PlanVersion, TreatmentPlan

STRENGTH_FIELDS = {
    "precautions": STEPS_BY_NAME["precautions"].get_field("precautions_used"),
    "coping": STEPS_BY_NAME["stigma_coping"].get_field("coping_strategies"),
}
SUPPORT_FIELD = STEPS_BY_NAME["supports"].get_field("current_supports")


def choice_label(field: Any, code: str) -> str:
    return next((c.label for c in field.choices if c.code == code), code)


def plans_for(*, membership: Membership) -> QuerySet[TreatmentPlan]:
    return TreatmentPlan.objects.filter(
        clinical_scope(membership=membership), clinic_id=membership.clinic_id
    )


def with_contents(qs: QuerySet[TreatmentPlan]) -> QuerySet[TreatmentPlan]:
    """Everything a plan's representation reads, in a fixed number of queries."""
    return qs.select_related("client", "intake").prefetch_related(
        Prefetch("goals", queryset=PlanGoal.objects.prefetch_related("steps")),
        Prefetch("referrals", queryset=PlanReferral.objects.select_related("agency")),
        Prefetch("versions", queryset=PlanVersion.objects.only("version", "agreed_at", "plan_id")),
    )


def plan_get(*, membership: Membership, plan_id: uuid.UUID | str) -> TreatmentPlan:
    plan = get_or_404(with_contents(plans_for(membership=membership)), plan_id)
    audit_read_by(membership=membership, obj=plan, client_id=plan.client_id)
    return plan


def goal_get(*, membership: Membership, goal_id: uuid.UUID | str) -> PlanGoal:
    goal = get_or_404(
        PlanGoal.objects.select_related("plan").filter(
            clinical_scope(membership=membership, client_field="plan__client"),
            plan__clinic_id=membership.clinic_id,
        ),
        goal_id,
    )
    audit_read_by(membership=membership, obj=goal, client_id=goal.plan.client_id)
    return goal


def plan_representation(plan: TreatmentPlan) -> dict[str, Any]:
    return {
        "id": str(plan.pk),
        "client": str(plan.client_id),
        "intake": str(plan.intake_id),
        "version": plan.version,
        "status": plan.status,
        "goals": [
            {
                "id": str(goal.pk),
                "client_words": goal.client_words,
                "clinical_restatement": goal.clinical_restatement,
                "target_date": goal.target_date.isoformat() if goal.target_date else None,
                "steps": [
                    {"description": s.description, "who": s.who, "frequency": s.frequency}
                    for s in goal.steps.all()
                ],
            }
            for goal in plan.goals.all()
        ],
        "strengths": [
            {**s, "label": choice_label(STRENGTH_FIELDS[s["source"]], s["code"])}
            for s in plan.strengths
        ],
        "strengths_notes": plan.strengths_notes,
        "supports": [{"code": c, "label": choice_label(SUPPORT_FIELD, c)} for c in plan.supports],
        "supports_notes": plan.supports_notes,
        "safety_plan": plan.safety_plan,
        "referrals": [
            {
                "agency": str(r.agency_id),
                "name": r.agency.name,
                "client_decision": r.client_decision,
                "note": r.note,
            }
            for r in plan.referrals.all()
        ],
        "review_date": plan.review_date.isoformat() if plan.review_date else None,
        "agreement": {
            "client_decision": plan.client_decision or None,
            "client_comment": plan.client_comment,
            "client_signed_name": plan.client_signed_name,
            "clinician_signed_name": plan.clinician_signed_name,
            "agreed_at": plan.agreed_at.isoformat() if plan.agreed_at else None,
        },
        "versions": [
            {"version": v.version, "agreed_at": v.agreed_at.isoformat()}
            for v in plan.versions.all()
        ],
        "created_at": plan.created_at.isoformat(),
        "updated_at": plan.updated_at.isoformat(),
    }
