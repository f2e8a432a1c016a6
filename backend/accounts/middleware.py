"""Session policy: idle and absolute timeouts, and two-factor sign-in where it applies."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from .two_factor import needs_verification

SIGNED_IN_AT = "signed_in_at"
LAST_SEEN = "last_seen"
# Pages a signed-in person may reach before finishing two-factor sign-in. Nothing else: not the
# API, FHIR, previews or downloads (a password alone reaches no client data).
OPEN_PATHS = ("/account/two-factor/", "/logout/", "/away/", "/static/", "/healthz")
# Machine-facing paths: refused with the API's JSON error shape rather than a redirect.
API_PATHS = ("/api/", "/fhir/")

SECOND_FACTOR_NEEDED = {
    "code": "two_factor_required",
    "detail": "Finish two-factor sign-in first, or call the API with a token.",
    "errors": {},
}


def _bearer(request: HttpRequest) -> bool:
    return request.META.get("HTTP_AUTHORIZATION", "")[:7].lower() == "bearer "


class SessionPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.setdefault(SIGNED_IN_AT, now)
            last = session.get(LAST_SEEN, now)
            idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            absolute = settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
            if now - last > idle or now - started > absolute:
                logout(request)
                if request.path.startswith(API_PATHS):
                    # Signed out; the call goes on as one without a session: a token
                    # authenticates it, a public path answers, anything else is the API's (or
                    # FHIR's) own 401.
                    return self.get_response(request)
                messages.info(request, "You were signed out after a period of inactivity.")
                return redirect("login")
            session[LAST_SEEN] = now
            if needs_verification(request) and not request.path.startswith(OPEN_PATHS):
                if request.path.startswith(API_PATHS):
                    # A token call is authenticated by its token alone (the session is not
                    # used for it, see VerifiedSessionAuthentication), so it may pass.
                    if _bearer(request):
                        return self.get_response(request)
                    return JsonResponse(SECOND_FACTOR_NEEDED, status=401)
                return redirect("two-factor")
        return self.get_response(request)
