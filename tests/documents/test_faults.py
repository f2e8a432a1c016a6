"""A broker restarted mid-render (Redis keeps nothing here, so queued messages are lost)."""

import os
import shutil
import subprocess
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from documents.models import PlanDocument
from documents.services import documents_sweep
from tests.conftest import start_worker, stop_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
LOCAL_REDIS = settings.CELERY_BROKER_URL.startswith("redis://127.0.0.1:6379")


def redis_up() -> bool:
    return (
        subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, check=False
        ).stdout.strip()
        == b"PONG"
    )


def restart_redis() -> None:
    """The machine's own start command (see .ci/run); Redis is configured without persistence."""
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True, check=False
    )
    deadline = time.monotonic() + 20
    while redis_up() and time.monotonic() < deadline:
        time.sleep(0.1)
    os.makedirs("/var/log/redis", exist_ok=True)
    os.makedirs("/var/lib/redis", exist_ok=True)
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            "/var/lib/redis",
            "--logfile",
            "/var/log/redis/ci.log",
        ],
        check=True,
    )
    while not redis_up():
        assert time.monotonic() < deadline + 20, "redis did not come back"
        time.sleep(0.1)


def wait_status(doc_id: str, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while PlanDocument.objects.get(pk=doc_id).status != status:
        assert time.monotonic() < deadline, f"{doc_id} never became {status}"
        time.sleep(0.05)


@pytest.mark.skipif(
    not LOCAL_REDIS or not shutil.which("redis-server"),
    reason="needs the machine's Redis as the broker (CI's second run)",
)
def test_redis_restarted_during_a_render_loses_nothing_and_duplicates_nothing(
    alice, persona_plan
) -> None:
    from config.celery import app

    plan = persona_plan("continuing")
    app.control.purge()
    worker = start_worker(slow_render=2)
    try:
        first = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
        wait_status(first, "rendering")
        subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], capture_output=True, check=False
        )
        # Requested while the broker is down: accepted, and left queued.
        alice.api.patch(
            f"/api/v1/plans/{plan.pk}/",
            {"safety_plan": "Call Jo"},
            format="json",
            HTTP_IF_MATCH=alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"],
        )
        response = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/")
        assert response.status_code == 202
        second = response.json()["id"]
        restart_redis()
        wait_status(first, "ready")  # the render in flight finishes on its own
        assert PlanDocument.objects.get(pk=second).status == "queued"
        PlanDocument.objects.filter(pk=second).update(
            created_at=timezone.now() - timedelta(minutes=5)
        )
        assert documents_sweep() == 1
        wait_status(second, "ready")
    finally:
        stop_worker(worker)
        if not redis_up():
            restart_redis()
    assert PlanDocument.objects.filter(plan=plan).count() == 2
    assert PlanDocument.objects.get(pk=first).attempts == 1
