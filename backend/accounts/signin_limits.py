"""A per-address limit on failed sign-ins across usernames (against password spraying).

django-axes locks a username+address pair after a few failures; this counts every failure
from one address, whatever the username, in the shared cache, and refuses further attempts
from that address for the cool-off period once the (higher) limit is reached.
"""

from typing import Any

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

KEY = "signin-failures:{}"


def _key(request: HttpRequest) -> str | None:
    address = get_client_ip_address(request)
    return KEY.format(address) if address else None


def address_failures(request: HttpRequest) -> int:
    key = _key(request)
    return int(cache.get(key, 0)) if key else 0


def record_failure(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    """user_login_failed receiver: one more failure for the address (no username kept)."""
    if request is None:
        return
    key = _key(request)
    if key is None:
        return
    timeout = int(settings.AXES_COOLOFF_TIME.total_seconds())
    if not cache.add(key, 1, timeout):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout)


class AddressLimitBackend:
    """First authentication backend: refuses every attempt from an address over the limit.

    It has no get_user: it never signs anyone in, so sessions never name it. Raising
    PermissionDenied stops Django trying the other backends; the flag makes the axes
    middleware answer with the same "too many attempts" page (429) as a per-user lockout.
    """

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> None:
        if request is None:
            return None
        if address_failures(request) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            request.axes_locked_out = True  # type: ignore[attr-defined]
            raise PermissionDenied
        return None
