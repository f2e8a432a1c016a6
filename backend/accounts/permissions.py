"""Who may call the API: a member of a clinic, with the token scope the method needs."""

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from rest_framework.permissions import SAFE_METHODS, BasePermission

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

from .models import ApiToken, Membership


def membership_of(user: Any) -> Membership | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    try:
        return user.membership  # type: ignore[no-any-return]
    except Membership.DoesNotExist:
        return None


class ClinicMember(BasePermission):
    """Signed-in clinic members; tokens need `read` for safe methods, and `write` and `read`
    otherwise: a write answers with the object as stored (a step's save, every answer of the
    intake), so a write-only token would read through it what a GET refuses it.

    A view may set `required_scope` (e.g. "export") to ask for another scope.
    """

    message = "Your token does not have the scope this request needs."
    WRITE_MESSAGE = (
        "Your token does not have the scopes this request needs: a change answers with what is "
        "stored, so it needs both read and write."
    )

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        if membership_of(request.user) is None:
            return False
        token = request.auth
        if isinstance(token, ApiToken):
            required = getattr(view, "required_scope", None)
            if required:
                return token.has_scope(required)
            if request.method in SAFE_METHODS:
                return token.has_scope("read")
            self.message = self.WRITE_MESSAGE
            return token.has_scope("write") and token.has_scope("read")
        return True


class ClinicAdmin(ClinicMember):
    message = "Only clinic admins can do this."

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        if not super().has_permission(request, view):
            return False
        membership = membership_of(request.user)
        return membership is not None and membership.is_admin


def membership_or_404(request: Any) -> Membership:
    """For web views: the signed-in member, or 404 for anyone without a clinic."""
    from django.http import Http404

    membership = membership_of(request.user)
    if membership is None:
        raise Http404
    return membership


QUICK_SAVE_MAX_AGE = 12 * 60 * 60  # the session's absolute limit


def _session_digest(session_key: str) -> str:
    return hashlib.sha256(f"quick-save|{session_key}".encode()).hexdigest()[:32]


def quick_save_token(*, salt: str, request: Any, **claim: str) -> str:
    """A token on a page that lets quick exit keep what was typed there even if the sign-out
    lands first: it names the user and what the page is (ids only, no client data), and is
    bound to this browser's session cookie, so it is worth nothing without that cookie (the
    beacon sent on quick exit carries it, even when the sign-out has ended the session)."""
    digest = _session_digest(request.session.session_key or "")
    return signing.dumps({**claim, "u": request.user.pk, "k": digest}, salt=salt)


def quick_save_caller(request: Any, *, salt: str) -> tuple[dict[str, Any], Membership] | None:
    """The claim of a quick exit's signed token (sent in the body) and the active member it
    names, or None (forged, expired, from another browser's session, or the member gone or
    inactive). The caller then applies the same access rules as to any request of that member."""
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    try:
        claim = signing.loads(
            request.POST.get("quick_save_token", ""), salt=salt, max_age=QUICK_SAVE_MAX_AGE
        )
        if not cookie or not hmac.compare_digest(str(claim["k"]), _session_digest(cookie)):
            return None
        membership = Membership.objects.select_related("user").get(user_id=claim["u"])
    except (signing.BadSignature, Membership.DoesNotExist, KeyError, TypeError):
        return None
    if not membership.user.is_active:
        return None
    return claim, membership
