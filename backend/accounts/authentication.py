"""API authentication: scoped bearer tokens, and a session counted only once its two-factor
step is done."""

import binascii
import time
from hmac import compare_digest
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from .models import ApiToken
from .two_factor import needs_verification


class VerifiedSessionAuthentication(SessionAuthentication):
    """A browser session that has passed only the password step is not signed in for the API.

    The middleware already refuses such requests; this keeps the API closed even if a path is
    ever left open there.
    """

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is not None and needs_verification(request._request):
            return None
        return result


def _now() -> float:
    return time.time()


def _failures_key(request: Request) -> tuple[str, float]:
    """This caller's (address's) counter of refused tokens for the current minute, and when
    that minute ends."""
    now = _now()
    window = int(now // 60)
    ident = BaseThrottle().get_ident(request)
    return f"token-failures:{ident}:{window}", (window + 1) * 60 - now


class ApiTokenAuthentication(TokenAuthentication):
    """knox's bearer tokens, checked in one query that also brings the caller's membership
    (every API request needs it next). knox would also read all the user's other tokens on
    every request, to delete expired ones; tokens here do not expire unless given an expiry,
    and an expired one is deleted when it is presented, as knox does.

    Guessing is limited: past API_TOKEN_FAILURES_PER_MINUTE refused tokens from one address,
    every token from it is answered 429 until the minute ends (counted with the cache's atomic
    increment, so concurrent guesses cannot get round it)."""

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        key, left = _failures_key(request)
        if (cache.get(key) or 0) >= settings.API_TOKEN_FAILURES_PER_MINUTE:
            raise Throttled(wait=max(left, 1.0))
        try:
            return super().authenticate(request)  # type: ignore[no-any-return]
        except AuthenticationFailed:
            try:
                cache.incr(key)
            except ValueError:  # the minute's first
                if not cache.add(key, 1, 65):
                    cache.incr(key)
            raise

    def authenticate_credentials(self, token: bytes) -> tuple[Any, ApiToken]:
        failed = AuthenticationFailed(_("Invalid token."))
        raw = token.decode("utf-8", errors="replace")
        candidates = ApiToken.objects.filter(token_key=raw[: CONSTANTS.TOKEN_KEY_LENGTH])
        for auth_token in candidates.select_related("user", "user__membership"):
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                auth_token.delete()
                continue
            try:
                digest = hash_token(raw)
            except (TypeError, binascii.Error):
                raise failed from None
            if compare_digest(digest, auth_token.digest):
                return self.validate_user(auth_token)  # type: ignore[no-any-return]
        raise failed
