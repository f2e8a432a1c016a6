"""`manage.py serve` as a supervisor, run for real on the embedded defaults in a fresh DATA_DIR:
a killed worker is started again, the web server answers all the while, /healthz goes 503 and
then 200, and SIGINT (Ctrl-C) stops everything."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import BACKEND, REPO
from tests.documents.helpers import wait_for

pytestmark = pytest.mark.worker


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthz(port: int, timeout: float = 10) -> int:
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except urllib.error.URLError:
        return 0  # not listening


def wait_until(predicate, timeout: float, what: str):
    return wait_for(predicate, timeout, what, every=0.2)  # each look is an HTTP request


@pytest.fixture
def embedded_env(tmp_path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATA_DIR=str(tmp_path / "data"),
        PORT=str(free_port()),
        PYTHONPATH=os.pathsep.join([str(BACKEND), str(REPO)]),
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BACKEND,
        env=env,
        check=True,
        timeout=300,
    )
    return env


def test_a_killed_worker_is_restarted_while_the_web_server_keeps_serving(
    embedded_env, tmp_path
) -> None:
    port = int(embedded_env["PORT"])
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--workers=1", "--concurrency=1"],
            cwd=BACKEND,
            env=embedded_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: healthz(port, timeout=60) == 200, 180, "the first 200")
        # No proxy in front: a forwarded scheme from a local process does not shape the links.
        spoofed = urllib.request.Request(
            f"http://127.0.0.1:{port}/.well-known/smart-configuration",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"},
        )
        with urllib.request.urlopen(spoofed, timeout=30) as response:
            token_url = json.loads(response.read())["token_endpoint"]
        assert token_url == f"http://127.0.0.1:{port}/oauth/token"
        # A request line of 6 KB (a long FHIR search) is read, not refused with gunicorn's 414.
        long_line = f"http://127.0.0.1:{port}/fhir/metadata?_format=json&pad={'x' * 6000}"
        with urllib.request.urlopen(long_line, timeout=30) as response:
            assert response.status == 200
        pids = re.findall(r"worker started \(pid (\d+)\)", log.read_text())
        assert len(pids) == 1
        killed_at = time.monotonic()
        os.killpg(int(pids[0]), signal.SIGKILL)  # the worker and its pool, as the OOM killer might

        statuses = []

        def restarted() -> bool:
            statuses.append(healthz(port))  # the web server answers throughout
            return statuses[-1] == 200 and 503 in statuses

        wait_until(restarted, 120, "503 and then 200 again")
        restart_seconds = time.monotonic() - killed_at
        assert 0 not in statuses  # the web server never stopped listening
        text = log.read_text()
        assert re.search(r"worker exited \(code -9\); starting it again in 1 s", text)
        assert len(re.findall(r"worker started \(pid (\d+)\)", text)) == 2
        assert "superuser privileges" not in text
        print(f"worker_restart_seconds={restart_seconds:.1f}")

        (beat,) = re.findall(r"beat started \(pid (\d+)\)", text)
        os.killpg(int(beat), signal.SIGKILL)  # its pidfile stays behind
        wait_until(
            lambda: len(re.findall(r"beat started \(pid (\d+)\)", log.read_text())) == 2,
            60,
            "beat started again",
        )
        assert "beat exited (code -9)" in log.read_text()
    finally:
        serve.send_signal(signal.SIGINT)  # Ctrl-C
        serve.wait(timeout=60)
    assert serve.returncode == 0
    children = re.findall(r"(?:worker|beat|web) started \(pid (\d+)\)", log.read_text())
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
