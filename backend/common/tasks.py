"""Worker heartbeat: each worker's main process writes "alive at" into the database every few
seconds, so that /healthz answers from one indexed read instead of pinging workers."""

import logging
import threading
from typing import Any

from celery.signals import worker_ready, worker_shutdown

from .health import HEARTBEAT_SECONDS, heartbeat_clear, heartbeat_write

logger = logging.getLogger(__name__)
_stop = threading.Event()


def _beat(name: str) -> None:
    from django.db import close_old_connections

    while not _stop.wait(HEARTBEAT_SECONDS):
        try:
            heartbeat_write(name)
        except Exception as exc:  # a database blip: /healthz shows it, the worker goes on
            logger.warning("heartbeat not written: %s", type(exc).__name__)
            close_old_connections()


@worker_ready.connect
def _start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    name = str(getattr(sender, "hostname", "worker"))
    heartbeat_write(name)  # before the first ping is answered
    _stop.clear()
    threading.Thread(target=_beat, args=(name,), name="heartbeat", daemon=True).start()


@worker_shutdown.connect
def _stop_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    _stop.set()
    try:
        heartbeat_clear(str(getattr(sender, "hostname", "worker")))
    except Exception as exc:
        logger.warning("heartbeat not cleared: %s", type(exc).__name__)
