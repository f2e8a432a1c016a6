"""The embedded mode's broker: kombu's filesystem transport, made safe to share between processes.

Stock kombu writes a message file in place, so a consumer can pick it up half-written
(JSONDecodeError kills the worker), and it forgets a message as soon as it has read it, so a
worker killed before acknowledging loses it. This transport:

- writes every message to a hidden temporary name in the queue folder and renames it into place
  (`os.replace` is atomic on one filesystem): a consumer sees a whole message or none;
- claims a message by renaming it into `claimed/<pid>/` and deletes it only when it is
  acknowledged; a claim whose process has died is put back in the queue, so nothing is lost
  when a worker is killed (at-least-once, as with Redis: tasks claim their status rows);
- rewrites exchange tables (used for control broadcasts) the same atomic way, under a lock file;
- sets file mode 0600 on everything it writes (messages carry ids only, still private).

Registered as `atomicfs://` (see config/settings.py).
"""

import contextlib
import fcntl
import json
import logging
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

from kombu.transport import filesystem, virtual
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

RECOVER_EVERY = 5.0  # seconds between looks for claims left by dead processes
HOST = socket.gethostname()


def _write_atomic(folder: str, name: str, data: bytes, *, durable: bool) -> None:
    """Write `data` to folder/name so that no reader ever sees a partial file."""
    temp = os.path.join(folder, f".tmp-{uuid.uuid4().hex}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, os.path.join(folder, name))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Channel(filesystem.Channel):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._noack_queues: set[str] = set()
        self._claims: dict[str, str] = {}  # delivery tag -> path of the claimed file
        self._last_recovery = 0.0
        self._recover_dead_claims()

    # Options -------------------------------------------------------------------------------

    @property
    def durable(self) -> bool:
        return bool(self.transport_options.get("fsync", False))

    @property
    def claimed_root(self) -> Path:
        default = Path(self.data_folder_in).parent / "claimed"
        return Path(self.transport_options.get("claimed_folder", default))

    @property
    def my_claims(self) -> Path:
        return self.claimed_root / f"{HOST}.{os.getpid()}"

    # Publishing ----------------------------------------------------------------------------

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # Same name shape as kombu's (time-ordered, then the queue), so _get/_size/_purge agree.
        name = f"{int(time.time() * 1000):013d}_{uuid.uuid4()}.{queue}.msg"
        try:
            _write_atomic(self.data_folder_out, name, dumps(payload).encode(), durable=self.durable)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add a message to queue {queue!r}") from exc

    # Consuming -----------------------------------------------------------------------------

    def basic_consume(self, queue: str, no_ack: bool, *args: Any, **kwargs: Any) -> Any:
        if no_ack:
            self._noack_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: Any) -> Any:
        if no_ack:
            self._noack_queues.add(queue)
        return super().basic_get(queue, no_ack=no_ack, **kwargs)

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        if time.monotonic() - self._last_recovery > RECOVER_EVERY:
            self._recover_dead_claims()
        wanted = f"{queue}.msg"
        folder = self.data_folder_in
        names = sorted(n for n in os.listdir(folder) if n.partition(".")[2] == wanted)
        if not names:
            raise virtual.Empty()
        claims = self.my_claims
        claims.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name in names:
            claimed = claims / name
            try:
                os.rename(os.path.join(folder, name), claimed)  # atomic: one consumer wins
            except FileNotFoundError:
                continue  # another consumer took it
            raw = claimed.read_bytes()
            try:
                payload = loads(raw.decode())
            except ValueError:
                # Cannot happen with this transport's writes; a file left by stock kombu could
                # be partial. Keep it aside for inspection rather than crash the worker.
                bad = self.claimed_root / "unreadable"
                bad.mkdir(exist_ok=True, mode=0o700)
                os.replace(claimed, bad / name)
                logger.error("broker: set aside an unreadable message file %s", name)
                continue
            tag = payload.get("properties", {}).get("delivery_tag")
            if queue in self._noack_queues or not tag:
                claimed.unlink()
            else:
                self._claims[tag] = str(claimed)
            return payload
        raise virtual.Empty()

    def _purge(self, queue: str) -> int:
        # Claims of dead processes are ready messages too: purge them with the rest.
        self._recover_dead_claims()
        return int(super()._purge(queue))

    def _forget(self, delivery_tag: str) -> None:
        path = self._claims.pop(delivery_tag, None)
        if path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        super().basic_ack(delivery_tag, multiple=multiple)
        self._forget(delivery_tag)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        super().basic_reject(delivery_tag, requeue=requeue)  # requeue writes a fresh copy
        self._forget(delivery_tag)

    def _restore(self, message: Any) -> None:
        # At a warm shutdown kombu re-publishes unacknowledged messages: drop our claim after.
        super()._restore(message)
        self._forget(message.delivery_tag)

    def _recover_dead_claims(self) -> int:
        """Put back in the queue every message claimed by a process that no longer exists."""
        self._last_recovery = time.monotonic()
        root = self.claimed_root
        if not root.is_dir():
            return 0
        count = 0
        for owner in root.iterdir():
            host, _, pid = owner.name.rpartition(".")
            if host != HOST or not pid.isdigit() or _pid_alive(int(pid)):
                continue
            for claimed in owner.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    os.rename(claimed, os.path.join(self.data_folder_in, claimed.name))
                    count += 1
            with contextlib.suppress(OSError):
                owner.rmdir()
        if count:
            logger.warning("broker: returned %d message(s) claimed by a dead worker", count)
        return count

    # Exchange tables (fanout for control commands) -----------------------------------------

    @contextlib.contextmanager
    def _table_lock(self) -> Any:
        self.control_folder.mkdir(exist_ok=True, mode=0o700)
        fd = os.open(self.control_folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read_table(self, exchange: str) -> list[filesystem.exchange_queue_t]:
        try:
            data = self._exchange_file(exchange).read_bytes()
        except FileNotFoundError:
            return []
        try:
            return [filesystem.exchange_queue_t(*q) for q in json.loads(data)]
        except ValueError:
            logger.error("broker: unreadable exchange table for %r, starting it afresh", exchange)
            return []

    def _write_table(self, exchange: str, queues: list[filesystem.exchange_queue_t]) -> None:
        file = self._exchange_file(exchange)
        _write_atomic(str(file.parent), file.name, dumps(queues).encode(), durable=False)

    def get_table(self, exchange: str) -> list[filesystem.exchange_queue_t]:
        return self._read_table(exchange)

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str, queue: str) -> None:
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with self._table_lock():
            queues = self._read_table(exchange)
            if entry not in queues:
                self._write_table(exchange, [entry, *queues])

    def _delete(
        self, queue: str, exchange: str, routing_key: str, pattern: str, *args: Any, **kwargs: Any
    ) -> None:
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with self._table_lock():
            queues = self._read_table(exchange)
            if entry in queues:
                self._write_table(exchange, [q for q in queues if q != entry])


class Transport(filesystem.Transport):
    Channel = Channel
    global_state = virtual.BrokerState()
    driver_type = "filesystem"
    driver_name = "atomicfs"

    @property
    def default_connection_params(self) -> dict[str, Any]:
        # A folder has no host: without this kombu warns "No hostname was supplied" each time.
        return {"port": self.default_port, "hostname": ""}


def claimed_count(claimed_root: Path) -> int:
    """Messages claimed and not yet acknowledged (for tests and diagnostics)."""
    if not claimed_root.is_dir():
        return 0
    return sum(
        1 for owner in claimed_root.iterdir() if owner.name != "unreadable" for _ in owner.iterdir()
    )
