"""What `perfkit monitor` measures in one sample: the host, the processes of each role, and
PostgreSQL's connection count. psutil throughout; every process may vanish at any moment, so
every per-process read is guarded and a vanished process is simply left out of the sample.

CPU units: the host's `cpu_percent` is psutil.cpu_percent(), 0-100 for the whole machine (50 on
a 2-core host = one core busy); a process's `cpu_percent` is 100 per fully used core (up to
100 x cores), as `top` shows it.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # no types-psutil in the venv

_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied)
PG_TIMEOUT_S = 2.0
PG_STALE_S = 5.0  # an older PostgreSQL count is reported as null, not as current
# a process's inet sockets are counted every CONNECTIONS_EVERY samples and carried between:
# counting them parses the host's socket tables, the dearest read of a sample
CONNECTIONS_EVERY = 4


@dataclass
class ProcStat:
    pid: int
    name: str
    cpu_percent: float  # 100 = one full core
    rss_bytes: int
    num_threads: int
    connections: int  # inet sockets (TCP and UDP, IPv4 and IPv6)


@dataclass
class RoleStat:
    """The processes of one role and their totals (an empty role: zeros, no processes)."""

    cpu_percent: float = 0.0
    rss_bytes: int = 0
    num_threads: int = 0
    connections: int = 0
    processes: list[ProcStat] = field(default_factory=list)

    def add(self, stat: ProcStat) -> None:
        self.processes.append(stat)
        self.cpu_percent = round(self.cpu_percent + stat.cpu_percent, 1)
        self.rss_bytes += stat.rss_bytes
        self.num_threads += stat.num_threads
        self.connections += stat.connections


@dataclass
class HostStat:
    cpu_percent: float  # 0-100 for the whole machine
    per_cpu: list[float]
    cpu_count: int
    mem_used_bytes: int
    mem_percent: float
    load1: float
    load5: float
    load15: float


def prime_host() -> None:
    """psutil's interval-less CPU figures count from the previous call: make the first one."""
    psutil.cpu_percent()
    psutil.cpu_percent(percpu=True)


def host_stat() -> HostStat:
    memory = psutil.virtual_memory()
    load1, load5, load15 = os.getloadavg()
    per_cpu = psutil.cpu_percent(percpu=True)
    return HostStat(
        cpu_percent=psutil.cpu_percent(),
        per_cpu=per_cpu,
        cpu_count=len(per_cpu),
        mem_used_bytes=memory.used,
        mem_percent=memory.percent,
        load1=round(load1, 2),
        load5=round(load5, 2),
        load15=round(load15, 2),
    )


