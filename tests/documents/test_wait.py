"""`GET /api/v1/documents/{id}/?wait=N`: a status read that answers as soon as the PDF is ready,
so a client need not poll, without letting waiting clients take the web server's threads."""

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from documents import selectors
from documents.models import PlanDocument
from tests.conftest import start_worker, stop_worker
from tests.documents.helpers import pdf_text


@pytest.fixture
def plan(persona_plan):
    return persona_plan("continuing")


READS = ["", "pdf"]  # the status read and the download both wait


@pytest.mark.django_db
@pytest.mark.parametrize("read", READS)
@pytest.mark.parametrize(
    "raw", ["soon", "-1", "10.5", "nan", "inf", "1e9", "", "1e1", "+5", "-0", "1_0", "\uff15", " 5"]
)
def test_a_wait_that_is_not_a_number_of_seconds_is_a_400_naming_it(alice, plan, read, raw) -> None:
    doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    response = alice.api.get(f"/api/v1/documents/{doc_id}/{read}?wait={raw}")
    assert response.status_code == 400, raw
    assert list(response.json()["errors"]) == ["wait"]


@pytest.mark.django_db
@pytest.mark.parametrize("read", READS)
def test_another_clinics_document_is_a_404_before_any_wait(bob, alice, plan, read) -> None:
    doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    with CaptureQueriesContext(connection) as queries:
        response = bob.api.get(f"/api/v1/documents/{doc_id}/{read}?wait=10")
    assert response.status_code == 404
    assert not [q for q in queries if 'SELECT "documents_plandocument"."status"' in q["sql"]]


@pytest.mark.django_db
def test_with_no_worker_the_read_answers_queued_when_the_time_is_up(alice, plan) -> None:
    doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    with CaptureQueriesContext(connection) as queries:
        response = alice.api.get(f"/api/v1/documents/{doc_id}/?wait=0.2")
    assert (response.status_code, response.json()["status"]) == (200, "queued")
    looks = [q for q in queries if 'SELECT "documents_plandocument"."status"' in q["sql"]]
    assert len(looks) >= 2  # it looked again while it waited (polling, or woken on Redis)


@pytest.mark.django_db
def test_waiting_reads_are_bounded_per_process(alice, plan, monkeypatch) -> None:
    """With the process's share of waiting reads taken, a read answers at once, as without
    `wait`: waiting clients cannot hold every thread of the web server."""
    monkeypatch.setattr(selectors, "_waiters", threading.BoundedSemaphore(1))
    doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    assert selectors._waiters.acquire(blocking=False)  # another request is waiting
    try:
        with CaptureQueriesContext(connection) as queries:
            response = alice.api.get(f"/api/v1/documents/{doc_id}/?wait=10")
    finally:
        selectors._waiters.release()
    assert (response.status_code, response.json()["status"]) == (200, "queued")
    assert response["Retry-After"] == "1"
    assert not [q for q in queries if 'SELECT "documents_plandocument"."status"' in q["sql"]]


@pytest.mark.django_db
def test_one_caller_cannot_take_every_waiting_slot(alice, bob, plan, monkeypatch) -> None:
    """A token already holding its share of a process's waiting slots is answered at once;
    another caller (here of another clinic) still gets to wait."""
    from accounts.models import ApiToken

    monkeypatch.setattr(selectors, "_PER_CALLER", 1)
    doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    token = ApiToken.objects.get(token_key=alice.token[:15])
    monkeypatch.setitem(selectors._by_caller, token.pk, 1)  # alice's token is waiting already
    with CaptureQueriesContext(connection) as queries:
        response = alice.api.get(f"/api/v1/documents/{doc_id}/pdf?wait=10")
    assert (response.status_code, response["Retry-After"]) == (409, "1")
    assert not [q for q in queries if 'SELECT "documents_plandocument"."status"' in q["sql"]]
    assert selectors._waiters.acquire(blocking=False)  # the process still has its slots
    selectors._waiters.release()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_one_waiting_read_answers_when_the_worker_is_done(alice, plan) -> None:
    from config.celery import app

    app.control.purge()
    worker = start_worker(slow_render=0.5)  # still rendering when the read starts
    try:
        posted = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()
        assert posted["status"] == "queued"
        response = alice.api.get(f"/api/v1/documents/{posted['id']}/?wait=10")
    finally:
        stop_worker(worker)
    body = response.json()
    assert (response.status_code, body["status"]) == (200, "ready")
    assert body["pdf"] == f"/api/v1/documents/{posted['id']}/pdf"
    pdf = alice.api.get(body["pdf"]).content
    assert "Feel less drained after shifts" in pdf_text(pdf)
    assert PlanDocument.objects.filter(plan=plan).count() == 1


@pytest.mark.django_db
def test_the_wait_parameter_is_in_the_schema(alice) -> None:
    schema = alice.api.get("/api/v1/schema/?format=json").json()
    for path in ("/api/v1/documents/{id}/", "/api/v1/documents/{id}/pdf"):
        params = schema["paths"][path]["get"]["parameters"]
        wait = next(p for p in params if p["name"] == "wait")
        assert (wait["in"], wait["schema"]["type"]) == ("query", "number")
        assert (wait["schema"]["minimum"], wait["schema"]["maximum"]) == (0, 10)


