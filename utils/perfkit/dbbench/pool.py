"""Runs inside the gateway's own venv (utils/local-stack.sh python): the gateway's connection pool
under load - one operation of perfkit.dbbench.ops called by C threads at once for SECONDS, at
each concurrency level C, with the pool the gateway's settings build (its own engine: pool
class, DB_POOL_SIZE, DB_MAX_OVERFLOW, DB_POOL_TIMEOUT, pre-ping).

  python -m perfkit.dbbench.pool --op NAME [--limit N] --levels auto|1,2,4,... --seconds S --out FILE

--levels auto: 1, 2, 4, ... under the pool's capacity (size + overflow), the capacity, and 1.5
times it - the last level is beyond what the pool can hand out, so the wait for a connection
shows (at most MAX_LEVEL threads).

Each call is its own session, as each of the API's requests is. Per level: calls/s, the call's
p50/p95, the checkout wait (the time the session took to get its connection: a free one from
the pool, a new one opened, or - the pool full - waiting for one to come back; pre-ping
included, and the wait for the CPU the process's threads share) p50/p95/max, the share of
calls that found every connection checked out (`queued`: they waited for the pool itself),
the most connections checked out at once, connections opened, calls
that failed (a pool timeout is one), and the CPU the process used in cores (one Python process
and its GIL, as one gateway worker has). On PostgreSQL the database's connections are sampled
from pg_stat_activity every SAMPLE_S through a connection of its own (all of them, and those
active), with max_connections.

A level whose calls would take over MAX_DRAIN_S to finish once its time is up (its
concurrency times one call's time alone: one core serves them) is not run, and listed.

FILE (schema 1): {"schema_version", "backend", "op", "limit", "seconds",
  "pool": {"class", "size", "max_overflow", "capacity", "timeout_s"},
  "max_connections", "single_ms", "skipped_levels": [concurrency], "max_drain_s", "levels": [{"concurrency", "calls", "errors", "error", "calls_per_s",
  "p50_ms", "p95_ms", "wait_p50_ms", "wait_p95_ms", "wait_max_ms", "queued", "checked_out_max",
  "opened", "cpu_cores", "db_connections_max", "db_active_max"}]}
Standard library, SQLAlchemy and mcpgateway.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from perfkit.atomic import write_json_atomic
from perfkit.dbbench.ops import OPS, Gateway, Op, missing

PROG = "dbbench-pool"
SCHEMA_VERSION = 1
SAMPLE_S = 0.05  # pg_stat_activity sampling interval
MAX_CALLS = 200_000  # a level's calls, however fast they are
MAX_LEVEL = 400  # threads at one level
NO_POOL_LEVELS = [1, 2, 4, 8, 16, 32, 64]  # auto, when the pool has no size (NullPool)
MAX_SECONDS = 60.0
MAX_DRAIN_S = 10.0  # a level whose calls in flight would take longer than this to finish is not run


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1), or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class PoolWatch:
    """Connections checked out of the engine's pool (the most at once) and opened, from the
    pool's events."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    out: int = 0
    most: int = 0
    opened: int = 0

    def attach(self, engine: Any) -> None:
        from sqlalchemy import event

        event.listen(engine, "checkout", self.checkout)
        event.listen(engine, "checkin", self.checkin)
        event.listen(engine, "connect", self.connect)

    def checkout(self, *_args: Any) -> None:
        with self.lock:
            self.out += 1
            self.most = max(self.most, self.out)

    def checkin(self, *_args: Any) -> None:
        with self.lock:
            self.out = max(0, self.out - 1)

    def connect(self, *_args: Any) -> None:
        with self.lock:
            self.opened += 1

    def reset(self) -> None:
        with self.lock:
            self.most, self.opened = self.out, 0


class Activity:
    """PostgreSQL's view of the database's connections, sampled in a thread of its own over a
    connection outside the gateway's pool."""

    QUERY = (
        "SELECT count(*), count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        self.engine = create_engine(engine.url, poolclass=NullPool)
        self.text = text
        self.stop = threading.Event()
        self.most = (0, 0)
        self.thread: threading.Thread | None = None
        with self.engine.connect() as conn:
            self.max_connections = int(
                conn.execute(text("SHOW max_connections")).scalar() or 0
            )

    def __enter__(self) -> Self:
        self.stop.clear()
        self.most = (0, 0)
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def sample(self) -> None:
        with self.engine.connect() as conn:
            while not self.stop.is_set():
                total, active = conn.execute(self.text(self.QUERY)).one()
                self.most = (max(self.most[0], total), max(self.most[1], active))
                conn.rollback()  # a fresh snapshot of pg_stat_activity each time
                self.stop.wait(SAMPLE_S)


@dataclass
class Call:
    seconds: float
    wait: float
    queued: bool = False  # every connection the pool can hand out was checked out
    error: str | None = None


def one_call(gw: Gateway, op: Op, limit: int, capacity: int | None = None) -> Call:
    begun = time.perf_counter()
    wait = 0.0
    pool = gw.db.engine.pool
    queued = bool(capacity) and pool.checkedout() >= capacity
    try:
        with gw.session() as db:
            db.connection()  # the checkout: a pooled connection, a new one, or a wait
            wait = time.perf_counter() - begun
            op.call(gw, db, limit)
        return Call(time.perf_counter() - begun, wait, queued)
    except Exception as exc:  # noqa: BLE001 - the call's own failure (a pool timeout too), counted
        return Call(
            time.perf_counter() - begun, wait, queued, f"{type(exc).__name__}: {exc}"
        )


def level(
    gw: Gateway, op: Op, limit: int, clients: int, seconds: float, capacity: int | None
) -> tuple[list[Call], float, float]:
    """`clients` threads calling `op` until `seconds` have passed: the calls, the wall time
    from the start to the last call's end, and the process CPU time over it."""
    calls: list[Call] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    start_barrier = threading.Barrier(clients + 1)

    def worker() -> None:
        mine: list[Call] = []
        start_barrier.wait()
        while time.perf_counter() < deadline and len(mine) < MAX_CALLS // clients + 1:
            mine.append(one_call(gw, op, limit, capacity))
        with lock:
            calls.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    cpu0 = time.process_time()
    start_barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return calls, time.perf_counter() - began, time.process_time() - cpu0


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 3)


