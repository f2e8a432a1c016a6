"""The PDF pipeline with real worker processes (filesystem broker, or Redis in CI's 2nd run)."""

import contextlib
import os
import signal

import pytest

from documents.models import PlanDocument
from documents.services import documents_sweep
from tests.conftest import start_worker, stop_worker
from tests.documents.helpers import pdf_text, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def status_of(doc_id: str) -> str:
    return PlanDocument.objects.get(pk=doc_id).status


@pytest.fixture
def plan(persona_plan):
    return persona_plan("continuing")


def test_a_real_worker_renders_the_pdf(alice, plan, worker) -> None:
    response = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/")
    assert response.status_code == 202
    doc_id = response.json()["id"]
    wait_for(lambda: status_of(doc_id) == "ready", what="ready")
    pdf = alice.api.get(f"/api/v1/documents/{doc_id}/pdf").content
    assert "Feel less drained after shifts" in pdf_text(pdf)
    again = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/")
    assert (again.status_code, again.json()["id"]) == (200, doc_id)


def test_a_pool_process_killed_mid_render_still_ends_ready_exactly_once(alice, plan) -> None:
    from config.celery import app

    app.control.purge()
    worker = start_worker(slow_render=1.5)
    try:
        doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
        wait_for(lambda: status_of(doc_id) == "rendering", what="rendering")
        victim = int(PlanDocument.objects.get(pk=doc_id).claimed_by.rsplit(":", 1)[1])
        assert victim != worker.process.pid  # the pool child, not the worker's main process
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: status_of(doc_id) == "ready", what="ready after the kill")
    finally:
        stop_worker(worker)
    document = PlanDocument.objects.get(pk=doc_id)
    assert document.attempts == 2
    assert PlanDocument.objects.filter(plan=plan).count() == 1
    assert int(document.claimed_by.rsplit(":", 1)[1]) != victim


def test_a_whole_worker_killed_mid_render_is_recovered_by_the_sweeper(alice, plan) -> None:
    from config.celery import app

    app.control.purge()
    first = start_worker(slow_render=3)
    doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    wait_for(lambda: status_of(doc_id) == "rendering", what="rendering")
    os.killpg(first.process.pid, signal.SIGKILL)  # main process and pool together
    first.process.wait(timeout=30)
    app.control.purge()  # whatever the broker still holds for it is not what recovers the job
    second = start_worker()
    try:
        wait_for(lambda: documents_sweep() == 1, timeout=10, what="sweep")
        wait_for(lambda: status_of(doc_id) == "ready", what="ready after the sweep")
    finally:
        stop_worker(second)
    assert PlanDocument.objects.filter(plan=plan).count() == 1
    assert PlanDocument.objects.get(pk=doc_id).status == "ready"


def test_a_worker_whose_pool_is_stuck_says_so_and_restarts(alice, plan, monkeypatch) -> None:
    """A pool that takes tasks and never starts them (children wedged on a lock after a kill;
    here, stopped) while its main process lives on: after WORKER_POOL_STUCK_SECONDS the worker
    clears its heartbeat (/healthz: worker down) and exits for its supervisor to replace it; a
    fresh worker renders the document, once."""
    from pathlib import Path

    from common.models import WorkerHeartbeat
    from config.celery import app

    app.control.purge()
    monkeypatch.setenv("WORKER_POOL_STUCK_SECONDS", "5")
    worker = start_worker()
    pid = worker.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert children
    for child in children:
        os.kill(int(child), signal.SIGSTOP)
    try:
        doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
        assert worker.process.wait(timeout=30) == 70
        assert not WorkerHeartbeat.objects.exists()
        assert alice.api.get("/healthz").json()["checks"]["worker"] == "down"
        assert status_of(doc_id) == "queued"
        for child in children:  # killed on the way out, stopped or not
            assert (
                not Path(f"/proc/{child}").exists()
                or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]
            )
    finally:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(child), signal.SIGKILL)
        stop_worker(worker)
    fresh = start_worker()
    try:
        # The message may have gone with the stuck worker (Redis holds it back as unacked for
        # its visibility timeout): the beat's sweeper sends it again once the grace is over.
        from datetime import timedelta

        from django.utils import timezone

        from documents.services import QUEUED_GRACE

        PlanDocument.objects.filter(pk=doc_id).update(
            created_at=timezone.now() - QUEUED_GRACE - timedelta(seconds=1)
        )
        documents_sweep()  # (the embedded broker may have handed it over again already)
        wait_for(lambda: status_of(doc_id) == "ready", what="ready on a fresh worker")
    finally:
        stop_worker(fresh)
    assert PlanDocument.objects.filter(plan=plan).count() == 1
