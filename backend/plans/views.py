"""Web pages for a plan: view and edit it with the client, agree, and ask for the PDF."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Membership
from accounts.permissions import membership_or_404
from audit.services import audit_read
from documents.api import PDF_FILENAME
from documents.models import PlanDocument
from documents.selectors import document_get
from documents.services import document_pdf, document_request
from forms import work_is_a_topic, work_term
from language.services import plan_findings
from referrals.selectors import agencies_for, caution_lines, suggestions

from .selectors import plan_get, plan_representation
from .services import plan_update
from .web_forms import AgreementForm, GoalForm, GoalFormSet, PlanForm, ReferralFormSet


def _referral_formset(plan: Any, membership: Membership, data: Any = None) -> Any:
    agencies = [(str(a.pk), a.name) for a in agencies_for(membership=membership)]
    initial = [
        {"agency": str(r.agency_id), "client_decision": r.client_decision, "note": r.note}
        for r in plan.referrals.all()
    ]
    return ReferralFormSet(
        data, prefix="referrals", initial=initial, form_kwargs={"agencies": agencies}
    )


def _referral_changes(formset: Any) -> list[dict[str, Any]]:
    return [
        {
            "agency": f.cleaned_data["agency"],
            "client_decision": f.cleaned_data["client_decision"],
            "note": f.cleaned_data["note"],
        }
        for f in formset.forms
        if f.cleaned_data.get("agency") and not f.cleaned_data.get("remove")
    ]


@login_required
def plan_detail(request: HttpRequest, plan_id: str) -> HttpResponse:
    membership = membership_or_404(request)
    plan = plan_get(membership=membership, plan_id=plan_id)
    rep = plan_representation(plan)
    goals = GoalFormSet(prefix="goals", initial=[GoalForm.initial_for(g) for g in rep["goals"]])
    form = PlanForm(initial=rep)
    agreement = AgreementForm(initial=rep["agreement"])
    referrals = _referral_formset(plan, membership)
    changes: dict[str, Any] | None = None
    if request.method == "POST" and "save_plan" in request.POST:
        goals, form = GoalFormSet(request.POST, prefix="goals"), PlanForm(request.POST)
        if goals.is_valid() and form.is_valid():
            changes = {
                "goals": [c for c in (g.as_change() for g in goals.forms) if c is not None],
                **form.cleaned_data,
            }
    elif request.method == "POST" and "save_agreement" in request.POST:
        agreement = AgreementForm(request.POST)
        if agreement.is_valid():
            changes = {"agreement": agreement.cleaned_data}
    elif request.method == "POST" and "save_referrals" in request.POST:
        referrals = _referral_formset(plan, membership, request.POST)
        if referrals.is_valid():
            known = {a.pk: a for a in agencies_for(membership=membership)}
            wanted = _referral_changes(referrals)
            if all(r["agency"] in known for r in wanted):
                changes = {"referrals": [{**r, "agency": known[r["agency"]]} for r in wanted]}
    if changes is not None:
        plan_update(plan=plan, actor=membership.user, changes=changes)
        messages.success(request, "Saved.")
        return redirect("plan-detail", plan_id=plan.pk)
    answers = plan.intake.answers
    topic, term = work_is_a_topic(answers), work_term(answers)
    needs = answers.get("supports", {}).get("referral_needs", [])
    return render(
        request,
        "plans/detail.html",
        {
            "plan": plan,
            "rep": rep,
            "goals": goals,
            "form": form,
            "agreement": agreement,
            "referral_forms": referrals,
            "current_referrals": [
                (r, caution_lines(r.agency, work_topic=topic, work_term=term))
                for r in plan.referrals.all()
            ],
            "suggestions": suggestions(membership=membership, needs=needs),
            "documents": PlanDocument.objects.filter(plan=plan).order_by("-created_at")[:10],
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def plan_request_pdf(request: HttpRequest, plan_id: str) -> HttpResponse:
    membership = membership_or_404(request)
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
    membership = membership_or_404(request)
    document = document_get(membership=membership, document_id=document_id, ready=True)
    audit_read(
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