class ProcessTracker:
    """Keeps one psutil.Process per process seen, so that its interval-less cpu_percent()
    measures from the previous sample. A process seen for the first time is given its average
    since it started (CPU time / age) instead of psutil's meaningless first 0.0."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, float], psutil.Process] = {}
        self._connections: dict[tuple[int, float], int] = {}
        self._ticks = 0

    def tick(self) -> None:
        """A new sample begins (sockets are counted afresh every CONNECTIONS_EVERY of them)."""
        self._ticks += 1

    def _count_connections(self, key: tuple[int, float], proc: psutil.Process) -> int:
        if key not in self._connections or self._ticks % CONNECTIONS_EVERY == 0:
            self._connections[key] = len(proc.net_connections(kind="inet"))
        return self._connections[key]

    def stat(self, pid: int) -> ProcStat | None:
        try:
            proc = psutil.Process(pid)
            key = (pid, proc.create_time())
            if key in self._known:
                proc = self._known[key]
                cpu = proc.cpu_percent()
            else:
                self._known[key] = proc
                proc.cpu_percent()  # primes the next call
                times = proc.cpu_times()
                age = max(time.time() - key[1], 1e-3)
                cpu = 100.0 * (times.user + times.system) / age
            with proc.oneshot():
                return ProcStat(
                    pid=pid,
                    name=proc.name(),
                    cpu_percent=round(cpu, 1),
                    rss_bytes=proc.memory_info().rss,
                    num_threads=proc.num_threads(),
                    connections=self._count_connections(key, proc),
                )
        except _GONE:
            return None

    def role(self, pids: list[int]) -> RoleStat:
        role = RoleStat()
        for pid in sorted(set(pids)):
            stat = self.stat(pid)
            if stat is not None:
                role.add(stat)
        return role

    def forget_dead(self) -> None:
        self._known = {k: p for k, p in self._known.items() if p.is_running()}
        self._connections = {
            k: n for k, n in self._connections.items() if k in self._known
        }


def listening_pids(port: int) -> list[int]:
    """The processes listening on TCP `port` (all sockets of the host: needs root for others')."""
    try:
        conns = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return []
    return sorted(
        {
            c.pid
            for c in conns
            if c.pid
            and c.status == psutil.CONN_LISTEN
            and c.laddr
            and c.laddr.port == port
        }
    )


@dataclass(frozen=True)
class ProcTable:
    """Every process of the host, read once per sample (one /proc/PID/stat each): who is whose
    parent, names and start times - what finding a role's processes needs, without a scan of
    /proc per role."""

    parent: dict[int, int]
    name: dict[int, str]
    created: dict[int, float]

    def descendants(self, pids: list[int]) -> list[int]:
        """The PIDs still alive and all their descendants (a gateway's workers)."""
        children: dict[int, list[int]] = {}
        for pid, ppid in self.parent.items():
            children.setdefault(ppid, []).append(pid)
        found: set[int] = set()
        todo = [pid for pid in pids if pid in self.parent]
        while todo:
            pid = todo.pop()
            if pid not in found:
                found.add(pid)
                todo.extend(children.get(pid, []))
        return sorted(found)


def process_table(proc_root: Path = Path("/proc")) -> ProcTable:
    """Read from /proc/PID/stat directly, one read a process: psutil's process_iter reads
    each process's files several times over, which made this scan most of a sample's cost.
    `created` is the start time in clock ticks since boot: a key that tells a reused PID."""
    parent, name, created = {}, {}, {}
    for entry in os.scandir(proc_root):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"{entry.path}/stat", "rb") as stat:
                raw = stat.read()
        except OSError:  # gone since the listing
            continue
        left, right = raw.find(b"("), raw.rfind(b")")
        fields = raw[right + 2 :].split()
        if left < 0 or right < 0 or len(fields) < 20:
            continue
        pid = int(entry.name)
        name[pid] = raw[left + 1 : right].decode(errors="replace")
        parent[pid] = int(fields[1])  # state, ppid, ...
        created[pid] = float(fields[19])  # starttime
    return ProcTable(parent, name, created)


def top_level(pids: list[int]) -> list[int]:
    """Of several processes sharing a listening socket (a master and its forked workers), the
    ones whose parent is not among them."""
    chosen = set(pids)
    roots = []
    for pid in pids:
        try:
            parent = psutil.Process(pid).ppid()
        except _GONE:
            continue
        if parent not in chosen:
            roots.append(pid)
    return roots


class GeneratorFinder:
    """The `hey` processes of one run: their environment names the run folder (PERF_RUN_DIR,
    exported by run-configurable.sh). A process's environment is read once."""

    def __init__(self, run_dir: Path, binary_name: str = "hey") -> None:
        self.run_dir = os.path.realpath(run_dir)
        self.binary_name = binary_name
        self._verdict: dict[tuple[int, float], bool] = {}

    def pids(self, table: ProcTable) -> list[int]:
        found = []
        for pid, name in table.name.items():
            if name != self.binary_name:
                continue
            key = (pid, table.created[pid])
            if key not in self._verdict:
                self._verdict[key] = self._belongs(pid)
            if self._verdict[key]:
                found.append(pid)
        return found

    def _belongs(self, pid: int) -> bool:
        try:
            proc = psutil.Process(pid)
            value = proc.environ().get("PERF_RUN_DIR")
            if not value:
                return False
            return os.path.realpath(os.path.join(proc.cwd(), value)) == self.run_dir
        except _GONE:
            return False


class PgCounter:
    """Counts PostgreSQL's connections to the DSN's database (pg_stat_activity) with `psql`,
    in a thread of its own so a slow database never delays a sample; any failure gives null."""

    QUERY = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"

    def __init__(self, dsn: str, period_s: float) -> None:
        self.dsn = dsn
        self.period_s = max(period_s, 1.0)
        self._value: int | None = None
        self._at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def current(self) -> int | None:
        return self._value if time.monotonic() - self._at <= PG_STALE_S else None

    def _loop(self) -> None:
        while not self._stop.is_set():
            value = query_pg_connections(self.dsn)
            if value is not None:
                self._value, self._at = value, time.monotonic()
            self._stop.wait(self.period_s)


def query_pg_connections(dsn: str) -> int | None:
    env = {**os.environ, "PGCONNECT_TIMEOUT": "2"}
    try:
        done = subprocess.run(
            ["psql", dsn, "-X", "-A", "-t", "-c", PgCounter.QUERY],
            capture_output=True,
            text=True,
            timeout=PG_TIMEOUT_S,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.strip()
    return int(text) if done.returncode == 0 and text.isdigit() else None
