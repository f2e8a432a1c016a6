"""Exports in the browser, for clinic admins: request a date range, watch its progress."""

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render

from accounts.permissions import membership_of
from common.selectors import get_or_404

from .models import ExportJob, ExportStatus
from .services import (
    EARLIEST,
    LATEST,
    export_file_present,
    export_request,
    export_zip_chunks,
)


class ExportForm(forms.Form):
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(
        label="To", widget=forms.DateInput(attrs={"type": "date"}), initial=date.today
    )

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if (
            cleaned.get("date_from")
            and cleaned.get("date_to")
            and (cleaned["date_to"] < cleaned["date_from"])
        ):
            self.add_error("date_to", "Must not be before the start date.")
        for name in ("date_from", "date_to"):
            value = cleaned.get(name)
            if value and not EARLIEST <= value <= LATEST:
                self.add_error(name, f"Use a date between {EARLIEST.year} and {LATEST.year}.")
        return cleaned


@login_required
def exports_page(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request.user)
    if membership is None or not membership.is_admin:
        raise Http404
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        export_request(
            membership=membership,
            actor=membership.user,
            day_from=form.cleaned_data["date_from"],
            day_to=form.cleaned_data["date_to"],
        )
        return redirect("exports")
    jobs = ExportJob.objects.filter(
        clinic_id=membership.clinic_id, requested_by=membership.user
    ).order_by("-created_at")[:20]
    running = any(
        j.status in (ExportStatus.QUEUED, ExportStatus.RUNNING, ExportStatus.ASSEMBLING)
        for j in jobs
    )
    return render(request, "exports/page.html", {"form": form, "jobs": jobs, "running": running})


@login_required
def export_download(request: HttpRequest, job_id: str) -> HttpResponse | StreamingHttpResponse:
    membership = membership_of(request.user)
    if membership is None or not membership.is_admin:
        raise Http404
    job = get_or_404(
        ExportJob.objects.filter(
            clinic_id=membership.clinic_id, requested_by=membership.user, status=ExportStatus.READY
        ),
        job_id,
    )
    if not export_file_present(job):
        messages.error(request, job.error)
        return redirect("exports")
    response = StreamingHttpResponse(export_zip_chunks(job), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="care-plans-export.zip"'
    return response
