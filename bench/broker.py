"""Embedded broker candidates, measured the same way: `python -m bench.broker`.

round trip: a message put by one process and taken by another that polls every 20 ms (as the
embedded worker does); throughput: 2,000 small messages put, then taken by one consumer.
Candidates: kombu's stock filesystem transport, common/broker.py with and without fsync, and a
minimal SQLite queue (INSERT; BEGIN IMMEDIATE + SELECT + DELETE), the floor of what a
SQLite-backed kombu transport could do.
"""

import multiprocessing as mp
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "backend")]

POLL = 0.02
N_RT = 200
N_TP = 2000


def kombu_queue(folder: str, transport: str, fsync: bool):  # type: ignore[no-untyped-def]
    from kombu import Connection
    from kombu.transport import TRANSPORT_ALIASES

    TRANSPORT_ALIASES["atomicfs"] = "common.broker:Transport"
    options = {
        "data_folder_in": f"{folder}/queue",
        "data_folder_out": f"{folder}/queue",
        "control_folder": f"{folder}/control",
        "claimed_folder": f"{folder}/claimed",
        "polling_interval": POLL,
        "fsync": fsync,
    }
    conn = Connection(f"{transport}://", transport_options=options)
    return conn, conn.SimpleQueue("bench")


class SqliteQueue:
    def __init__(self, folder: str) -> None:
        self.db = sqlite3.connect(f"{folder}/broker.sqlite3", isolation_level=None, timeout=20)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS q (id INTEGER PRIMARY KEY, body TEXT)")

    def put(self, body: str) -> None:
        self.db.execute("INSERT INTO q (body) VALUES (?)", (body,))

    def get(self) -> str | None:
        self.db.execute("BEGIN IMMEDIATE")
        row = self.db.execute("SELECT id, body FROM q ORDER BY id LIMIT 1").fetchone()
        if row:
            self.db.execute("DELETE FROM q WHERE id = ?", (row[0],))
        self.db.execute("COMMIT")
        return row[1] if row else None


def consumer(kind: str, folder: str, n: int, out: "mp.Queue[float]") -> None:
    if kind == "sqlite":
        q = SqliteQueue(folder)
        for _ in range(n):
            while (body := q.get()) is None:
                time.sleep(POLL)
            out.put(time.time() - float(body))
        return
    transport, _, sync = kind.partition("+")
    conn, simple = kombu_queue(folder, transport, sync == "fsync")
    for _ in range(n):
        message = simple.get(block=True, timeout=30)
        out.put(time.time() - message.payload["t"])
        message.ack()
    conn.release()


def measure(kind: str) -> tuple[float, float, float]:
    folder = tempfile.mkdtemp(prefix="bench-broker-")
    for sub in ("queue", "control", "claimed"):
        os.mkdir(f"{folder}/{sub}")
    if kind == "sqlite":
        q = SqliteQueue(folder)

        def put(t: float) -> None:
            q.put(repr(t))
    else:
        transport, _, sync = kind.partition("+")
        _, simple = kombu_queue(folder, transport, sync == "fsync")

        def put(t: float) -> None:
            simple.put({"t": t})

    out: mp.Queue[float] = mp.Queue()
    proc = mp.Process(target=consumer, args=(kind, folder, N_RT, out))
    proc.start()
    time.sleep(1.0)
    latencies = []
    for _ in range(N_RT):
        put(time.time())
        latencies.append(out.get(timeout=30))
        time.sleep(0.005)
    proc.join()
    start = time.perf_counter()
    for _ in range(N_TP):
        put(time.time())
    put_rate = N_TP / (time.perf_counter() - start)
    start = time.perf_counter()
    proc = mp.Process(target=consumer, args=(kind, folder, N_TP, out))
    proc.start()
    for _ in range(N_TP):
        out.get(timeout=60)
    proc.join()
    take_rate = N_TP / (time.perf_counter() - start)
    return statistics.median(latencies) * 1000, put_rate, take_rate


def main() -> None:
    if len(sys.argv) < 2:
        # One process per candidate: kombu keeps bindings in process-wide state.
        for kind in ("filesystem", "atomicfs+fsync", "atomicfs", "sqlite"):
            subprocess.run([sys.executable, "-m", "bench.broker", kind], check=True)  # noqa: S603
        return
    for kind in sys.argv[1:]:
        rt, put_rate, take_rate = measure(kind)
        name = kind.replace("+", "_")
        print(f"broker_{name}_round_trip_ms_p50={rt:.1f}")
        print(f"broker_{name}_put_per_s={put_rate:.0f}")
        print(f"broker_{name}_take_per_s={take_rate:.0f}")


if __name__ == "__main__":
    main()
