"""Web pages for plans (the editor grows with the plan capability)."""

from accounts.permissions import membership_of
from audit.services import audit_record
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from .selectors import plan_get


@login_required
def plan_detail(request: HttpRequest, plan_id: str) -> HttpResponse:
    membership = membership_of(request.user)
    if membership is None:
        raise Http404
    plan = plan_get(membership=membership, plan_id=plan_id)
    actor = membership.user
    audit_record(
        actor=actor,
        clinic_id=plan.clinic_id,
        action="read",
        obj=plan,
        client_id=plan.client_id,
    )
    return render(request, "plans/detail.html", {"plan": plan, "goals": plan.goals.all()})
