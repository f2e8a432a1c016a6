"""`make run`: the web server, a Celery worker and celery beat, kept alive by a small supervisor.

A child that dies is started again after a growing pause (1 s, 2 s, 4 s ... 30 s; back to 1 s
once it has stayed up for a minute), and the restart is logged. The web server goes on serving
meanwhile, and /healthz shows the worker as down until its replacement beats. Ctrl-C (or
SIGTERM) stops every child and then the supervisor.
"""

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from argparse import ArgumentParser
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

BACKEND = Path(__file__).resolve().parents[3]
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0  # seconds up before the backoff starts again from the first step

logger = logging.getLogger("serve")


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    backoff: float = BACKOFF_FIRST
    restart_at: float | None = None
    restarts: int = field(default=0)

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            self.argv, cwd=BACKEND, env=self.env, start_new_session=True
        )
        self.started = time.monotonic()
        self.restart_at = None
        logger.info("%s started (pid %s)", self.name, self.process.pid)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None  # noqa: S101 - for the type checker
            os.killpg(self.process.pid, signal.SIGTERM)

    def watch(self, now: float) -> bool:
        """Called often: notice a death, schedule the restart, restart when it is due.
        True when the child has just been found dead."""
        if self.alive():
            if now - self.started > STABLE_AFTER:
                self.backoff = BACKOFF_FIRST
            return False
        if self.restart_at is None:
            code = self.process.returncode if self.process else None
            logger.error(
                "%s exited (code %s); starting it again in %.0f s", self.name, code, self.backoff
            )
            self.restart_at = now + self.backoff
            self.backoff = min(self.backoff * 2, BACKOFF_MAX)
            if self.process is not None:  # reap the rest of its process group
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
            return True
        if now >= self.restart_at:
            self.restarts += 1
            self.start()
        return False


def _forget_worker(name: str) -> None:
    """A killed worker cannot clear its heartbeat: do it, so /healthz shows the gap at once."""
    from common.health import heartbeat_clear

    try:
        heartbeat_clear(name)
    except Exception as exc:
        logger.warning("could not clear the worker heartbeat: %s", type(exc).__name__)


class Command(BaseCommand):
    help = "Run gunicorn on 127.0.0.1:$PORT, a Celery worker and beat; restart what dies."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--workers", type=int, default=2, help="web worker processes")
        parser.add_argument("--threads", type=int, default=8, help="threads per web process")
        parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)

    def handle(self, *args: Any, **options: Any) -> None:
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO)
        bindir = Path(sys.executable).parent
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BACKEND), str(BACKEND.parent)])}
        data = Path(settings.DATA_DIR)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            logger.warning(
                "running as root: fine for a try-out in a throwaway machine or container; for a "
                "clinic, run `make run` as an ordinary user, or use the services mode (README)"
            )
            env["EMBEDDED_ROOT_HINTED"] = "1"
        port = settings.PORT
        worker_name = f"embedded-{os.getpid()}@{socket.gethostname()}"
        children = [
            Child(
                "worker",
                [
                    str(bindir / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "--loglevel=INFO",
                    f"--concurrency={options['concurrency']}",
                    "--without-gossip",
                    "--without-mingle",
                    f"--hostname={worker_name}",
                ],
                env,
            ),
            Child(
                "beat",
                [
                    str(bindir / "celery"),
                    "-A",
                    "config",
                    "beat",
                    "--loglevel=INFO",
                    f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
                    f"--pidfile={data / 'celerybeat.pid'}",
                ],
                env,
            ),
            Child(
                "web",
                [
                    str(bindir / "gunicorn"),
                    "config.wsgi",
                    f"--bind=127.0.0.1:{port}",
                    f"--workers={options['workers']}",
                    # Threads, so that a read waiting for a PDF (?wait=) holds a thread, not a
                    # whole process; DOCUMENT_WAITERS keeps such reads below the thread count.
                    "--worker-class=gthread",
                    f"--threads={options['threads']}",
                    "--no-control-socket",  # unused; gunicorn would put it in the home folder
                    # No proxy in front unless one is named: X-Forwarded-Proto from anyone else
                    # (a local process included) does not make links https.
                    f"--forwarded-allow-ips={os.environ.get('FORWARDED_ALLOW_IPS', '')}",
                    # gunicorn's largest request line (its default is half): long FHIR searches;
                    # longer still go in a POST to {type}/_search.
                    "--limit-request-line=8190",
                    f"--worker-tmp-dir={data}",
                    "--access-logfile=-",
                    # access log lines carry method, path (ids only) and status, never bodies
                    "--access-logformat=%(h)s %(m)s %(U)s %(s)s %(M)sms",
                ],
                env,
            ),
        ]
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        for child in children:
            child.start()
        self.stdout.write(
            f"Serving on http://127.0.0.1:{port}/  (Ctrl-C stops the web server, worker and beat)",
        )
        self.stdout.flush()
        while not stopping:
            now = time.monotonic()
            for child in children:
                if child.watch(now) and child.name == "worker":
                    _forget_worker(worker_name)
            time.sleep(0.2)
        for child in children:
            child.stop()
        deadline = time.monotonic() + 20
        for child in children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
        self.stdout.write("Stopped.")
