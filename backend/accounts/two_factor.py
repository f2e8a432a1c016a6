"""TOTP two-factor sign-in (django-otp): required when the clinic turns it on, and for anyone
who has set up a device."""

from typing import Any

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from .permissions import membership_of
from .services import enrolment_code_spend, enrolment_code_valid


def needs_verification(request: HttpRequest) -> bool:
    user: Any = request.user
    if user.is_verified():
        return False
    membership = membership_of(user)
    required = membership is not None and membership.clinic.require_two_factor
    return required or user_has_device(user, confirmed=True)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="6-digit code from your authenticator app",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class EnrolmentCodeForm(forms.Form):
    enrolment_code = forms.CharField(
        label="Set-up code from your clinic admin",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


ENROLMENT_OK = "two_factor_enrolment_ok"


def _enrolment_gate(request: HttpRequest, membership: Any) -> HttpResponse | None:
    """In a clinic that requires two-factor, the first set-up needs the one-time code an admin
    handed over: a password alone does not let anyone bind their own authenticator. The key is
    shown only after the code, on a device made fresh at that moment."""
    if request.session.get(ENROLMENT_OK):
        return None
    form = EnrolmentCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if enrolment_code_valid(membership=membership, code=form.cleaned_data["enrolment_code"]):
            TOTPDevice.objects.filter(user=membership.user, confirmed=False).delete()
            request.session[ENROLMENT_OK] = True
            return redirect("two-factor")
        form.add_error(
            "enrolment_code",
            "That code isn't right or has expired. Ask your clinic admin for a new one.",
        )
    return render(
        request, "registration/two_factor.html", {"enrolment_form": form, "needs_code": True}
    )


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verify with a confirmed device, or set one up (shown as a QR code and a key)."""
    user: Any = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    setting_up = device is None
    membership = membership_of(user)
    gated = setting_up and membership is not None and membership.clinic.require_two_factor
    if gated:
        blocked = _enrolment_gate(request, membership)
        if blocked is not None:
            return blocked
    if setting_up:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or (
            TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            if setting_up:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                if gated and membership is not None:
                    enrolment_code_spend(membership=membership)
                    request.session.pop(ENROLMENT_OK, None)
            otp_login(request, device)
            return redirect("home")
        form.add_error("code", "That code didn't match. Codes change every 30 seconds.")
    context = {"form": form, "setting_up": setting_up}
    if setting_up:
        context["qr_svg"] = segno.make(device.config_url).svg_data_uri(scale=4)
        context["secret"] = device.config_url.split("secret=")[1].split("&")[0]
    return render(request, "registration/two_factor.html", context)
