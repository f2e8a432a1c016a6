"""Bulk export: progress, a zip with a manifest of ids and hashes, permissions."""

import hashlib
import io
import json
import zipfile

import pytest
from django.test import Client as Browser
from exports import services as export_services
from exports.models import ExportItem, ExportJob

from documents.models import PlanDocument
from tests.conftest import make_persona

pytestmark = pytest.mark.django_db


def zip_of(persona, url: str) -> zipfile.ZipFile:
    response = persona.api.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_export_zips_every_plan_in_range_with_a_manifest(
    alice, persona_plan, run_inline, django_capture_on_commit_callbacks
) -> None:
    plans = [persona_plan(name) for name in ("continuing", "leaving")]
    exporter = make_persona(alice.clinic, scopes=["read", "export"])
    plans[0].client.care_team.add(exporter.user)  # an export holds what its requester may read
    with django_capture_on_commit_callbacks(execute=True):
        response = exporter.api.post(
            "/api/v1/exports/", {"date_from": "2020-01-01", "date_to": "2029-12-31"}, format="json"
        )
    assert response.status_code == 202
    job = exporter.api.get(response["Location"]).json()
    assert (job["status"], job["done"], job["total"]) == ("ready", 2, 2)
    archive = zip_of(exporter, job["zip"])
    manifest = json.loads(archive.read("manifest.json"))
    assert {p["plan"] for p in manifest["plans"]} == {str(p.pk) for p in plans}
    for entry in manifest["plans"]:
        pdf = archive.read(entry["file"])
        assert hashlib.sha256(pdf).hexdigest() == entry["sha256"]
    assert all("River" not in name for name in archive.namelist())


def test_an_empty_range_exports_nothing(
    alice, persona_plan, run_inline, django_capture_on_commit_callbacks
) -> None:
    persona_plan("continuing")
    with django_capture_on_commit_callbacks(execute=True):
        job = alice.api.post(
            "/api/v1/exports/", {"date_from": "2001-01-01", "date_to": "2001-01-02"}, format="json"
        ).json()
    assert alice.api.get(f"/api/v1/exports/{job['id']}/").json()["total"] == 0


