"""Writing plans. A draft plan starts from the client's own goals, verbatim."""

from audit.services import audit_record
from django.contrib.auth.models import User
from django.db import transaction
from intake.models import Intake

from .models import PlanGoal, TreatmentPlan


@transaction.atomic
def plan_create_from_intake(*, intake: Intake, actor: User) -> TreatmentPlan:
    existing = intake.plans.order_by("-version").first()
    if existing is not None:  # completing twice gives the same draft, not a second one
        return existing
    plan = TreatmentPlan.objects.create(
        clinic_id=intake.clinic_id, client_id=intake.client_id, intake=intake, created_by=actor
    )
    goals = intake.answers.get("goals", {}).get("client_goals", [])
    PlanGoal.objects.bulk_create(
        PlanGoal(plan=plan, position=i, client_words=words) for i, words in enumerate(goals)
    )
    audit_record(
        actor=actor,
        clinic_id=intake.clinic_id,
        action="create",
        obj=plan,
        client_id=intake.client_id,
    )
    return plan
