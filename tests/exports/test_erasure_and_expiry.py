"""Erasure reaches into stored exports; exports expire with their files (issue 11 item 3)."""

import html
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.test import Client as Browser
from django.utils import timezone
from exports import services as export_services
from exports.models import ExportJob, ExportStatus

from audit.models import AuditEvent
from tests.conftest import completed_plan

pytestmark = pytest.mark.django_db


def export(persona, capture) -> str:
    with capture(execute=True):
        response = persona.api.post(
            "/api/v1/exports/", {"date_from": "2020-01-01", "date_to": "2029-12-31"}, format="json"
        )
    assert response.status_code == 202
    return response.json()["id"]


def zip_of(persona, job_id) -> zipfile.ZipFile:
    response = persona.api.get(f"/api/v1/exports/{job_id}/zip")
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def plan_ids(archive: zipfile.ZipFile) -> set[str]:
    return {p["plan"] for p in json.loads(archive.read("manifest.json"))["plans"]}


def test_erasing_a_client_removes_them_from_every_stored_export(
    alice, alices_client, run_inline, django_capture_on_commit_callbacks
) -> None:
    from tests.conftest import PERSONAS
    from tests.factories import ClientFactory

    other = ClientFactory(clinic=alice.clinic, display_name="Wren")
    other.care_team.add(alice.user)
    kind, steps = PERSONAS["continuing"]
    erased_plan = completed_plan(alice, alices_client, kind, steps)
    kept_plan = completed_plan(alice, other, kind, steps)
    first = export(alice, django_capture_on_commit_callbacks)
    second = export(alice, django_capture_on_commit_callbacks)
    for job in (first, second):
        assert plan_ids(zip_of(alice, job)) == {str(erased_plan.pk), str(kept_plan.pk)}

    with django_capture_on_commit_callbacks(execute=True):
        assert alice.api.delete(f"/api/v1/clients/{alices_client.pk}/").status_code == 204

    for job in (first, second):
        archive = zip_of(alice, job)
        assert plan_ids(archive) == {str(kept_plan.pk)}
        names = archive.namelist()
        assert not any(str(erased_plan.pk) in name for name in names)
        assert len([n for n in names if n.endswith(".pdf")]) == 1
        detail = alice.api.get(f"/api/v1/exports/{job}/").json()
        assert (detail["done"], detail["total"]) == (1, 1)
    event = AuditEvent.objects.get(action="erase", client_id=alices_client.pk)
    assert sorted(event.detail["exports_changed"]) == sorted([first, second])


