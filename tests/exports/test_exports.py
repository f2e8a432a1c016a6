"""Bulk export: progress, a zip with a manifest of ids and hashes, permissions."""

import hashlib
import io
import json
import zipfile

import pytest
from django.test import Client as Browser
from exports import services as export_services

from tests.conftest import make_persona

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_inline(monkeypatch):
    monkeypatch.setattr(
        export_services, "_enqueue", lambda job_id: export_services.export_run(job_id=job_id)
    )


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
    data = exporter.api.get(job["zip"]).content
    archive = zipfile.ZipFile(io.BytesIO(data))
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
