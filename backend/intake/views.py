"""Web pages around the wizard: the clinician's home, starting an intake, quick exit."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.permissions import membership_or_404
from audit.services import audit_listed
from clients.models import DISPLAY_NAME_MAX, PRONOUNS_MAX
from clients.selectors import client_get, client_list
from clients.services import client_create, client_erase
from forms import KINDS
from language.services import consultation_prompts
from plans.models import TreatmentPlan
from plans.selectors import plans_for

from .models import Intake, Reflection
from .selectors import intake_get, intake_in_progress
from .services import intake_start


class StartIntakeForm(forms.Form):
    client = forms.UUIDField(required=False, widget=forms.HiddenInput)
    display_name = forms.CharField(
        max_length=DISPLAY_NAME_MAX,
        required=False,
        label="Name the client would like to use",
        help_text="Any name they choose. No legal name is needed.",
    )
    pronouns = forms.CharField(max_length=PRONOUNS_MAX, required=False, label="Pronouns")
    kind = forms.ChoiceField(
        choices=[(k, k.title()) for k in KINDS],
        initial="individual",
        widget=forms.RadioSelect,
        label="Intake for",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("client") and not cleaned.get("display_name"):
            self.add_error("display_name", "Please give a name to use, or pick an existing client.")
        return cleaned


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = membership_or_404(request)
    clients = list(client_list(membership=membership).order_by("-created_at")[:100])
    in_progress = list(
        intake_in_progress(membership=membership)
        .select_related("client")
        .order_by("-updated_at")[:50]
    )
    plans = list(
        plans_for(membership=membership).select_related("client").order_by("-updated_at")[:50]
    )
    # Guideline 10: the clinician's own prompts, shown to them alone.
    consultation = list(
        Reflection.objects.filter(author=membership.user, consultation_wanted=True).select_related(
            "intake__client"
        )
    )
    audit_listed(
        membership=membership,
        rows=[*clients, *in_progress, *plans, *(r.intake for r in consultation)],
    )
    context = {
        "clients": clients,
        "in_progress": in_progress,
        "plans": plans,
        "start_form": StartIntakeForm(),
        "consultation": consultation,
        "wording_prompts": consultation_prompts(user=membership.user),
    }
    return render(request, "intake/home.html", context)


@login_required
@require_http_methods(["POST"])
def start_intake(request: HttpRequest) -> HttpResponse:
    membership = membership_or_404(request)
    actor = membership.user
    form = StartIntakeForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "intake/home.html",
            {
                "clients": client_list(membership=membership).order_by("-created_at")[:100],
                "start_form": form,
                "in_progress": [],
                "plans": [],
            },
            status=400,
        )
    data = form.cleaned_data
    if data.get("client"):
        client = client_get(membership=membership, client_id=data["client"])
    else:
        client = client_create(
            membership=membership,
            actor=actor,
            display_name=data["display_name"],
            pronouns=data["pronouns"],
        )
    intake = intake_start(membership=membership, actor=actor, client=client, kind=data["kind"])
    return redirect("intake-step", intake_id=intake.pk, step="consent")


@login_required
def intake_resume(request: HttpRequest, intake_id: str) -> HttpResponse:
    intake = intake_get(membership=membership_or_404(request), intake_id=intake_id)
    return redirect("intake-step", intake_id=intake.pk, step=intake.current_step or "consent")


@login_required
def intake_summary(request: HttpRequest, intake_id: str) -> HttpResponse:
    intake: Intake = intake_get(membership=membership_or_404(request), intake_id=intake_id)
    plan = TreatmentPlan.objects.filter(intake=intake).first()
    if plan is not None:
        return redirect("plan-detail", plan_id=plan.pk)
    return redirect("intake-resume", intake_id=intake.pk)


def away(request: HttpRequest) -> HttpResponse:
    """Quick exit: end the session and show a page with nothing on it about care or the client."""
    logout(request)
    return render(request, "away.html")


@login_required
def client_erase_view(request: HttpRequest, client_id: str) -> HttpResponse:
    """Erasure from the web, behind an explicit confirmation."""
    membership = membership_or_404(request)
    client = client_get(membership=membership, client_id=client_id)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm", "").strip() == "ERASE":
            client_erase(client=client, actor=membership.user)
            messages.success(request, "The client's records were erased.")
            return redirect("home")
        error = "Type ERASE to confirm, or go back to keep the records."
    return render(
        request,
        "intake/erase_confirm.html",
        {"client": client, "error": error},
        status=400 if error else 200,
    )
