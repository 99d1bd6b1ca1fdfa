"""`perfkit monitor RUN_DIR [--interval S] [--gateway-port PORT] [--gateway-pid PID ...]
[--server-pid PID ...] [--pg-dsn DSN] [--watch-pid PID] [--max-hours H]`

Samples resource use while a run is measured and appends one JSON line per sample to
RUN_DIR/resources.jsonl (shape: docs/internals.md, "resources.jsonl"). Roles:
- gateway: the --gateway-pid processes, else the process listening on --gateway-port; plus
  their children (workers). Looked up again while none is alive.
- mcp_servers: the --server-pid processes (and their children).
- generator: every `hey` whose environment has PERF_RUN_DIR == RUN_DIR.
- postgres (with --pg-dsn): the database's connections in pg_stat_activity, via psql.

Runs until SIGTERM/SIGINT (exit 0 within a second, every line already flushed), until RUN_DIR
disappears, until the --watch-pid process is gone, or after --max-hours (default 6).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import psutil  # type: ignore[import-untyped]  # no types-psutil in the venv

from perfkit.clock import iso_utc
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import check_version
from perfkit.monitor.sample import (
    GeneratorFinder,
    PgCounter,
    ProcessTracker,
    ProcTable,
    host_stat,
    listening_pids,
    prime_host,
    process_table,
    top_level,
)

# This module owns resources.jsonl: its name, its schema versions (one per line) and its loader.
# Schema versions of a resources.jsonl line:
#   1 - t, at, interval_s, host (cpu_percent, per_cpu, cpu_count, mem_used_bytes, mem_percent,
#       load1/5/15), processes (per role: cpu_percent, rss_bytes, num_threads, connections,
#       processes), postgres (connections) when watched
SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)
RESOURCES_FILE = "resources.jsonl"
DEFAULT_INTERVAL_S = 0.5
REDISCOVER_S = (
    5.0  # how often a gateway that is not (or no longer) found is looked up again
)


@dataclass
class Targets:
    """What to watch; a role with nothing to find it by is not monitored (absent from samples)."""

    run_dir: Path
    gateway_port: int | None = None
    gateway_pids: list[int] = field(default_factory=list)
    server_pids: list[int] = field(default_factory=list)
    pg_dsn: str | None = None


def resources_path(run_dir: Path) -> Path:
    return run_dir / RESOURCES_FILE


def load_samples(run_dir: Path) -> tuple[list[dict[str, Any]], int] | None:
    """RUN_DIR/resources.jsonl: its samples in time order, and how many lines were skipped (a
    line torn by a kill, a sample missing its parts); None when the run has none. A line of a
    schema version this kit does not read is refused (exit 2), as for every file of the kit."""
    path = resources_path(run_dir)
    if not path.is_file():
        return None
    samples, skipped = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            skipped += 1
            continue
        check_version(path, data, READABLE_VERSIONS)
        if is_sample(data):
            samples.append(data)
        else:
            skipped += 1
    samples.sort(key=lambda sample: float(sample["t"]))
    return samples, skipped


def is_sample(data: dict[str, Any]) -> bool:
    return (
        isinstance(data.get("t"), int | float)
        and isinstance(data.get("host"), dict)
        and isinstance(data.get("processes"), dict)
    )


class Sampler:
    def __init__(self, targets: Targets, interval_s: float) -> None:
        self.targets = targets
        self.interval_s = interval_s
        self.tracker = ProcessTracker()
        self.generators = GeneratorFinder(targets.run_dir)
        self.pg = PgCounter(targets.pg_dsn, interval_s) if targets.pg_dsn else None
        self._gateway_roots: list[int] = list(targets.gateway_pids)
        self._gateway_looked_up = 0.0

    @property
    def watches_gateway(self) -> bool:
        return bool(self.targets.gateway_pids) or self.targets.gateway_port is not None

    def start(self) -> None:
        prime_host()
        self._gateway_pids(process_table())
        if self.pg:
            self.pg.start()

    def stop(self) -> None:
        if self.pg:
            self.pg.stop()

    def _gateway_pids(self, table: ProcTable) -> list[int]:
        alive = [pid for pid in self._gateway_roots if pid in table.parent]
        port = self.targets.gateway_port
        due = time.monotonic() - self._gateway_looked_up >= REDISCOVER_S
        if not alive and port is not None and not self.targets.gateway_pids and due:
            self._gateway_looked_up = time.monotonic()
            alive = top_level(listening_pids(port))
            self._gateway_roots = alive
        return table.descendants(alive)

    def sample(self) -> dict[str, Any]:
        now = round(time.time(), 3)
        table = process_table()  # one scan of /proc for every role
        self.tracker.tick()
        roles: dict[str, Any] = {}
        if self.watches_gateway:
            roles["gateway"] = asdict(self.tracker.role(self._gateway_pids(table)))
        if self.targets.server_pids:
            servers = table.descendants(self.targets.server_pids)
            roles["mcp_servers"] = asdict(self.tracker.role(servers))
        roles["generator"] = asdict(self.tracker.role(self.generators.pids(table)))
        line: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "t": now,
            "at": iso_utc(now),
            "interval_s": self.interval_s,
            "host": asdict(host_stat()),
            "processes": roles,
        }
        if self.pg:
            line["postgres"] = {"connections": self.pg.current()}
        return line


class StopFlag:
    """Set by SIGTERM/SIGINT; waiting on it returns as soon as a signal arrives."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason = ""

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.reason = signal.Signals(signum).name
        self.event.set()

    def wait(self, seconds: float) -> bool:
        # short slices: a signal handler only runs between Python bytecodes
        deadline = time.monotonic() + seconds
        while not self.event.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.event.wait(min(left, 0.1))
        return self.event.is_set()


