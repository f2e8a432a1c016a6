"""The keyed hash chain, as pure functions: what is signed, and how.

Every MAC uses AUDIT_KEY, which lives outside the database (environment or DATA_DIR), so whoever
can write the database alone cannot make a row, a link or the head that verifies.
"""

import hashlib
import hmac
import json
from typing import Any

from django.conf import settings


def _mac(*parts: str) -> str:
    message = "\x1f".join(parts).encode()
    return hmac.new(settings.AUDIT_KEY.encode(), message, hashlib.sha256).hexdigest()


def canonical_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """The detail as it will read back from the database (JSON types only)."""
    loaded: dict[str, Any] = json.loads(json.dumps(detail, default=str))
    return loaded


def event_mac(fields: dict[str, Any]) -> str:
    """Signs one event's content when it is appended, before it has a place in the chain."""
    payload = json.dumps(fields, sort_keys=True, default=str, separators=(",", ":"))
    return _mac("event", payload)


def link_hash(*, prev_hash: str, seq: int, mac: str) -> str:
    """Places a signed event at position `seq`, after `prev_hash`."""
    return _mac("link", prev_hash, str(seq), mac)


def head_mac(*, clinic_id: str, seq: int, hash: str) -> str:
    """Signs the head: how many events the chain holds and its last link."""
    return _mac("head", clinic_id, str(seq), hash)
