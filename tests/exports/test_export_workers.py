"""Bulk export with real worker processes: renders spread over workers, and an export that a
killed worker left behind is finished by the sweepers with each plan exactly once."""

import io
import json
import os
import signal
import time
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone
from exports.models import ExportJob
from exports.services import exports_sweep

from documents.models import PlanDocument
from documents.services import documents_sweep
from tests.conftest import make_persona, start_worker, stop_worker
from tests.documents.helpers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
RANGE = {"date_from": "2020-01-01", "date_to": "2029-12-31"}


def status(job_id: str) -> str:
    return ExportJob.objects.get(pk=job_id).status


def archive(persona, job_id: str) -> zipfile.ZipFile:
    response = persona.api.get(f"/api/v1/exports/{job_id}/zip")
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def assert_each_plan_once(persona, job_id: str, plans) -> None:
    zipped = archive(persona, job_id)
    manifest = json.loads(zipped.read("manifest.json"))
    assert sorted(p["plan"] for p in manifest["plans"]) == sorted(str(p.pk) for p in plans)
    pdfs = [n for n in zipped.namelist() if n.endswith(".pdf")]
    assert len(pdfs) == len(set(pdfs)) == len(plans)
    assert PlanDocument.objects.filter(plan__in=plans).count() == len(plans)


def test_a_cold_export_is_rendered_by_every_worker(alice, alices_client, persona_plan) -> None:
    from config.celery import app

    plans = [persona_plan(n) for n in ("continuing", "leaving", "not_a_topic") * 2]
    app.control.purge()
    workers = [start_worker(slow_render=0.3, name=f"w{i}") for i in range(2)]
    exporter = make_persona(alice.clinic, scopes=["read", "export"])
    alices_client.care_team.add(exporter.user)  # exports hold only the care team's clients
    try:
        job_id = exporter.api.post("/api/v1/exports/", RANGE, format="json").json()["id"]
        wait_for(lambda: status(job_id) == "ready", timeout=90, what="export ready")
    finally:
        for worker in workers:
            stop_worker(worker)
    job = ExportJob.objects.get(pk=job_id)
    assert (job.done, job.total) == (len(plans), len(plans))
    assert_each_plan_once(exporter, job_id, plans)
    # Both worker processes rendered some of the plans.
    renderers = {d.claimed_by for d in PlanDocument.objects.filter(plan__in=plans)}
    hosts_pids = {name.rsplit(":", 1)[1] for name in renderers}
    assert len(hosts_pids) >= 2
    assert all(d.attempts == 1 for d in PlanDocument.objects.filter(plan__in=plans))


def test_a_worker_killed_mid_export_leaves_an_export_the_sweepers_finish(
    alice, alices_client, persona_plan
) -> None:
    from config.celery import app

    plans = [persona_plan(n) for n in ("continuing", "leaving", "not_a_topic")]
    app.control.purge()
    first = start_worker(slow_render=2)
    exporter = make_persona(alice.clinic, scopes=["read", "export"])
    alices_client.care_team.add(exporter.user)  # exports hold only the care team's clients
    job_id = exporter.api.post("/api/v1/exports/", RANGE, format="json").json()["id"]
    wait_for(
        lambda: PlanDocument.objects.filter(status="rendering").exists(),
        what="a render under way",
    )
    os.killpg(first.process.pid, signal.SIGKILL)  # the whole worker, mid-export
    first.process.wait(timeout=30)
    app.control.purge()  # what the broker still held is not what recovers the export
    assert status(job_id) == "running"
    # A minute later, as the beat sweepers see it: the queued renders' messages are gone.
    PlanDocument.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    second = start_worker()
    try:

        def sweep_both() -> bool:
            time.sleep(1)  # once a second is plenty; the beat does it once a minute
            documents_sweep()
            exports_sweep()
            return status(job_id) == "ready"

        wait_for(sweep_both, timeout=90, what="export ready after the sweeps")
    finally:
        stop_worker(second)
    assert_each_plan_once(exporter, job_id, plans)
