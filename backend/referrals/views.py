"""The referral directory in the browser: clinic admins manage it, clinicians read it."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.permissions import membership_or_404
from forms import STEPS_BY_NAME

from .models import (
    ACCESS_FIELDS,
    APPROACH_FIELDS,
    EDITABLE_FIELDS,
    SAFETY_SERVICES,
    ReferralAgency,
    by_name,
)
from .selectors import agencies_for, agency_get, caution_lines
from .services import agency_create, agency_update

SERVICES = [
    (c.code, c.label) for c in STEPS_BY_NAME["supports"].get_field("referral_needs").choices
]
APPROACH = [("unknown", "Unknown"), ("true", "Yes"), ("false", "No")]


class AgencyForm(forms.ModelForm):
    services = forms.MultipleChoiceField(
        choices=SERVICES, widget=forms.CheckboxSelectMultiple, required=False
    )
    safety_services = forms.MultipleChoiceField(
        label="Safety services it offers",
        choices=SAFETY_SERVICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ReferralAgency
        fields = list(EDITABLE_FIELDS)
        labels = {
            "requires_exit": "Requires people to stop sex work to use it?",
            "requires_faith_participation": "Requires taking part in religious activities?",
            "police_cooperation": "Works closely with police?",
            "affirming_commitment": "Has committed to non-judgemental care?",
            "sex_worker_led": "Led by sex workers?",
            "peer_led": "Led by peers (people with lived experience)?",
            "mandatory_reporting": "Staff must report some things to authorities?",
            "requires_id": "Asks for ID?",
            "shares_immigration_data": "Shares information with immigration authorities?",
            "trans_inclusive": "Welcomes trans and non-binary people?",
            "vetted_on": "Last checked on",
            "vetted_by": "Checked by",
        }
        widgets = {
            "vetted_on": forms.DateInput(attrs={"type": "date"}),
            "contact": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in (*APPROACH_FIELDS, *ACCESS_FIELDS):
            self.fields[name] = forms.NullBooleanField(
                label=self.Meta.labels[name],
                required=False,
                widget=forms.RadioSelect(choices=APPROACH),
            )


@login_required
def directory(request: HttpRequest) -> HttpResponse:
    membership = membership_or_404(request)
    rows = [
        (a, caution_lines(a, work_topic=True, work_term="sex work"))
        for a in sorted(agencies_for(membership=membership), key=by_name)
    ]
    form = AgencyForm()
    if request.method == "POST":
        if not membership.is_admin:
            raise Http404
        form = AgencyForm(request.POST)
        if form.is_valid():
            form.instance.clinic_id = membership.clinic_id
            agency_create(save=form.save, actor=membership.user, clinic_id=membership.clinic_id)
            messages.success(request, "Added to the directory.")
            return redirect("referral-directory")
    return render(
        request,
        "referrals/directory.html",
        {"rows": rows, "form": form, "is_admin": membership.is_admin},
    )


@login_required
def agency_edit(request: HttpRequest, agency_id: str) -> HttpResponse:
    membership = membership_or_404(request)
    if not membership.is_admin:
        raise Http404
    agency = agency_get(membership=membership, agency_id=agency_id)
    form = AgencyForm(request.POST or None, instance=agency)
    if request.method == "POST" and form.is_valid():
        agency_update(
            save=form.save,
            actor=membership.user,
            clinic_id=membership.clinic_id,
            fields=form.changed_data,
        )
        messages.success(request, "Saved.")
        return redirect("referral-directory")
    return render(request, "referrals/edit.html", {"form": form, "agency": agency})
