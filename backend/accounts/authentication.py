"""API session authentication that counts a session only once its two-factor step is done."""

from typing import Any

from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

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
