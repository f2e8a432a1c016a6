"""GET /healthz: database, broker and worker, answered in a few milliseconds without sign-in.

The worker state comes from the heartbeat rows that workers write (common/tasks.py), never from
a control ping per request (that held a web worker for a second: a denial of service). The
broker probe is cached per process for a few seconds for the same reason. Without a token the
answer is up/down per part; a valid API token also gets the detail (worker count, heartbeat age).
"""

import logging
import os
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
# A worker whose last heartbeat is older than this is counted as down.
HEARTBEAT_STALE = timedelta(seconds=settings.HEALTH_WORKER_STALE_SECONDS)
BROKER_PROBE_TTL = 5.0

_broker_cache: dict[str, tuple[float, bool]] = {}
_broker_lock = threading.Lock()


def heartbeat_write(name: str) -> None:
    WorkerHeartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


def heartbeat_clear(name: str) -> None:
    WorkerHeartbeat.objects.filter(name=name).delete()


def _probe_broker() -> bool:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if "data_folder_in" in options:  # the embedded broker is a folder
        folder = str(options["data_folder_in"])
        return os.path.isdir(folder) and os.access(folder, os.W_OK)
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)
    return True


def _broker() -> bool:
    """At most one probe per process every few seconds, however often /healthz is called."""
    now = time.monotonic()
    cached = _broker_cache.get("broker")
    if cached and now - cached[0] < BROKER_PROBE_TTL:
        return cached[1]
    with _broker_lock:
        cached = _broker_cache.get("broker")
        if cached and time.monotonic() - cached[0] < BROKER_PROBE_TTL:
            return cached[1]
        try:
            ok = _probe_broker()
        except Exception:
            logger.warning("health: broker check failed")
            ok = False
        _broker_cache["broker"] = (time.monotonic(), ok)
        return ok


def _heartbeats() -> list[float] | None:
    """Ages in seconds of the live workers' heartbeats; None when the database cannot answer."""
    now = timezone.now()
    try:
        seen = WorkerHeartbeat.objects.filter(seen_at__gte=now - HEARTBEAT_STALE).values_list(
            "seen_at", flat=True
        )
        return [(now - at).total_seconds() for at in seen]
    except Exception:
        logger.warning("health: database check failed")
        return None


def _has_token(request: HttpRequest) -> bool:
    """A valid API token of a clinic member (not only of a user, who may have left)."""
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return False
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework.request import Request

    from accounts.authentication import ApiTokenAuthentication
    from accounts.permissions import membership_of

    try:
        found = ApiTokenAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        return False
    return found is not None and membership_of(found[0]) is not None


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    if "live" in request.GET:
        # Liveness of this web process only (compose's web healthcheck): a worker or database
        # outage is not fixed by restarting the web server.
        return JsonResponse({"status": "ok"})
    ages = _heartbeats()
    database = ages is not None
    broker = _broker()
    workers = len(ages or [])
    checks = {
        "database": "up" if database else "down",
        "broker": "up" if broker else "down",
        "worker": "up" if workers else "down",
    }
    healthy = database and broker and workers > 0
    body: dict[str, object] = {"status": "ok" if healthy else "unavailable", "checks": checks}
    if not healthy:
        body["down"] = [name for name, state in checks.items() if state == "down"]
    if database and _has_token(request):
        body["workers"] = workers
        body["heartbeat_age_seconds"] = round(min(ages), 1) if ages else None
    response = JsonResponse(body, status=200 if healthy else 503)
    # A 503 here is a state being reported, not a server error: keep django.request from
    # logging an ERROR for every poll while a worker restarts (serve logs the death once).
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response
