"""Worker heartbeat: each worker's main process writes "alive at" into the database every few
seconds, so that /healthz answers from one indexed read instead of pinging workers.

The heartbeat also watches the pool. A main process can be alive while its pool is not: pool
children SIGKILLed at the wrong moment can leave the new ones waiting on a lock for ever, with
tasks handed over and never started. A task waiting that long for a child while a child is free
means the pool is stuck: the worker then clears its heartbeat (/healthz says the worker is
down), kills its children and exits, so that its supervisor (`make run`'s serve, compose's
restart policy) starts a fresh one. Its unfinished tasks are acknowledged late, so they are
delivered again, and the documents' claims keep any from rendering twice.
"""

import contextlib
import logging
import os
import signal
import threading
import time
from typing import Any

from celery.signals import task_received, worker_ready, worker_shutdown
from django.conf import settings

from .health import HEARTBEAT_SECONDS, heartbeat_clear, heartbeat_write

logger = logging.getLogger(__name__)
_stop = threading.Event()
# When this process received each task it holds (monotonic seconds), by task id.
_received: dict[str, float] = {}


@task_received.connect
def _note_received(request: Any = None, **kwargs: Any) -> None:
    _received[request.id] = time.monotonic()


def pool_stuck(concurrency: int) -> bool:
    """A task handed to this worker has waited longer than WORKER_POOL_STUCK_SECONDS for a pool
    child, although a child is free (fewer tasks running than the pool's size). Tasks held for
    a later time (a retry's countdown) do not count."""
    from celery.worker import state

    now = time.monotonic()
    held = {r.id: r for r in state.reserved_requests}
    for task_id in [t for t in _received if t not in held]:
        _received.pop(task_id, None)  # done
    running = {r.id for r in state.active_requests}
    if len(running) >= concurrency:
        return False
    return any(
        now - _received.get(task_id, now) > settings.WORKER_POOL_STUCK_SECONDS
        for task_id, request in held.items()
        if task_id not in running and not request.eta
    )


def _restart(consumer: Any, name: str) -> None:
    logger.error(
        "worker pool stuck: a task has waited %ss for a free pool process; restarting",
        settings.WORKER_POOL_STUCK_SECONDS,
    )
    _clear(name)
    pool = getattr(getattr(consumer, "pool", None), "_pool", None)
    for process in list(getattr(pool, "_pool", None) or []):
        if process.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
    os._exit(70)  # EX_SOFTWARE: the supervisor starts a fresh worker


def _beat(consumer: Any, name: str) -> None:
    from django.db import close_old_connections

    concurrency = int(getattr(getattr(consumer, "pool", None), "limit", None) or 1)
    while not _stop.wait(HEARTBEAT_SECONDS):
        if pool_stuck(concurrency):
            _restart(consumer, name)
        try:
            heartbeat_write(name)
        except Exception as exc:  # a database blip: /healthz shows it, the worker goes on
            logger.warning("heartbeat not written: %s", type(exc).__name__)
            close_old_connections()


@worker_ready.connect
def _start_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    """`sender`: the worker's consumer (its hostname, its pool)."""
    name = str(getattr(sender, "hostname", "worker"))
    heartbeat_write(name)  # before the first ping is answered
    _stop.clear()
    threading.Thread(target=_beat, args=(sender, name), name="heartbeat", daemon=True).start()


@worker_shutdown.connect
def _stop_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    _stop.set()
    _clear(str(getattr(sender, "hostname", "worker")))


def _clear(name: str) -> None:
    try:
        heartbeat_clear(name)
    except Exception as exc:
        logger.warning("heartbeat not cleared: %s", type(exc).__name__)
