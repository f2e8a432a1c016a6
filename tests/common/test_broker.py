"""The embedded broker (common/broker.py): no half-read message, no message lost to a killed
consumer, and a real worker that survives bursts of PDF and webhook messages while it is killed
and restarted in between."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count
from kombu import Connection, Queue

from common.broker import claimed_count
from tests.conftest import BACKEND, REPO, start_worker, stop_worker

EMBEDDED = settings.CELERY_BROKER_URL.startswith("atomicfs")
pytestmark = pytest.mark.skipif(not EMBEDDED, reason="the embedded broker only")


def folders(tmp_path: Path) -> dict[str, str]:
    for sub in ("queue", "control", "claimed"):
        (tmp_path / sub).mkdir()
    return {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "control_folder": str(tmp_path / "control"),
        "claimed_folder": str(tmp_path / "claimed"),
        "polling_interval": 0.001,
    }


def test_a_consumer_racing_the_writer_never_reads_half_a_message(tmp_path) -> None:
    """Large messages written while a consumer polls as fast as it can. Stock kombu's filesystem
    transport fails this with JSONDecodeError (its reader opens the file mid-write)."""
    options = folders(tmp_path)
    sent = 200
    body = "x" * 200_000
    queue = Queue("race")

    def produce() -> None:
        with Connection("atomicfs://", transport_options=options) as conn:
            producer = conn.Producer(serializer="json")
            for n in range(sent):
                producer.publish({"n": n, "pad": body}, routing_key="race", declare=[queue])

    received: list[int] = []
    with Connection("atomicfs://", transport_options=options) as conn:
        simple = conn.SimpleQueue(queue)
        writer = threading.Thread(target=produce)
        writer.start()
        deadline = time.monotonic() + 120
        while len(received) < sent and time.monotonic() < deadline:
            try:
                message = simple.get(timeout=0.01)
            except simple.Empty:
                continue
            assert message.payload["pad"] == body
            received.append(message.payload["n"])
            message.ack()
        writer.join()
        simple.close()
    assert sorted(received) == list(range(sent))
    assert not list((tmp_path / "queue").glob(".tmp-*"))
    assert claimed_count(tmp_path / "claimed") == 0  # acknowledged messages are gone


CONSUME_AND_DIE = """
import os, signal, sys
from kombu import Connection, Queue
from kombu.transport import TRANSPORT_ALIASES
TRANSPORT_ALIASES["atomicfs"] = "common.broker:Transport"
options = eval(sys.argv[1])
with Connection("atomicfs://", transport_options=options) as conn:
    message = conn.SimpleQueue("jobs").get(timeout=10)
    print(message.payload["n"], flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # before the acknowledgement
"""


def test_a_message_taken_by_a_killed_consumer_is_delivered_again(tmp_path) -> None:
    options = folders(tmp_path)
    with Connection("atomicfs://", transport_options=options) as conn:
        conn.SimpleQueue("jobs").put({"n": 7})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BACKEND), str(REPO)])}
    dead = subprocess.run(
        [sys.executable, "-c", CONSUME_AND_DIE, repr(options)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert dead.returncode == -signal.SIGKILL
    assert dead.stdout.strip() == "7"
    assert claimed_count(tmp_path / "claimed") == 1
    with Connection("atomicfs://", transport_options=options) as conn:
        again = conn.SimpleQueue("jobs").get(timeout=10)
        assert again.payload == {"n": 7}
        again.ack()
    assert claimed_count(tmp_path / "claimed") == 0


def test_files_are_private(tmp_path) -> None:
    options = folders(tmp_path)
    with Connection("atomicfs://", transport_options=options) as conn:
        conn.SimpleQueue("private").put({"n": 1})
    (message,) = (tmp_path / "queue").glob("*.msg")
    assert message.stat().st_mode & 0o777 == 0o600


class Receiver:
    """A loopback webhook receiver that records the delivery ids it was sent."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.ids.append(json.loads(body)["id"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self) -> None:
        self.server.shutdown()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_bursts_of_pdf_and_webhook_messages_survive_worker_kills(
    alice, persona_plan, monkeypatch
) -> None:
    """Three bursts of 60 PDF and 60 webhook messages; the worker is SIGKILLed (main process
    and pool) after each burst and started again. No sweeper runs: the broker alone must hand
    every message to a worker, and no worker may die of a broker error."""
    from webhooks.models import WebhookDelivery, WebhookEndpoint
    from webhooks.tasks import deliver_webhook

    from config.celery import app
    from documents.models import PlanDocument
    from documents.tasks import render_plan_document

    monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE", "true")  # the receiver is on loopback
    receiver = Receiver()
    endpoint = WebhookEndpoint.objects.create(
        clinic=alice.clinic, url=receiver.url, secret="s" * 32, events=["document.ready"]
    )
    plan = persona_plan("continuing")
    document_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    app.control.purge()
    deliveries: list[str] = []
    worker = start_worker(concurrency=2, quiet=True)
    try:
        for burst in range(3):
            for _ in range(60):
                delivery = WebhookDelivery.objects.create(
                    endpoint=endpoint, event="document.ready", payload={"document": document_id}
                )
                deliveries.append(str(delivery.pk))
                deliver_webhook.delay(str(delivery.pk))
                # The same document again and again: each is a real message the worker reads.
                render_plan_document.delay(document_id)
            time.sleep(0.3 * burst)  # kill at different points of the burst
            os.killpg(worker.process.pid, signal.SIGKILL)
            worker.process.wait(timeout=30)
            assert worker.process.returncode == -signal.SIGKILL  # ours, not a crash
            worker = start_worker(concurrency=2, quiet=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            pending = WebhookDelivery.objects.filter(pk__in=deliveries, status="pending").count()
            queue = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
            if not pending and not list(queue.glob("*.celery.msg")):
                break
            assert worker.process.poll() is None, "the worker died on its own"
            time.sleep(0.2)
        assert worker.process.poll() is None, "the worker died on its own"
    finally:
        stop_worker(worker)
        receiver.close()
    statuses = dict(
        WebhookDelivery.objects.filter(pk__in=deliveries)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    assert statuses == {"delivered": len(deliveries)}
    assert set(deliveries) <= set(receiver.ids)  # each one reached the receiver
    assert PlanDocument.objects.get(pk=document_id).status == "ready"