def measure(
    gw: Gateway, op: Op, limit: int, levels: list[int] | None, seconds: float
) -> dict[str, Any]:
    engine = gw.db.engine
    pool = engine.pool
    size = pool.size() if hasattr(pool, "size") else None
    overflow = getattr(pool, "_max_overflow", None)
    timeout = pool.timeout() if hasattr(pool, "timeout") else None
    watch = PoolWatch()
    watch.attach(engine)
    backend = engine.url.get_backend_name()
    activity = Activity(engine) if backend == "postgresql" else None
    capacity = None if size is None or overflow is None else size + max(overflow, 0)
    one_call(gw, op, limit)  # the first call's imports and caches are not the pool's
    single = one_call(gw, op, limit).seconds  # one call alone, warm
    rows, skipped = [], []
    levels = auto_levels(capacity) if levels is None else levels
    for clients in levels:
        # the calls in flight when a level's time is up still finish, one core serving them
        if clients > 1 and clients * single > MAX_DRAIN_S:
            skipped.append(clients)
            continue
        watch.reset()
        if activity is not None:
            with activity:
                calls, wall, cpu = level(gw, op, limit, clients, seconds, capacity)
            db_most: tuple[int | None, int | None] = activity.most
        else:
            calls, wall, cpu = level(gw, op, limit, clients, seconds, capacity)
            db_most = (None, None)
        ok = [c for c in calls if c.error is None]
        errors = [c.error for c in calls if c.error is not None]
        waits = [c.wait for c in ok]
        times = [c.seconds for c in ok]
        rows.append(
            {
                "concurrency": clients,
                "calls": len(calls),
                "errors": len(errors),
                "error": errors[0] if errors else None,
                "calls_per_s": round(len(ok) / wall, 2) if wall > 0 else None,
                "p50_ms": ms(percentile(times, 0.5)),
                "p95_ms": ms(percentile(times, 0.95)),
                "wait_p50_ms": ms(percentile(waits, 0.5)),
                "wait_p95_ms": ms(percentile(waits, 0.95)),
                "wait_max_ms": ms(max(waits, default=None)),
                "queued": round(sum(c.queued for c in calls) / len(calls), 3)
                if calls
                else None,
                "checked_out_max": watch.most,
                "opened": watch.opened,
                "cpu_cores": round(cpu / wall, 2) if wall > 0 else None,
                "db_connections_max": db_most[0],
                "db_active_max": db_most[1],
            }
        )
        print(
            f"{PROG}: concurrency {clients}: {rows[-1]['calls_per_s']} calls/s, checkout wait "
            f"p95 {rows[-1]['wait_p95_ms']} ms, {watch.most} checked out at most",
            file=sys.stderr,
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "backend": backend,
        "op": op.name,
        "limit": limit,
        "seconds": seconds,
        "pool": {
            "class": type(pool).__name__,
            "size": size,
            "max_overflow": overflow,
            "capacity": capacity,
            "timeout_s": timeout,
        },
        "max_connections": None if activity is None else activity.max_connections,
        "single_ms": ms(single),
        "skipped_levels": skipped,
        "max_drain_s": MAX_DRAIN_S,
        "levels": rows,
    }


def auto_levels(capacity: int | None) -> list[int]:
    if not capacity:
        return list(NO_POOL_LEVELS)
    levels = [1 << k for k in range(capacity.bit_length()) if 1 << k < capacity]
    levels += [capacity, (3 * capacity + 1) // 2]
    return sorted({min(level, MAX_LEVEL) for level in levels})


def levels_arg(text: str) -> list[int] | None:
    if text.strip() == "auto":
        return None
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected whole numbers separated by commas (1,2,4,8)"
        ) from None
    if not values or any(v < 1 or v > MAX_LEVEL for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: each level must be 1..{MAX_LEVEL}")
    return sorted(set(values))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m perfkit.dbbench.pool", description=__doc__
    )
    parser.add_argument("--op", required=True, choices=sorted(OPS))
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--levels", type=levels_arg, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if not 0 < args.seconds <= MAX_SECONDS:
        print(
            f"{PROG}: error: --seconds {args.seconds:g}: must be over 0 and at most {MAX_SECONDS:g}",
            file=sys.stderr,
        )
        return 2
    gw = Gateway()
    op = OPS[args.op]
    why = missing(gw, op)
    if why is not None:
        print(f"{PROG}: {op.name}: {why}", file=sys.stderr)
        return 4
    report = measure(gw, op, args.limit, args.levels, args.seconds)
    write_json_atomic(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
