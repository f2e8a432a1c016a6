"""Web pages for a plan: view and edit it with the client, agree, and ask for the PDF."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Membership
from accounts.permissions import membership_of
from audit.services import audit_record
from common.selectors import get_or_404
from documents.api import PDF_FILENAME
from documents.models import PlanDocument
from documents.services import document_pdf, document_request
from language.services import plan_findings

from .selectors import plan_get, plan_representation
from .services import plan_update
from .web_forms import AgreementForm, GoalForm, GoalFormSet, PlanForm


def _membership(request: HttpRequest) -> Membership:
    membership = membership_of(request.user)
    if membership is None:
        raise Http404
    return membership


@login_required
def plan_detail(request: HttpRequest, plan_id: str) -> HttpResponse:
    membership = _membership(request)
    plan = plan_get(membership=membership, plan_id=plan_id)
    rep = plan_representation(plan)
    if request.method == "POST" and "save_plan" in request.POST:
        goals = GoalFormSet(request.POST, prefix="goals")
        form = PlanForm(request.POST)
        if goals.is_valid() and form.is_valid():
            changes = {
                "goals": [c for c in (g.as_change() for g in goals.forms) if c is not None],
                **form.cleaned_data,
            }
            plan_update(plan=plan, actor=membership.user, changes=changes)
            messages.success(request, "Plan saved.")
            return redirect("plan-detail", plan_id=plan.pk)
        agreement = AgreementForm()
    elif request.method == "POST" and "save_agreement" in request.POST:
        agreement = AgreementForm(request.POST)
        if agreement.is_valid():
            plan_update(
                plan=plan, actor=membership.user, changes={"agreement": agreement.cleaned_data}
            )
            messages.success(request, "Agreement recorded.")
            return redirect("plan-detail", plan_id=plan.pk)
        goals = GoalFormSet(prefix="goals", initial=[GoalForm.initial_for(g) for g in rep["goals"]])
        form = PlanForm(initial=rep)
    else:
        audit_record(
            actor=membership.user,
            clinic_id=plan.clinic_id,
            action="read",
            obj=plan,
            client_id=plan.client_id,
        )
        goals = GoalFormSet(prefix="goals", initial=[GoalForm.initial_for(g) for g in rep["goals"]])
        form = PlanForm(initial=rep)
        agreement = AgreementForm(initial=rep["agreement"])
    documents = PlanDocument.objects.filter(plan=plan).order_by("-created_at")[:10]
    return render(
        request,
        "plans/detail.html",
        {
            "plan": plan,
            "rep": rep,
            "goals": goals,
            "form": form,
            "agreement": agreement,
            "documents": documents,
        },
    )


@login_required
@require_POST
def plan_request_pdf(request: HttpRequest, plan_id: str) -> HttpResponse:
    membership = _membership(request)
    plan = plan_get(membership=membership, plan_id=plan_id)
    findings = plan_findings(plan)
    if findings and "proceed" not in request.POST:
        # Show the wording suggestions first; the clinician may still go ahead.
        return render(request, "plans/review_wording.html", {"plan": plan, "findings": findings})
    _document, created = document_request(plan=plan, actor=membership.user)
    messages.success(
        request, "The PDF is being prepared." if created else "This version's PDF already exists."
    )
    return redirect("plan-detail", plan_id=plan.pk)


@login_required
def document_download(request: HttpRequest, document_id: str) -> HttpResponse:
    membership = _membership(request)
    document = get_or_404(
        PlanDocument.objects.filter(clinic_id=membership.clinic_id, status="ready"), document_id
    )
    audit_record(
        actor=membership.user,
        clinic_id=document.clinic_id,
        action="export",
        obj=document,
        client_id=document.plan.client_id,
        download=True,
    )
    response = HttpResponse(document_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{PDF_FILENAME}"'
    return response
