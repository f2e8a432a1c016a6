"""Emitting and delivering webhooks: signed with HMAC-SHA256, retried with backoff, and never
sent to private, loopback or link-local addresses (unless WEBHOOKS_ALLOW_PRIVATE, for local
development and tests)."""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record

from .models import EVENT_DATA, EVENTS, PING, DeliveryStatus, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Care-Plans-Signature"
EVENT_HEADER = "X-Care-Plans-Event"
DELIVERY_HEADER = "X-Care-Plans-Delivery"
# Seconds to wait after each failed attempt: spread over about two days, so that a receiver
# down for a deploy, a night or a weekend's first day still gets every event (client.erased
# above all). The short waits are the worker's own retries; the sweeper sends the long ones
# when they are due (a worker does not hold a message for hours).
RETRY_AFTER = (10, 60, 300, 1800, 7200, 21600, 43200, 86400)
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
WORKER_RETRY_MAX = 300  # longer waits are left to webhooks_sweep
# Receivers should refuse a delivery whose signed timestamp is further than this from their
# clock (each attempt is signed afresh, so a retry is never too old).
SIGNATURE_TOLERANCE_SECONDS = 300
# After a secret rotation the old secret keeps signing beside the new one for this long.
ROTATION_OVERLAP = timedelta(hours=24)
LINK_KEYS = ("url", "pdf", "fhir")


class UnsafeEndpoint(ValueError):
    pass


def resolve_endpoint(url: str) -> str:
    """Resolve the URL's host once and return the address to connect to, refusing URLs that
    could reach inside the network this service runs in (SSRF). The caller connects to exactly
    this address, so a name that resolves differently a moment later (DNS rebinding) cannot
    redirect the request."""
    allow_private = settings.WEBHOOKS_ALLOW_PRIVATE
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise UnsafeEndpoint("Use an https:// URL.")
    if not parts.hostname:
        raise UnsafeEndpoint("The URL has no host.")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError):
        raise UnsafeEndpoint("The host name does not resolve.") from None
    if not infos:
        raise UnsafeEndpoint("The host name does not resolve.")
    if not allow_private:
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if not address.is_global or address.is_multicast:
                raise UnsafeEndpoint(
                    "The host resolves to a private, loopback or link-local "
                    "address, which webhooks may not reach."
                )
    return str(infos[0][4][0])


def check_endpoint_url(url: str) -> None:
    """A new endpoint's URL: safe to reach (resolve_endpoint), and with no credentials in it,
    which every reader of the endpoint list and the audit would see."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise UnsafeEndpoint(
            "Leave the user name and password out of the URL: anyone who can list webhooks "
            "would see them. Each delivery is signed with the endpoint's secret instead."
        )
    resolve_endpoint(url)


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


def absolute(path: str) -> str:
    """A link a receiver can follow: the service's public base URL and the path."""
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def _record(endpoint: WebhookEndpoint, event: str, data: dict[str, Any]) -> WebhookDelivery:
    payload = {
        k: absolute(v) if k in LINK_KEYS and isinstance(v, str) and v.startswith("/") else v
        for k, v in data.items()
    }
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, payload=payload)
    transaction.on_commit(partial(_enqueue, str(delivery.pk)))
    return delivery


def webhook_emit(*, clinic_id: uuid.UUID, event: str, data: dict[str, Any]) -> int:
    """Record a delivery for each endpoint subscribed to the event; send after commit.
    `data` holds ids and links only, never client text; links are made absolute here."""
    # Programming errors, not input: an event or a payload the contract does not describe.
    assert event in EVENTS  # noqa: S101
    assert set(data) == set(EVENT_DATA[event]), event  # noqa: S101
    count = 0
    for endpoint in WebhookEndpoint.objects.filter(clinic_id=clinic_id, active=True):
        if event in endpoint.events:
            _record(endpoint, event, data)
            count += 1
    return count


class NotRedeliverable(ValueError):
    pass