def test_an_erasure_goes_on_when_another_clients_pdf_in_an_export_is_lost(
    alice, alices_client, run_inline, django_capture_on_commit_callbacks
) -> None:
    """The export cannot be written again without the erased client (another plan's PDF is
    gone from storage): its file is deleted and it says to start again; the erasure succeeds."""
    from documents.models import PlanDocument
    from tests.conftest import PERSONAS
    from tests.factories import ClientFactory

    other = ClientFactory(clinic=alice.clinic, display_name="Wren")
    other.care_team.add(alice.user)
    kind, steps = PERSONAS["continuing"]
    completed_plan(alice, alices_client, kind, steps)
    kept_plan = completed_plan(alice, other, kind, steps)
    job_id = export(alice, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(pk=job_id)
    assert job.status == ExportStatus.READY
    lost = PlanDocument.objects.get(plan=kept_plan)
    default_storage.delete(lost.file)

    with django_capture_on_commit_callbacks(execute=True):
        assert alice.api.delete(f"/api/v1/clients/{alices_client.pk}/").status_code == 204

    job.refresh_from_db()
    assert (job.status, job.error, job.file) == (
        ExportStatus.FAILED,
        export_services.UNWRITABLE,
        "",
    )
    assert not default_storage.exists(f"exports/{job_id}.zip.enc")
    assert alice.api.get(f"/api/v1/exports/{job_id}/zip").status_code in (404, 409)
    assert AuditEvent.objects.filter(action="erase", client_id=alices_client.pk).exists()
    assert PlanDocument.objects.get(pk=lost.pk).status == "failed"


def test_an_export_finishing_after_an_erasure_leaves_the_client_out(
    alice, alices_client, persona_plan, run_inline, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    plan = persona_plan("continuing")
    # The client is erased while the zip is being written, after their PDF went in.
    original = export_services.document_pdf
    erased = []

    def pdf_then_erase(document):
        data = original(document)
        if not erased:
            from clients.services import client_erase

            erased.append(True)
            client_erase(client=alices_client, actor=alice.user)
        return data

    monkeypatch.setattr(export_services, "document_pdf", pdf_then_erase)
    job = export(alice, django_capture_on_commit_callbacks)
    assert erased
    assert ExportJob.objects.get(pk=job).status == ExportStatus.READY
    assert plan_ids(zip_of(alice, job)) == set()
    assert str(plan.pk) not in str(zip_of(alice, job).namelist())


def test_exports_expire_with_their_files(
    alice, admin_ann, persona_plan, run_inline, settings, django_capture_on_commit_callbacks
) -> None:
    settings.EXPORT_RETENTION_DAYS = 7
    persona_plan("continuing")
    old = export(alice, django_capture_on_commit_callbacks)
    fresh = export(alice, django_capture_on_commit_callbacks)
    old_file = ExportJob.objects.get(pk=old).file
    assert default_storage.exists(old_file)
    ExportJob.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(days=8))

    from exports.tasks import expire_exports

    assert expire_exports() == 1
    assert not default_storage.exists(old_file)
    expired = ExportJob.objects.get(pk=old)
    assert (expired.status, expired.file) == (ExportStatus.EXPIRED, "")
    assert alice.api.get(f"/api/v1/exports/{old}/zip").status_code == 409
    assert alice.api.get(f"/api/v1/exports/{old}/").json()["zip"] is None
    assert zip_of(alice, fresh)  # the recent one stays
    assert expire_exports() == 0
    assert "exports.tasks.expire_exports" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    # The browser download is gone too.
    ExportJob.objects.filter(pk=old).update(requested_by=admin_ann.user)
    browser = Browser()
    browser.force_login(admin_ann.user)
    assert browser.get(f"/exports/{old}/download/").status_code == 404


def test_a_ready_export_whose_file_is_gone_says_so_before_any_download(
    alice, admin_ann, alices_client, run_inline, django_capture_on_commit_callbacks
) -> None:
    """No zip that breaks half-way and no download in the audit: a 409 saying to start again
    (the web page: back to the exports page with that message), and the export is failed."""
    from tests.conftest import PERSONAS

    alices_client.care_team.add(admin_ann.user)
    kind, steps = PERSONAS["continuing"]
    completed_plan(alice, alices_client, kind, steps)
    job_id = export(admin_ann, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get(pk=job_id)
    assert job.status == ExportStatus.READY
    default_storage.delete(job.file)
    browser = Browser()
    browser.force_login(admin_ann.user)
    page = browser.get(f"/exports/{job_id}/download/", follow=True)
    assert page.status_code == 200
    assert html.escape(export_services.EXPORT_FILE_LOST) in page.content.decode()
    response = admin_ann.api.get(f"/api/v1/exports/{job_id}/zip")
    assert response.status_code == 409
    job.refresh_from_db()
    assert (job.status, job.error) == (ExportStatus.FAILED, export_services.EXPORT_FILE_LOST)
    assert not AuditEvent.objects.filter(object_id=job_id, detail__download=True).exists()


def test_key_rotation_re_encrypts_stored_exports(
    admin_ann, alices_client, alice, run_inline, django_capture_on_commit_callbacks
) -> None:
    """After `reencrypt_fields` the old key can go: a stored export still downloads whole."""
    from cryptography.fernet import Fernet
    from django.conf import settings
    from django.core.management import call_command
    from django.test import override_settings

    from tests.conftest import PERSONAS

    alices_client.care_team.add(admin_ann.user)
    kind, steps = PERSONAS["continuing"]
    plan = completed_plan(alice, alices_client, kind, steps)
    job_id = export(admin_ann, django_capture_on_commit_callbacks)
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, *settings.FIELD_ENCRYPTION_KEYS]):
        call_command("reencrypt_fields", stdout=open("/dev/null", "w"))  # noqa: SIM115
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert plan_ids(zip_of(admin_ann, job_id)) == {str(plan.pk)}
