"""summary.json: what a run measured, per test and round - the file every later step reads
(compare, baseline, trend, report, scale). This module owns it: its name, its model, its
schema versions and the one loader; `perfkit summarize` (perfkit.results.summarize) writes it.

Schema versions of summary.json:
  1 - profile, status, started_at, finished_at, target, environment, settings, tests (per test:
      status, reason, error_rate, rounds, aggregate, probe; components for a group; resources),
      totals, warnings; resources and servers when the run recorded them; database (its
      starting state and rows before and after) when the run took those snapshots (added
      2026-12-02 as an optional key: a summary without it still reads); database.queries,
      the database scenario's SQL and slow queries (perfkit.results.dbqueries; optional, added
      2026-12-04); database.pool, its connection pool analysis (perfkit.results.dbpool;
      optional, added 2026-12-04); machine_speed, the run's machine-speed reference
      (perfkit.results.speed; optional, added 2026-12-06); per test `stalls`, the periodic
      stalls found in its rounds (perfkit.results.stalls; optional, added 2026-12-06)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import UnknownVersion, check_version, malformed, read_object

SUMMARY_FILE = "summary.json"
SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)


@dataclass
class ComponentResult:
    id: str
    method: str
    path: str
    concurrency: int
    rounds: list[dict[str, Any]]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComponentResult:
        return cls(
            id=str(data["id"]),
            method=str(data["method"]),
            path=str(data["path"]),
            concurrency=int(data["concurrency"]),
            rounds=[dict(r) for r in data["rounds"]],
        )


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class

    id: str
    scenario: str
    method: str
    path: str
    concurrency: int
    requests_per_round: int | None
    duration: str | None
    auth: bool
    status: str  # ok | failed | skipped
    reason: str | None
    error_rate: float | None
    # per round, as perfkit.results.csvstats.RoundStats.to_dict wrote it: index, requests, ok,
    # rps, latency_ms {p50, p90, p95, p99, mean, min, max}, status_codes, errors, complete, ...
    rounds: list[dict[str, Any]]
    aggregate: (
        dict[str, Any] | None
    )  # medians over complete rounds: rounds, rps, p50_ms, ...
    probe: dict[str, Any] | None
    components: list[ComponentResult] | None = None
    resources: dict[str, Any] | None = None  # only when the run has resources.jsonl
    # perfkit.results.upstream: what reached the benchmark MCP servers during the rounds and
    # their own time; only with the test's upstream snapshots
    upstream: dict[str, Any] | None = None
    # perfkit.results.stalls: moments its rounds' requests were held at once; only when a
    # complete round has rows
    stalls: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("components", "resources", "upstream", "stalls"):
            if data[key] is None:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestResult:
        components = data.get("components")
        return cls(
            id=str(data["id"]),
            scenario=str(data["scenario"]),
            method=str(data["method"]),
            path=str(data["path"]),
            concurrency=int(data["concurrency"]),
            requests_per_round=data.get("requests_per_round"),
            duration=data.get("duration"),
            auth=bool(data.get("auth", True)),
            status=str(data["status"]),
            reason=data.get("reason"),
            error_rate=data.get("error_rate"),
            rounds=[dict(r) for r in data["rounds"]],
            aggregate=data.get("aggregate"),
            probe=data.get("probe"),
            components=[ComponentResult.from_dict(c) for c in components]
            if components is not None
            else None,
            resources=data.get("resources"),
            upstream=data.get("upstream"),
            stalls=data.get("stalls"),
        )

    @property
    def name(self) -> str:
        """The id without its scenario: `tools/rpc_ping` -> `rpc_ping`."""
        return self.id.removeprefix(f"{self.scenario}/")

    def complete_rounds(self) -> list[dict[str, Any]]:
        return [r for r in self.rounds if r.get("complete", True)]


@dataclass
class Totals:
    tests: int = 0
    ok: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass
class Summary:
    profile: str
    status: str  # complete | partial
    started_at: str
    finished_at: str
    target: dict[str, Any]  # url, gateway_version, gateway_settings
    environment: dict[str, Any]  # the fingerprint (perfkit.results.run.Fingerprint)
    settings: dict[str, Any]
    tests: list[TestResult]
    totals: Totals
    warnings: list[str] = field(default_factory=list)
    resources: dict[str, Any] | None = (
        None  # perfkit.monitor.summary; only with resources.jsonl
    )
    # perfkit.results.servers: calls each benchmark MCP server served; only with its snapshots
    servers: dict[str, Any] | None = None
    # perfkit.results.database: the state the gateway's database started from and its rows
    # before and after; only when the run took the snapshots
    database: dict[str, Any] | None = None
    # perfkit.results.speed: a fixed piece of CPU work timed between tests; only when measured
    machine_speed: dict[str, Any] | None = None
    schema_version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tests"] = [test.to_dict() for test in self.tests]
        for key in ("resources", "servers", "database", "machine_speed"):
            if data[key] is None:
                del data[key]
        return {"schema_version": data.pop("schema_version"), **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Summary:
        return cls(
            profile=str(data.get("profile") or ""),
            status=str(data["status"]),
            started_at=str(data.get("started_at") or ""),
            finished_at=str(data.get("finished_at") or ""),
            target=dict(data.get("target") or {}),
            environment=dict(data.get("environment") or {}),
            settings=dict(data.get("settings") or {}),
            tests=[TestResult.from_dict(t) for t in data["tests"]],
            totals=Totals(**data["totals"]),
            warnings=[str(w) for w in data.get("warnings") or []],
            resources=data.get("resources"),
            servers=data.get("servers"),
            database=data.get("database"),
            machine_speed=data.get("machine_speed"),
            schema_version=int(data["schema_version"]),
        )

    def test(self, test_id: str) -> TestResult | None:
        return next((t for t in self.tests if t.id == test_id), None)

    @property
    def scenarios(self) -> list[str]:
        """The scenarios the run was asked for (settings.scenarios)."""
        found = self.settings.get("scenarios") or []
        return [str(s) for s in found] if isinstance(found, list) else []


def summary_path(run_dir: Path) -> Path:
    return run_dir / SUMMARY_FILE


def has_summary(run_dir: Path) -> bool:
    return summary_path(run_dir).is_file()


def parse_summary(path: Path, data: dict[str, Any]) -> Summary:
    """A summary.json's object as the model; unknown version or malformed content is exit 2."""
    check_version(path, data, READABLE_VERSIONS)
    try:
        return Summary.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise malformed(path, SUMMARY_FILE, exc) from None


