"""Emitting and delivering webhooks: signed with HMAC-SHA256, retried with backoff, and never
sent to private, loopback or link-local addresses (unless WEBHOOKS_ALLOW_PRIVATE, for local
development and tests)."""

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.request
import uuid
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record

from .models import EVENTS, DeliveryStatus, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Care-Plans-Signature"
MAX_ATTEMPTS = 6


class UnsafeEndpoint(ValueError):
    pass


def check_endpoint_url(url: str) -> None:
    """Refuse URLs that could reach inside the network this service runs in (SSRF)."""
    allow_private = settings.WEBHOOKS_ALLOW_PRIVATE
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise UnsafeEndpoint("Use an https:// URL.")
    if not parts.hostname:
        raise UnsafeEndpoint("The URL has no host.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise UnsafeEndpoint("The host name does not resolve.") from None
    if allow_private:
        return
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise UnsafeEndpoint(
                "The host resolves to a private, loopback or link-local "
                "address, which webhooks may not reach."
            )


def endpoint_create(
    *, clinic_id: uuid.UUID, url: str, events: list[str], actor: User | None = None
) -> tuple[WebhookEndpoint, str]:
    check_endpoint_url(url)
    secret = secrets.token_urlsafe(32)
    endpoint = WebhookEndpoint.objects.create(
        clinic_id=clinic_id, url=url, secret=secret, events=sorted(set(events))
    )
    # Client events will leave for this address: who added it is part of the record.
    audit_record(
        actor=actor, clinic_id=clinic_id, action="create", obj=endpoint, events=endpoint.events
    )
    return endpoint, secret


def _enqueue(delivery_id: str) -> None:
    from .tasks import deliver_webhook

    try:
        deliver_webhook.delay(delivery_id)
    except Exception as exc:
        logger.warning("broker unavailable for webhook %s: %s", delivery_id, type(exc).__name__)


def webhook_emit(*, clinic_id: uuid.UUID, event: str, data: dict[str, Any]) -> int:
    """Record a delivery for each endpoint subscribed to the event; send after commit."""
    assert event in EVENTS  # noqa: S101 - a programming error, not input
    count = 0
    for endpoint in WebhookEndpoint.objects.filter(clinic_id=clinic_id, active=True):
        if event not in endpoint.events:
            continue
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, payload=data)
        delivery_id = str(delivery.pk)
        transaction.on_commit(partial(_enqueue, delivery_id))
        count += 1
    return count


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect could point anywhere: it counts as a failure


def webhook_deliver(*, delivery_id: str) -> bool:
    """One attempt. True when delivered (or nothing left to do); False to try again later."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return True
    endpoint = delivery.endpoint
    body = json.dumps(
        {
            "id": str(delivery.pk),
            "event": delivery.event,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload,
        },
        separators=(",", ":"),
    ).encode()
    timestamp = int(time.time())
    code: int | None = None
    error = ""
    try:
        check_endpoint_url(endpoint.url)  # again: DNS may have changed since registration
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            endpoint.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "care-plans-webhooks/1",
                SIGNATURE_HEADER: sign(endpoint.secret, timestamp, body),
            },
        )
        opener = urllib.request.build_opener(_NoRedirects)
        with opener.open(request, timeout=10) as response:
            code = response.status
    except urllib.error.HTTPError as exc:
        code, error = exc.code, f"HTTP {exc.code}"
    except (UnsafeEndpoint, OSError) as exc:
        error = type(exc).__name__
    ok = code is not None and 200 <= code < 300
    attempts = delivery.attempts + 1
    status = (
        DeliveryStatus.DELIVERED
        if ok
        else DeliveryStatus.FAILED
        if attempts >= MAX_ATTEMPTS
        else DeliveryStatus.PENDING
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts,
        response_code=code,
        error=error[:200],
        status=status,
        delivered_at=timezone.now() if ok else None,
    )
    return ok or status == DeliveryStatus.FAILED
