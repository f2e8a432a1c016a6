"""Work left behind by a dead process is sent again by the beat sweepers: webhook deliveries
stuck in pending, exports stuck in queued or running. Work still in progress is left alone."""

import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.conf import settings
from django.utils import timezone
from exports.models import ExportJob, ExportStatus
from exports.services import exports_sweep
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_deliver, webhooks_sweep

pytestmark = pytest.mark.django_db


def test_every_sweeper_is_scheduled() -> None:
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "documents.tasks.sweep_documents",
        "webhooks.tasks.sweep_webhooks",
        "exports.tasks.sweep_exports",
    } <= tasks


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is on loopback
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_a_delivery_whose_message_was_lost_is_delivered_by_the_sweeper(
    alice, receiver, monkeypatch
) -> None:
    url, received = receiver
    sent: list[str] = []
    monkeypatch.setattr(
        "webhooks.services._enqueue",
        lambda delivery_id: sent.append(delivery_id) or webhook_deliver(delivery_id=delivery_id),
    )
    endpoint = WebhookEndpoint.objects.create(
        clinic=alice.clinic, url=url, secret="s" * 32, events=["plan.agreed"]
    )
    lost = WebhookDelivery.objects.create(endpoint=endpoint, event="plan.agreed", payload={})
    in_flight = WebhookDelivery.objects.create(endpoint=endpoint, event="plan.agreed", payload={})
    long_ago = timezone.now() - timedelta(minutes=30)
    WebhookDelivery.objects.filter(pk=lost.pk).update(created_at=long_ago, updated_at=long_ago)

    assert webhooks_sweep() == 1
    assert sent == [str(lost.pk)]
    lost.refresh_from_db()
    assert (lost.status, lost.attempts, len(received)) == ("delivered", 1, 1)
    assert WebhookDelivery.objects.get(pk=in_flight.pk).status == "pending"  # its retry is due
    assert webhooks_sweep() == 0


def test_a_failing_delivery_stays_bounded_by_its_attempts(alice, monkeypatch) -> None:
    monkeypatch.setattr("webhooks.services._enqueue", lambda delivery_id: None)
    endpoint = WebhookEndpoint.objects.create(
        clinic=alice.clinic, url="https://example.invalid/", secret="s" * 32, events=["plan.agreed"]
    )
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="plan.agreed", payload={})
    long_ago = timezone.now() - timedelta(minutes=30)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(updated_at=long_ago)
    assert webhooks_sweep() == 1
    assert webhooks_sweep() == 0  # swept once per period, not every minute


def _job(alice, status: str, age: timedelta) -> ExportJob:
    job = ExportJob.objects.create(
        clinic=alice.clinic,
        requested_by=alice.user,
        date_from=date(2026, 1, 1),
        date_to=date(2026, 1, 31),
        status=status,
    )
    then = timezone.now() - age
    ExportJob.objects.filter(pk=job.pk).update(created_at=then, updated_at=then)
    return job


def test_exports_left_behind_are_moved_on_by_the_sweeper(
    alice, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    sent = []
    monkeypatch.setattr("exports.services._enqueue", lambda job_id: sent.append(("run", job_id)))
    monkeypatch.setattr("exports.services._send", lambda task, job_id: sent.append((task, job_id)))
    lost_message = _job(alice, ExportStatus.QUEUED, timedelta(minutes=5))
    just_queued = _job(alice, ExportStatus.QUEUED, timedelta(seconds=5))
    # Running with every PDF ready (its last render's worker died before moving it on).
    all_rendered = _job(alice, ExportStatus.RUNNING, timedelta(minutes=10))
    stalled = _job(alice, ExportStatus.ASSEMBLING, timedelta(minutes=30))
    ExportJob.objects.filter(pk=stalled.pk).update(
        assembling_since=timezone.now() - timedelta(minutes=30)
    )
    assembling_now = _job(alice, ExportStatus.ASSEMBLING, timedelta(minutes=1))
    ExportJob.objects.filter(pk=assembling_now.pk).update(assembling_since=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        exports_sweep()
    assert ("run", str(lost_message.pk)) in sent
    assert ("run", str(just_queued.pk)) not in sent
    assert ("assemble_export", str(stalled.pk)) in sent
    assert ("assemble_export", str(assembling_now.pk)) not in sent
    assert ExportJob.objects.get(pk=all_rendered.pk).status == ExportStatus.ASSEMBLING