def load_summary(run_dir: Path) -> Summary:
    """RUN_DIR/summary.json as the model; a missing folder or file, corrupt JSON, an unknown
    schema version or malformed content is exit 2 with the file named."""
    if not run_dir.is_dir():
        raise KitError(f"run folder '{run_dir}' not found", ExitCode.USAGE)
    path = summary_path(run_dir)
    rebuild = f"perfkit summarize {run_dir}"
    data = read_object(
        path,
        SUMMARY_FILE,
        missing_hint=f"summarize the run first: {rebuild}",
        fix=f"rebuild it from the run's raw files: {rebuild}",
    )
    return parse_summary(path, data)


def check_overwrite(run_dir: Path, force: bool) -> None:
    """A complete summary.json is never replaced silently; a partial one may be rebuilt."""
    path = summary_path(run_dir)
    if force or not path.is_file():
        return
    try:
        status = read_object(path, SUMMARY_FILE).get("status")
    except KitError:
        status = None  # unreadable: nothing good to lose
    if status == "complete":
        raise KitError(
            f"{path} already holds a complete summary (pass --force to rebuild it)",
            ExitCode.USAGE,
        )


def scan_summaries(
    results: Path, warn: Callable[[str], None]
) -> Iterator[tuple[Path, Summary]]:
    """(run folder, summary) of every run folder under RESULTS, in name order (which is time
    order), not through symlinks such as results/latest. A corrupt or malformed summary.json
    is skipped with a warning; one of a schema version this kit does not read is refused."""
    for path in sorted(results.glob(f"*/{SUMMARY_FILE}")):
        if path.parent.is_symlink():
            continue
        try:
            summary = parse_summary(path, read_object(path, SUMMARY_FILE))
        except UnknownVersion:
            raise
        except KitError as exc:
            warn(f"skipping {path}: {exc}")
            continue
        yield path.parent, summary


def database_state(summary: Summary) -> str | None:
    """Where the gateway's database started from (perfkit.results.database); None: not recorded."""
    return (summary.database or {}).get("state")
