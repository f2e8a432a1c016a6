"""Reading plans, scoped to the caller's clinic."""

import uuid

from accounts.models import Membership
from common.selectors import get_or_404

from .models import TreatmentPlan


def plan_get(*, membership: Membership, plan_id: uuid.UUID | str) -> TreatmentPlan:
    return get_or_404(
        TreatmentPlan.objects.select_related("client").filter(clinic_id=membership.clinic_id),
        plan_id,
    )
