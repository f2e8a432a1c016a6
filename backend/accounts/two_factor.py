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


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verify with a confirmed device, or set one up (shown as a QR code and a key)."""
    user: Any = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    setting_up = device is None
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
            otp_login(request, device)
            return redirect("home")
        form.add_error("code", "That code didn't match. Codes change every 30 seconds.")
    context = {"form": form, "setting_up": setting_up}
    if setting_up:
        context["qr_svg"] = segno.make(device.config_url).svg_data_uri(scale=4)
        context["secret"] = device.config_url.split("secret=")[1].split("&")[0]
    return render(request, "registration/two_factor.html", context)