def why_stop(targets: Targets, watch_pid: int | None, deadline: float) -> str | None:
    if not targets.run_dir.is_dir():
        return f"the run folder {targets.run_dir} is gone"
    if watch_pid is not None and not psutil.pid_exists(watch_pid):
        return f"process {watch_pid} (the run) is gone"
    if time.monotonic() >= deadline:
        return "the time cap was reached"
    return None


def run(
    sampler: Sampler, out: IO[str], flag: StopFlag, watch_pid: int | None, cap_s: float
) -> str:
    """Sample until told to stop; returns why it stopped."""
    deadline = time.monotonic() + cap_s
    next_at = (
        time.monotonic() + sampler.interval_s
    )  # the first interval primes CPU counters
    samples = 0
    while not flag.wait(next_at - time.monotonic()):
        reason = why_stop(sampler.targets, watch_pid, deadline)
        if reason:
            return reason
        out.write(json.dumps(sampler.sample(), separators=(",", ":")) + "\n")
        out.flush()
        samples += 1
        if samples % 120 == 0:
            sampler.tracker.forget_dead()
        next_at += sampler.interval_s
        if (
            next_at < time.monotonic()
        ):  # a slow sample: skip the missed ticks, do not burst
            next_at = time.monotonic() + sampler.interval_s
    return flag.reason


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perfkit monitor",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL_S)
    parser.add_argument("--gateway-port", type=int)
    parser.add_argument(
        "--gateway-pid", type=int, action="extend", nargs="+", default=[]
    )
    parser.add_argument(
        "--server-pid", type=int, action="extend", nargs="+", default=[]
    )
    parser.add_argument("--pg-dsn", help="PostgreSQL DSN (URL or key=value) to count")
    parser.add_argument("--watch-pid", type=int, help="stop when this process is gone")
    parser.add_argument("--max-hours", type=float, default=6.0)
    return parser


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if not args.run_dir.is_dir():
        raise KitError(f"run folder '{args.run_dir}' not found", ExitCode.USAGE)
    if not 0.05 <= args.interval <= 60:
        raise KitError(
            f"--interval {args.interval} is out of range (0.05 to 60 seconds; default 0.5)",
            ExitCode.USAGE,
        )
    flag = StopFlag()
    flag.install()
    targets = Targets(
        run_dir=args.run_dir,
        gateway_port=args.gateway_port,
        gateway_pids=args.gateway_pid,
        server_pids=args.server_pid,
        pg_dsn=args.pg_dsn,
    )
    sampler = Sampler(targets, args.interval)
    sampler.start()
    try:
        with (args.run_dir / RESOURCES_FILE).open("a", encoding="utf-8") as out:
            reason = run(sampler, out, flag, args.watch_pid, args.max_hours * 3600)
    finally:
        sampler.stop()
    if reason not in {"SIGTERM", "SIGINT"}:
        print(f"perfkit monitor: warning: stopped sampling: {reason}", file=sys.stderr)
    return int(ExitCode.OK)
