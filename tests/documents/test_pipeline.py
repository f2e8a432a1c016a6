"""The document pipeline's rules, run in-process: claims, idempotency, failures, storage."""

import os
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from documents import services
from documents.models import PlanDocument
from documents.services import document_render, document_request, documents_sweep
from tests.documents.helpers import pdf_text

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def plan(persona_plan):
    return persona_plan("continuing")


@pytest.fixture
def queued(alice, plan, monkeypatch) -> PlanDocument:
    sent: list[str] = []
    monkeypatch.setattr(services, "_enqueue", sent.append)
    document, created = document_request(plan=plan, actor=alice.user)
    assert created
    assert sent == [str(document.pk)]
    return document


def test_same_content_returns_the_same_document(alice, plan, queued) -> None:
    again, created = document_request(plan=plan, actor=alice.user)
    assert (again.pk, created) == (queued.pk, False)
    assert PlanDocument.objects.count() == 1


def test_a_request_racing_another_for_the_same_content_gets_its_document(
    alice, plan, queued, monkeypatch
) -> None:
    """Two requests for the same content at once: both looked before either made a document
    (as if `_live` found nothing); the second's insert meets the first's row and answers it,
    nothing queued twice."""
    sent: list[str] = []
    monkeypatch.setattr(services, "_enqueue", sent.append)
    monkeypatch.setattr(services, "_live", lambda plan_id, digest: None)
    again, created = document_request(plan=plan, actor=alice.user)
    assert (again.pk, created) == (queued.pk, False)
    assert PlanDocument.objects.count() == 1
    assert sent == []


def test_changed_content_makes_a_new_document(alice, plan, queued, monkeypatch) -> None:
    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    from plans.services import plan_update

    plan = plan_update(plan=plan, actor=alice.user, changes={"safety_plan": "Call Jo"})
    second, created = document_request(plan=plan, actor=alice.user)
    assert created
    assert second.pk != queued.pk


def test_a_pdf_shows_the_plan_as_it_was_asked_for_not_a_later_save(
    alice, plan, queued, monkeypatch
) -> None:
    """The document is named for a version and a content key: a save made while it waits for a
    worker (a busy queue, an edit right after agreement) never changes what it prints. Its HTML
    is fixed at the request, encrypted on the row, and wiped once it is rendered."""
    from django.db import connection

    from plans.services import plan_update

    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    version = queued.plan_version
    saved = plan_update(
        plan=plan, actor=alice.user, changes={"safety_plan": "Saved after the request"}
    )
    with connection.cursor() as cursor:  # nothing of the plan readable in the row meanwhile
        cursor.execute("SELECT html_token FROM documents_plandocument")
        stored = cursor.fetchone()[0]
    assert stored.startswith("gAAAAA")  # a Fernet token
    assert "<html" not in stored
    assert document_render(document_id=str(queued.pk), worker="w:1") == "ready"
    queued.refresh_from_db()
    text = pdf_text(services.document_pdf(queued))
    assert "Saved after the request" not in text
    assert f"Version {version}" in text
    assert queued.html_token == ""  # used: wiped with the update that made it ready
    # Asked for again, the plan as saved now is a document of its own, with the new words.
    fresh, created = document_request(plan=saved, actor=alice.user)
    assert created
    document_render(document_id=str(fresh.pk), worker="w:1")
    fresh.refresh_from_db()
    assert "Saved after the request" in pdf_text(services.document_pdf(fresh))