@pytest.mark.django_db
def test_a_post_with_a_bad_wait_creates_nothing(alice, plan) -> None:
    response = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/?wait=forever")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["wait"]
    assert not PlanDocument.objects.filter(plan=plan).exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_post_that_waits_answers_with_the_ready_document(alice, plan, worker) -> None:
    response = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/?wait=10",
        {"copy": "clinic", "wording_reviewed": True},
        format="json",
    )
    body = response.json()
    assert (response.status_code, body["status"]) == (200, "ready")
    assert alice.api.get(body["pdf"]).content.startswith(b"%PDF")


@pytest.mark.django_db(transaction=True)
def test_with_redis_a_waiting_read_is_woken_not_polling(alice, plan, monkeypatch) -> None:
    """The worker announces a finished document on Redis; the waiting read wakes on it and
    looks at the row again only then (or every half second), instead of every few ms."""
    from documents import services, wake

    if not wake.enabled():
        pytest.skip("the embedded default has no Redis: waiting reads poll the row")
    monkeypatch.setattr(services, "_enqueue", lambda _id: None)
    doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]

    def finish_later() -> None:
        time.sleep(0.3)
        try:
            services.document_render(document_id=doc_id, worker="test:1")
        finally:
            connection.close()  # this thread's own connection

    finisher = threading.Thread(target=finish_later)
    finisher.start()
    with CaptureQueriesContext(connection) as queries:
        response = alice.api.get(f"/api/v1/documents/{doc_id}/?wait=10")
    finisher.join()
    assert response.json()["status"] == "ready"
    looks = [q for q in queries if 'SELECT "documents_plandocument"."status"' in q["sql"]]
    # The first look, a wake-up or two for the subscription itself, the look after the worker's
    # message: a handful, where polling every 5 ms would have looked about sixty times.
    assert len(looks) <= 5


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_download_that_waits_sends_the_pdf_once_rendered(alice, plan) -> None:
    """Request, then fetch with `?wait=`: two requests, no status reads. The download is
    recorded once, as any download is."""
    from audit.models import AuditEvent
    from config.celery import app

    app.control.purge()
    worker = start_worker(slow_render=0.5)  # still rendering when the download starts
    try:
        posted = alice.api.post(
            f"/api/v1/plans/{plan.pk}/documents/", {"wording_reviewed": True}, format="json"
        ).json()
        assert posted["status"] == "queued"
        response = alice.api.get(f"/api/v1/documents/{posted['id']}/pdf?wait=10")
    finally:
        stop_worker(worker)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "Feel less drained after shifts" in pdf_text(response.content)
    downloads = AuditEvent.objects.filter(object_id=posted["id"], detail__download=True)
    assert downloads.count() == 1


@pytest.mark.django_db
def test_a_download_still_rendering_when_the_wait_is_up_is_a_409(alice, plan) -> None:
    from audit.models import AuditEvent

    doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/").json()["id"]
    response = alice.api.get(f"/api/v1/documents/{doc_id}/pdf?wait=0.2")
    assert response.status_code == 409
    assert "queued" in response.json()["detail"]
    assert response["Retry-After"] == "1"
    assert not AuditEvent.objects.filter(object_id=doc_id, detail__download=True).exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("revoke", "status"), [("care_team", 404), ("token", 401), ("deactivated", 403)]
)
def test_access_lost_while_waiting_gets_no_pdf(alice, alices_client, plan, revoke, status) -> None:
    """Taken off the client's care team, the token revoked or the account deactivated while the
    download waits: when the PDF is ready it is not sent, and no download is recorded."""
    from accounts.models import ApiToken
    from audit.models import AuditEvent
    from config.celery import app

    app.control.purge()
    worker = start_worker(slow_render=1.0)
    try:
        doc_id = alice.api.post(
            f"/api/v1/plans/{plan.pk}/documents/", {"wording_reviewed": True}, format="json"
        ).json()["id"]

        def revoke_soon() -> None:
            time.sleep(0.3)
            try:
                if revoke == "care_team":
                    alices_client.care_team.remove(alice.user)
                elif revoke == "token":
                    ApiToken.objects.filter(token_key=alice.token[:15]).delete()
                else:
                    type(alice.user).objects.filter(pk=alice.user.pk).update(is_active=False)
            finally:
                connection.close()  # this thread's own connection

        revoker = threading.Thread(target=revoke_soon)
        revoker.start()
        response = alice.api.get(f"/api/v1/documents/{doc_id}/pdf?wait=10")
        revoker.join()
    finally:
        stop_worker(worker)
    assert PlanDocument.objects.get(pk=doc_id).status == "ready"  # it did render meanwhile
    assert response.status_code == status
    assert not response.content.startswith(b"%PDF")
    assert not AuditEvent.objects.filter(object_id=doc_id, detail__download=True).exists()
