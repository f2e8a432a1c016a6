"""`make run`: the web server and a Celery worker side by side; Ctrl-C stops both."""

import os
import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

BACKEND = Path(__file__).resolve().parents[3]


class Command(BaseCommand):
    help = "Run gunicorn on 127.0.0.1:$PORT and a Celery worker until interrupted."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--workers", type=int, default=2, help="web worker processes")
        parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)

    def handle(self, *args: Any, **options: Any) -> None:
        bindir = Path(sys.executable).parent
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BACKEND), str(BACKEND.parent)])}
        port = settings.PORT
        children = [
            subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [
                    str(bindir / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "--loglevel=INFO",
                    f"--concurrency={options['concurrency']}",
                    "--without-gossip",
                    "--without-mingle",
                    # One process here, so it also runs the periodic sweeper (celery beat).
                    "--beat",
                ],
                cwd=BACKEND,
                env=env,
                start_new_session=True,
            ),
            subprocess.Popen(  # noqa: S603
                [
                    str(bindir / "gunicorn"),
                    "config.wsgi",
                    f"--bind=127.0.0.1:{port}",
                    f"--workers={options['workers']}",
                    "--access-logfile=-",
                    # access log lines carry method, path (ids only) and status, never bodies
                    "--access-logformat=%(h)s %(m)s %(U)s %(s)s %(M)sms",
                ],
                cwd=BACKEND,
                env=env,
                start_new_session=True,
            ),
        ]
        self.stdout.write(
            f"Serving on http://127.0.0.1:{port}/  (Ctrl-C stops the web server and worker)"
        )
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        self.stdout.write("Stopped.")
        failed = [c.returncode for c in children if c.returncode not in (0, -signal.SIGTERM)]
        if failed and not stopping:
            sys.exit(1)