def delivery_redeliver(*, delivery: WebhookDelivery, actor: User) -> WebhookDelivery:
    """Send a failed delivery again, from its first attempt, with the same id (a receiver that
    did get it after all deduplicates on it). One still being tried, or delivered, is refused."""
    with transaction.atomic():
        reset = WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            error="",
            response_code=None,
            updated_at=timezone.now(),
        )
        if not reset:
            raise NotRedeliverable(
                "Only a failed delivery can be sent again; this one is "
                f"{WebhookDelivery.objects.get(pk=delivery.pk).status}."
            )
        audit_record(
            actor=actor,
            clinic_id=delivery.endpoint.clinic_id,
            action="update",
            obj=delivery.endpoint,
            redelivered=str(delivery.pk),
        )
        transaction.on_commit(partial(_enqueue, str(delivery.pk)))
    delivery.refresh_from_db()
    return delivery


def webhook_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A test delivery, signed like any other, to check the receiver end to end."""
    return _record(endpoint, PING, {"endpoint": str(endpoint.pk)})


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new secret, shown once. The old one signs too until the overlap ends, so receivers
    can switch without missing a delivery."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = secrets.token_urlsafe(32)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return secret


def signing_secrets(endpoint: WebhookEndpoint) -> list[str]:
    keys = [endpoint.secret]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and until > timezone.now():
        keys.append(endpoint.previous_secret)
    return keys


def sign(secret: str | list[str], timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex>[,v1=<hex>]`: one HMAC-SHA256 of "<t>.<body>" per live secret."""
    keys = [secret] if isinstance(secret, str) else secret
    macs = [
        hmac.new(key.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        for key in keys
    ]
    return ",".join([f"t={timestamp}", *(f"v1={mac}" for mac in macs)])


def _post_pinned(url: str, address: str, body: bytes, headers: dict[str, str]) -> int:
    """POST to `url` over a connection to `address` only. The Host header, TLS SNI and the
    certificate check all use the URL's host name; redirects are not followed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            host, parts.port or 443, timeout=10, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, parts.port or 80, timeout=10)

    def connect_pinned(
        target: tuple[str, int], timeout: float | None = None, source: Any = None
    ) -> socket.socket:
        return socket.create_connection((address, target[1]), timeout, source)

    connection._create_connection = connect_pinned  # type: ignore[attr-defined]
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("POST", path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


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
        # Resolved and checked on every attempt, and the request goes to that address only.
        address = resolve_endpoint(endpoint.url)
        code = _post_pinned(
            endpoint.url,
            address,
            body,
            {
                "Content-Type": "application/json",
                "User-Agent": "care-plans-webhooks/1",
                EVENT_HEADER: delivery.event,
                DELIVERY_HEADER: str(delivery.pk),
                SIGNATURE_HEADER: sign(signing_secrets(endpoint), timestamp, body),
            },
        )
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except (UnsafeEndpoint, OSError, http.client.HTTPException) as exc:
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
        updated_at=timezone.now(),  # webhooks_sweep: when the last attempt was
    )
    return ok or status == DeliveryStatus.FAILED


# A delivery with no attempt yet, or whose short retry is overdue by this much, has lost its
# message (a killed worker, a broker restart). Receivers must expect a rare repeat: deliveries
# are at least once, each with its id.
DELIVERY_STUCK_AFTER = timedelta(minutes=10)


def retry_wait(attempts: int) -> int:
    """Seconds to wait after `attempts` failed attempts (at least one)."""
    return RETRY_AFTER[min(max(attempts, 1), len(RETRY_AFTER)) - 1]


def retry_due(attempts: int, last_attempt: datetime) -> datetime:
    """When the next attempt is due after `attempts` failed ones (the last at `last_attempt`);
    a short retry is the worker's, so the sweeper looks only once it is overdue."""
    if attempts == 0:
        return last_attempt + DELIVERY_STUCK_AFTER
    wait = retry_wait(attempts)
    overdue = DELIVERY_STUCK_AFTER if wait <= WORKER_RETRY_MAX else timedelta(0)
    return last_attempt + timedelta(seconds=wait) + overdue


def webhooks_sweep() -> int:
    """Send the pending deliveries that are due: a long retry whose time has come, or one whose
    message was lost. The attempt count in the row still bounds them. A delivery sent is left
    alone for another full period."""
    now = timezone.now()
    pending = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).values_list(
        "pk", "attempts", "updated_at"
    )
    stuck = [pk for pk, attempts, last in pending[:5000] if retry_due(attempts, last) <= now][:500]
    for delivery_id in stuck:
        WebhookDelivery.objects.filter(pk=delivery_id).update(updated_at=timezone.now())
        _enqueue(str(delivery_id))
    return len(stuck)