def test_two_copies_of_one_draft_version_are_told_apart(alice, plan, queued, monkeypatch) -> None:
    """A draft keeps "version 1" through its saves: the plan page, the API and the PDF itself
    say which save each copy shows, and the page which one is the plan as it is now."""
    from django.test import Client as Browser

    from documents.api import document_representation
    from plans.services import plan_update

    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    first_saved = plan.updated_at
    saved = plan_update(plan=plan, actor=alice.user, changes={"safety_plan": "Call Jo"})
    second, _ = document_request(plan=saved, actor=alice.user)
    assert (queued.plan_version, second.plan_version) == (1, 1)
    assert (queued.plan_saved_at, second.plan_saved_at) == (first_saved, saved.updated_at)
    assert document_representation(second)["plan_saved_at"] == saved.updated_at.isoformat()

    browser = Browser()
    browser.force_login(alice.user)
    page = browser.get(f"/plans/{plan.pk}/").content.decode()
    rows = {
        doc.pk: page.split(f'data-document="{doc.pk}"', 1)[1].split("</li>", 1)[0]
        for doc in (queued, second)
    }
    assert "(an earlier save)" in rows[queued.pk]
    assert "(the plan as it is now)" in rows[second.pk]
    assert f"as saved {second.plan_saved_at:%-d %b %Y, %H:%M:%S}" in rows[second.pk]

    # A client's copy says which parts it holds: one with work in it is never taken for one
    # without (a discreet copy never holds the private parts, whatever was asked).
    from documents.context import CopyOptions

    with_work, _ = document_request(
        plan=saved,
        actor=alice.user,
        options=CopyOptions.of(copy="client", discreet=False, sections=["goals", "work"]),
    )
    discreet, _ = document_request(
        plan=saved,
        actor=alice.user,
        options=CopyOptions.of(copy="client", discreet=True, sections=["goals", "work"]),
    )
    page = browser.get(f"/plans/{plan.pk}/").content.decode()
    row = page.split(f'data-document="{with_work.pk}"', 1)[1].split("</li>", 1)[0]
    assert "the client's copy (Your goals; Your work)" in row
    row = page.split(f'data-document="{discreet.pk}"', 1)[1].split("</li>", 1)[0]
    assert "the client's copy, discreet (Your goals)" in row

    for document, saved_at in ((queued, first_saved), (second, saved.updated_at)):
        document_render(document_id=str(document.pk), worker="w:1")
        document.refresh_from_db()
        text = " ".join(pdf_text(services.document_pdf(document)).split())
        assert f"Last updated {saved_at:%Y-%m-%d %H:%M} UTC" in text


def test_render_once_then_every_redelivery_is_a_no_op(queued) -> None:
    assert document_render(document_id=str(queued.pk), worker="host-a:1") == "ready"
    assert document_render(document_id=str(queued.pk), worker="host-b:2") == "ready"
    queued.refresh_from_db()
    assert (queued.status, queued.attempts, queued.claimed_by) == ("ready", 1, "host-a:1")
    assert queued.size > 1000
    assert len(queued.sha256) == 64


def test_stored_pdf_is_encrypted_at_rest_and_decrypts(queued) -> None:
    document_render(document_id=str(queued.pk), worker="w:1")
    queued.refresh_from_db()
    with default_storage.open(queued.file, "rb") as handle:
        raw = handle.read()
    assert not raw.startswith(b"%PDF")
    assert b"cam work" not in raw
    pdf = services.document_pdf(queued)
    assert pdf.startswith(b"%PDF")
    assert "Your work (you call it \u201ccam work\u201d)" in pdf_text(pdf)


