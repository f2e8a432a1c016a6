"""A worker keeps its PostgreSQL connection from one task to the next, as a web process does
(Celery would open a new one for every PDF: about 10 ms of the client's wait here), and a
connection the database has dropped costs no PDF: the next render is made, once."""

import pytest
from django.db import connection

from documents.models import PlanDocument
from tests.conftest import start_worker, stop_worker
from tests.documents.helpers import wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL connections (CI's second run)"
    ),
]


def task_backends() -> set[tuple[int, object]]:
    """The connections that rendered a PDF last: (pid, when it connected). A render's last
    query looks for bulk exports waiting on the document; the worker's heartbeat thread has a
    connection of its own, which does not."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND query LIKE %s",
            ["%exports_exportitem%"],
        )
        return set(cursor.fetchall())


def render(alice, plan, note: str) -> str:
    alice.api.patch(
        f"/api/v1/plans/{plan.pk}/",
        {"safety_plan": note},
        format="json",
        HTTP_IF_MATCH=alice.api.get(f"/api/v1/plans/{plan.pk}/")["ETag"],
    )
    doc_id = alice.api.post(
        f"/api/v1/plans/{plan.pk}/documents/", {"wording_reviewed": True}, format="json"
    ).json()["id"]
    wait_for(lambda: PlanDocument.objects.get(pk=doc_id).status == "ready", 60)
    return doc_id


def test_the_worker_keeps_its_connection_and_replaces_a_dropped_one(alice, persona_plan) -> None:
    from config.celery import app

    plan = persona_plan("continuing")
    app.control.purge()
    worker = start_worker()
    try:
        render(alice, plan, "Call Jo")
        # The render's last query (for waiting exports) comes just after the document is
        # marked ready: looked for until it shows, within a few seconds.
        before = wait_for(task_backends, 10, "the worker's connection after its task")
        render(alice, plan, "Call Sam")
        # the same connection served the next task
        wait_for(lambda: before <= task_backends(), 10, "the same connection")

        with connection.cursor() as cursor:  # the database drops every other connection
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'"
            )
        third = render(alice, plan, "Call Ash")
        assert PlanDocument.objects.get(pk=third).attempts == 1  # no failed try, no retry
        wait_for(lambda: task_backends() and not before & task_backends(), 10, "a new connection")
    finally:
        stop_worker(worker)
