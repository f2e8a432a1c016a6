"""No library logs client text: WeasyPrint names each character its fonts lack, which spelled
out the client's words in the worker log. Rendered here in several scripts, every line scanned."""

import logging
import subprocess
import sys
import time

import pytest

from common.logs import RedactLibraryText
from documents import services as document_services
from tests.conftest import BACKEND, CONSENT, _worker_env, completed_plan

WORDS = {
    "chinese": "我想睡得更好",
    "arabic": "أريد أن أنام بشكل أفضل",
    "hindi": "मैं बेहतर सोना चाहता हूँ",
    "thai": "ฉันอยากนอนหลับให้ดีขึ้น",
    "cyrillic": "Хочу лучше спать",
    "emoji": "🌊🙂🫶",
}
# Every non-space character of the client's words, one by one: WeasyPrint logged them singly.
CHARACTERS = {c for words in WORDS.values() for c in words if not c.isspace()}


def multilingual_plan(persona, client):
    return completed_plan(
        persona,
        client,
        "individual",
        {
            "consent": CONSENT,
            "about": {"work_focus": "no"},
            "goals": {"client_goals": list(WORDS.values())},
            "supports": {"safety_plan": WORDS["thai"] + " " + WORDS["emoji"]},
        },
    )


def leaked(text: str) -> list[str]:
    return sorted({c for c in CHARACTERS if c in text})


@pytest.mark.django_db
def test_rendering_every_script_logs_no_client_character(
    alice, alices_client, caplog, django_capture_on_commit_callbacks
) -> None:
    plan = multilingual_plan(alice, alices_client)
    caplog.set_level(logging.DEBUG)  # everything any logger lets through
    with django_capture_on_commit_callbacks(execute=True):
        doc_id = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/", {}, format="json").json()[
            "id"
        ]
    assert document_services.document_render(document_id=doc_id, worker="w:1") == "ready"
    lines = [f"{r.name} {r.getMessage()}" for r in caplog.records]
    assert lines  # the capture works: the request and the render logged something
    assert [line for line in lines if leaked(line)] == []


def test_library_records_below_error_are_dropped_and_arguments_withheld() -> None:
    redact = RedactLibraryText()
    glyph = logging.LogRecord(
        "weasyprint", logging.WARNING, __file__, 1, "unsupported by fonts: %r", ("我",), None
    )
    assert redact.filter(glyph) is False
    subset = logging.LogRecord("fontTools.subset", logging.INFO, __file__, 1, "%s", ("ж",), None)
    assert redact.filter(subset) is False
    error = logging.LogRecord(
        "pydyf", logging.ERROR, __file__, 1, "bad string %r", ("спать",), None
    )
    assert redact.filter(error) is True
    assert "спать" not in error.getMessage()
    assert "bad string" in error.getMessage()
    ours = logging.LogRecord("documents", logging.INFO, __file__, 1, "rendered %s", ("id",), None)
    assert redact.filter(ours) is True
    assert ours.getMessage() == "rendered id"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_log_holds_no_client_character(alice, alices_client, tmp_path) -> None:
    from config.celery import app

    plan = multilingual_plan(alice, alices_client)
    log_path = tmp_path / "worker.log"
    app.control.purge()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=DEBUG",
                "--concurrency=1",
                "--pool=prefork",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=logs-{time.monotonic_ns()}@%h",
            ],
            cwd=BACKEND,
            env={**_worker_env(), "LOG_LEVEL": "DEBUG"},
            start_new_session=True,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "worker did not start"
        doc = alice.api.post(f"/api/v1/plans/{plan.pk}/documents/", {}, format="json").json()
        deadline = time.monotonic() + 90
        status = doc["status"]
        while status != "ready" and time.monotonic() < deadline:
            time.sleep(0.2)
            status = alice.api.get(f"/api/v1/documents/{doc['id']}/").json()["status"]
        assert status == "ready"
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = log_path.read_text(encoding="utf-8", errors="replace")
    assert "succeeded" in text or "Task" in text  # the log is the worker's, at DEBUG
    assert leaked(text) == []