def test_a_queued_document_is_claimed_in_one_statement(queued) -> None:
    """The usual claim is one UPDATE ... RETURNING: what the worker needs comes back with it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        refused, document = services._claim(str(queued.pk), "w:1")
    assert refused is None
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert (document.pk, document.status, document.claimed_by) == (queued.pk, "rendering", "w:1")
    assert (document.plan_id, document.attempts) == (queued.plan_id, 1)
    stored = PlanDocument.objects.get(pk=queued.pk)
    assert (stored.status, stored.claimed_by, stored.attempts) == ("rendering", "w:1", 1)
    assert stored.lease_until > timezone.now()
    # Claimed: a second worker's claim is refused, and changes nothing.
    assert services._claim(str(queued.pk), "w:2") == ("busy", None)
    assert PlanDocument.objects.get(pk=queued.pk).claimed_by == "w:1"


def test_a_live_claim_is_not_taken_over(queued) -> None:
    PlanDocument.objects.filter(pk=queued.pk).update(
        status="rendering",
        claimed_by="other-host:1",
        lease_until=timezone.now() + timedelta(minutes=5),
    )
    assert document_render(document_id=str(queued.pk), worker="w:1") == "busy"


def test_a_claim_by_a_dead_local_process_is_taken_over(queued) -> None:
    import socket
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    PlanDocument.objects.filter(pk=queued.pk).update(
        status="rendering",
        claimed_by=f"{socket.gethostname()}:{dead.pid}",
        attempts=1,
        lease_until=timezone.now() + timedelta(minutes=5),
    )
    assert document_render(document_id=str(queued.pk), worker=f"w:{os.getpid()}") == "ready"
    queued.refresh_from_db()
    assert queued.attempts == 2


def test_an_expired_lease_is_taken_over(queued) -> None:
    PlanDocument.objects.filter(pk=queued.pk).update(
        status="rendering",
        claimed_by="gone:1",
        attempts=1,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    assert document_render(document_id=str(queued.pk), worker="w:1") == "ready"


def test_a_retry_after_a_database_error_renders_at_once(queued, monkeypatch) -> None:
    """The task retries after a temporary database error in the same process: its own claim
    does not make it wait out the lease."""
    from django.db import OperationalError

    real = services.html_to_pdf
    calls = []

    def flaky(html: str) -> bytes:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("connection lost")
        return real(html)

    monkeypatch.setattr(services, "html_to_pdf", flaky)
    with pytest.raises(OperationalError):
        document_render(document_id=str(queued.pk), worker="w:1")
    assert document_render(document_id=str(queued.pk), worker="w:1") == "ready"
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == ("ready", 2)


def test_a_document_erased_while_rendering_leaves_no_file(queued, monkeypatch) -> None:
    real = services.html_to_pdf

    def erase_meanwhile(html: str) -> bytes:
        PlanDocument.objects.filter(pk=queued.pk).delete()  # as the client's erasure does
        return real(html)

    monkeypatch.setattr(services, "html_to_pdf", erase_meanwhile)
    assert document_render(document_id=str(queued.pk), worker="w:1") == "superseded"
    assert not default_storage.exists(f"documents/{queued.pk}.pdf.enc")


def test_too_many_interruptions_end_failed_with_a_message(queued) -> None:
    PlanDocument.objects.filter(pk=queued.pk).update(
        status="rendering",
        claimed_by="gone:1",
        attempts=3,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    assert document_render(document_id=str(queued.pk), worker="w:1") == "gave_up"
    queued.refresh_from_db()
    assert queued.status == "failed"
    assert "interrupted 3 times" in queued.error


def test_a_render_error_fails_cleanly_without_client_text(queued, monkeypatch, caplog) -> None:
    def boom(html: str) -> bytes:
        raise ValueError("cam work secrets in an exception message")

    monkeypatch.setattr(services, "html_to_pdf", boom)
    assert document_render(document_id=str(queued.pk), worker="w:1") == "failed"
    queued.refresh_from_db()
    assert (queued.status, queued.error, queued.file) == ("failed", "Rendering failed.", "")
    assert "secrets" not in caplog.text
    assert "ValueError" in caplog.text


def test_a_time_limit_ends_failed_with_no_file(queued, monkeypatch) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    def slow(html: str) -> bytes:
        raise SoftTimeLimitExceeded

    monkeypatch.setattr(services, "html_to_pdf", slow)
    assert document_render(document_id=str(queued.pk), worker="w:1") == "failed"
    queued.refresh_from_db()
    assert queued.error == "Rendering took too long."
    assert not default_storage.exists(f"documents/{queued.pk}.pdf.enc")


def test_a_failed_document_can_be_requested_again(alice, plan, queued, monkeypatch) -> None:
    PlanDocument.objects.filter(pk=queued.pk).update(status="failed")
    again, created = document_request(plan=plan, actor=alice.user)
    assert created
    assert again.pk != queued.pk


def test_sweeper_re_enqueues_lost_messages_only(queued, monkeypatch) -> None:
    sent: list[str] = []
    monkeypatch.setattr(services, "_enqueue", sent.append)
    assert documents_sweep() == 0  # just queued: its message is still on its way
    PlanDocument.objects.filter(pk=queued.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    assert documents_sweep() == 1
    assert sent == [str(queued.pk)]
