"""Web page where a clinic admin manages a client's care team."""

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.permissions import membership_or_404

from .selectors import client_get
from .services import CareTeamError, client_care_team_set


class CareTeamForm(forms.Form):
    members = forms.MultipleChoiceField(
        error_messages={
            "required": "Tick at least one person: with nobody on the care team, nobody could "
            "read or continue this client's records."
        },
        widget=forms.CheckboxSelectMultiple,
        label="Who works with this client",
        help_text="Only the people ticked here can open this client's intakes, plans and PDFs.",
    )

    def __init__(self, *args: Any, clinic_id: uuid.UUID, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = User.objects.filter(membership__clinic_id=clinic_id, is_active=True).order_by(
            "username"
        )
        self.fields["members"].choices = [(u.username, u.username) for u in users]  # type: ignore[attr-defined]


@login_required
def care_team(request: HttpRequest, client_id: str) -> HttpResponse:
    membership = membership_or_404(request)
    client = client_get(membership=membership, client_id=client_id)
    if not membership.is_admin:
        raise PermissionDenied
    current = [user.username for user in client.care_team.all()]
    form = CareTeamForm(
        request.POST if request.method == "POST" else None,
        clinic_id=membership.clinic_id,
        initial={"members": current},
    )
    if request.method == "POST" and form.is_valid():
        try:
            client_care_team_set(
                client=client, actor=membership.user, usernames=form.cleaned_data["members"]
            )
        except CareTeamError as exc:  # someone left the clinic while the page was open
            form.add_error("members", str(exc))
        else:
            messages.success(request, "The care team was saved.")
            return redirect("home")
    return render(request, "clients/care_team.html", {"client": client, "form": form})