def test_who_may_export(alice, charlie) -> None:
    body = {"date_from": "2020-01-01", "date_to": "2020-02-01"}
    no_scope = make_persona(alice.clinic, scopes=["read", "write"])
    assert no_scope.api.post("/api/v1/exports/", body, format="json").status_code == 403
    session_clinician = Browser()
    session_clinician.force_login(alice.user)
    assert (
        session_clinician.post(
            "/api/v1/exports/", body, content_type="application/json"
        ).status_code
        == 403
    )
    job = alice.api.post("/api/v1/exports/", body, format="json").json()
    assert charlie.api.get(f"/api/v1/exports/{job['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date_from": "2020-02-01", "date_to": "2020-01-01"}, "date_to"),
        ({"date_from": "soon", "date_to": "2020-01-01"}, "date_from"),
        ({"date_to": "2020-01-01"}, "date_from"),
    ],
)
def test_bad_ranges_are_400(alice, body, field) -> None:
    response = alice.api.post("/api/v1/exports/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_admin_sees_progress_in_the_browser(admin_ann) -> None:
    browser = Browser()
    browser.force_login(admin_ann.user)
    browser.post("/exports/", {"date_from": "2020-01-01", "date_to": "2020-02-01"})
    page = browser.get("/exports/").content.decode()
    assert "<progress" in page


def test_each_plan_is_in_the_zip_once_and_every_render_is_shared(
    alice, persona_plan, run_inline, django_capture_on_commit_callbacks
) -> None:
    plans = [persona_plan(name) for name in ("continuing", "leaving", "not_a_topic")]
    # One plan already has its PDF (the clinic's copy, complete, as an export holds): the export
    # reuses it instead of rendering it again.
    with django_capture_on_commit_callbacks(execute=True):
        warm = alice.api.post(
            f"/api/v1/plans/{plans[0].pk}/documents/", {"copy": "clinic"}, format="json"
        ).json()
    with django_capture_on_commit_callbacks(execute=True):
        job = alice.api.post(
            "/api/v1/exports/", {"date_from": "2020-01-01", "date_to": "2029-12-31"}, format="json"
        ).json()
    job = alice.api.get(f"/api/v1/exports/{job['id']}/").json()
    assert (job["status"], job["done"], job["total"]) == ("ready", 3, 3)
    names = zip_of(alice, job["zip"]).namelist()
    assert len(names) == len(set(names)) == 4  # three PDFs and the manifest
    assert PlanDocument.objects.filter(plan__in=plans).count() == 3
    assert ExportItem.objects.get(plan=plans[0]).document_id.hex == warm["id"].replace("-", "")
    assert all(d.attempts == 1 for d in PlanDocument.objects.all())


def test_the_stored_zip_is_encrypted_in_chunks(
    alice, persona_plan, run_inline, django_capture_on_commit_callbacks
) -> None:
    from django.core.files.storage import default_storage

    from common.crypto import CHUNKED_MAGIC

    persona_plan("continuing")
    with django_capture_on_commit_callbacks(execute=True):
        job_id = alice.api.post(
            "/api/v1/exports/", {"date_from": "2020-01-01", "date_to": "2029-12-31"}, format="json"
        ).json()["id"]
    job = ExportJob.objects.get(pk=job_id)
    with default_storage.open(job.file, "rb") as handle:
        stored = handle.read()
    assert stored.startswith(CHUNKED_MAGIC)
    assert b"%PDF" not in stored
    assert b"manifest.json" not in stored
    streamed = b"".join(alice.api.get(f"/api/v1/exports/{job_id}/zip").streaming_content)
    assert job.size == len(streamed)
    assert zipfile.ZipFile(io.BytesIO(streamed)).testzip() is None


def test_starting_an_export_costs_the_same_queries_for_few_or_many_warm_plans(
    alice, persona_plan, run_inline, django_capture_on_commit_callbacks
) -> None:
    from documents.services import document_request

    def warm_export() -> int:
        job = ExportJob.objects.create(
            clinic=alice.clinic,
            requested_by=alice.user,
            date_from="2020-01-01",
            date_to="2029-12-31",
        )
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            export_services.export_run(job_id=str(job.pk))
        return len(queries.captured_queries)

    def add_warm_plan(name: str) -> None:
        plan = persona_plan(name)
        with django_capture_on_commit_callbacks(execute=True):
            document_request(plan=plan, actor=alice.user)

    add_warm_plan("continuing")
    add_warm_plan("leaving")
    few = warm_export()
    for name in ("not_a_topic", "continuing", "leaving", "couple", "continuing"):
        add_warm_plan(name)
    assert warm_export() == few


def test_an_export_renders_again_a_pdf_whose_stored_file_was_lost(
    alice, persona_plan, run_inline, django_capture_on_commit_callbacks
) -> None:
    """A warm PDF the export would reuse has lost its stored file: the export renders that plan
    again and finishes with every plan, instead of failing."""
    from django.core.files.storage import default_storage

    plan = persona_plan("continuing")
    with django_capture_on_commit_callbacks(execute=True):
        warm = alice.api.post(
            f"/api/v1/plans/{plan.pk}/documents/", {"copy": "clinic"}, format="json"
        ).json()
    default_storage.delete(PlanDocument.objects.get(pk=warm["id"]).file)
    with django_capture_on_commit_callbacks(execute=True):
        job = alice.api.post(
            "/api/v1/exports/", {"date_from": "2020-01-01", "date_to": "2029-12-31"}, format="json"
        ).json()
    job = alice.api.get(f"/api/v1/exports/{job['id']}/").json()
    assert (job["status"], job["done"], job["total"]) == ("ready", 1, 1)
    archive = zip_of(alice, job["zip"])
    (entry,) = json.loads(archive.read("manifest.json"))["plans"]
    assert entry["document"] != warm["id"]
    assert archive.read(entry["file"]).startswith(b"%PDF")
    assert PlanDocument.objects.get(pk=warm["id"]).status == "failed"
