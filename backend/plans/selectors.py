"""Reading plans, scoped to the caller's clinic."""

import uuid

from django.http import Http404

from accounts.models import Membership

from .models import TreatmentPlan


def plan_get(*, membership: Membership, plan_id: uuid.UUID | str) -> TreatmentPlan:
    try:
        return TreatmentPlan.objects.select_related("client").get(
            clinic_id=membership.clinic_id, pk=plan_id
        )
    except (TreatmentPlan.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
