"""GET /healthz: the state of the database, the broker and at least one worker."""

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from config.celery import app

logger = logging.getLogger(__name__)


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means "down"; the reason goes to the log, not the body
        logger.exception("health: database check failed")
        return False


def _broker() -> bool:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.exception("health: broker check failed")
        return False


def _workers() -> int:
    try:
        return len(app.control.ping(timeout=1.0) or [])
    except Exception:
        logger.exception("health: worker ping failed")
        return 0


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = _database()
    broker = _broker()
    workers = _workers() if broker else 0
    checks = {
        "database": "up" if database else "down",
        "broker": "up" if broker else "down",
        "worker": "up" if workers else "down",
    }
    healthy = database and broker and workers > 0
    body: dict[str, object] = {
        "status": "ok" if healthy else "unavailable",
        "checks": checks,
        "workers": workers,
    }
    if not healthy:
        body["down"] = [name for name, state in checks.items() if state == "down"]
    return JsonResponse(body, status=200 if healthy else 503)
