"""After a whole intake, plan and PDF, neither the database nor the broker holds client text."""

import time
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

from documents import services as document_services
from documents.models import PlanDocument
from tests.conftest import start_worker, stop_worker
from tests.documents.helpers import pdf_text

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
MARK = "Zanzibar-Quokka"  # appears only in what the client typed


def broker_contents() -> bytes:
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis://"):
        import redis

        r = redis.Redis.from_url(url)
        out = b""
        for key in r.scan_iter():
            kind = r.type(key)
            if kind == b"list":
                out += b"".join(r.lrange(key, 0, -1))
            elif kind == b"hash":
                out += b"".join(v for v in r.hgetall(key).values())
            elif kind == b"string":
                out += r.get(key) or b""
            elif kind == b"set":
                out += b"".join(r.smembers(key))
            elif kind == b"zset":
                out += b"".join(r.zrange(key, 0, -1))
        return out
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def database_rows() -> str:
    text = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            if table not in connection.introspection.table_names():
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            text += [str(row) for row in cursor.fetchall()]
    return "\n".join(text)


def test_no_client_text_in_the_database_or_the_broker(alice) -> None:
    from config.celery import app

    app.control.purge()
    api = alice.api
    client = api.post(
        "/api/v1/clients/", {"display_name": f"{MARK} name", "pronouns": "xe/xem"}, format="json"
    ).json()["id"]
    intake = api.post(
        "/api/v1/intakes/", {"client": client, "kind": "individual"}, format="json"
    ).json()["id"]
    steps = {
        "consent": {"confidentiality_explained": True, "recording_preference": "full"},
        "about": {"work_term": f"{MARK} work", "work_focus": "central"},
        "goals": {"client_goals": [f"{MARK} goal"], "what_brings_you": f"{MARK} story"},
        "work_context": {"work_meaning": f"{MARK} meaning"},
        "supports": {"safety_plan": f"{MARK} safety"},
        "reflection": {"reflection_notes": f"{MARK} reflection"},
    }
    for step, body in steps.items():
        assert (
            api.put(f"/api/v1/intakes/{intake}/steps/{step}/", body, format="json").status_code
            == 200
        )
    plan = api.post(f"/api/v1/intakes/{intake}/complete/").json()["plan"]
    doc = api.post(f"/api/v1/plans/{plan}/documents/").json()["id"]
    queued = broker_contents()
    assert doc.encode() in queued  # the scan really sees the queued message ...
    assert MARK.encode() not in queued  # ... which carries the id only
    worker = start_worker()
    try:
        deadline = time.monotonic() + 60
        while PlanDocument.objects.get(pk=doc).status != "ready":
            assert time.monotonic() < deadline, "PDF not ready in time"
            time.sleep(0.05)
    finally:
        stop_worker(worker)
    pdf = document_services.document_pdf(PlanDocument.objects.get(pk=doc))
    assert f"{MARK} goal" in pdf_text(pdf)  # the client's copy has their words ...
    assert "reflection" not in pdf_text(pdf)  # ... and never the clinician's reflection
    assert MARK not in database_rows()
    if connection.vendor == "sqlite":
        path = Path(connection.settings_dict["NAME"])
        for file in (path, path.with_name(path.name + "-wal")):
            if file.exists():
                assert MARK.encode() not in file.read_bytes()
    stored = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    for file in stored.rglob("*"):
        if file.is_file():
            assert MARK.encode() not in file.read_bytes()
    assert MARK.encode() not in broker_contents()


def test_a_rolled_back_request_enqueues_nothing(alice, persona_plan, monkeypatch) -> None:
    sent: list[str] = []
    monkeypatch.setattr(document_services, "_enqueue", sent.append)
    plan = persona_plan("continuing")

    def request_then_fail() -> None:
        with transaction.atomic():
            document_services.document_request(plan=plan, actor=alice.user)
            raise RuntimeError("the surrounding transaction fails")

    with pytest.raises(RuntimeError):
        request_then_fail()
    assert sent == []
    assert not PlanDocument.objects.exists()
