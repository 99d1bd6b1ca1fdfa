"""The records a run leaves for `perfkit summarize` (docs/internals.md, "The run folder").

events.jsonl: one JSON object per finished (or abandoned) test. `perfkit record RUN_DIR --id ID
--status ok|failed|skipped [--reason TEXT] [--probe-status CODE] [--probe-body FILE]` appends
one line; `load_events` reads them back, the last event for an id winning. Also the readers of
plan.tsv (written by bash) and run.json (written by `perfkit run-init`), and the atomic writer
summarize uses for summary.json.
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.exitcodes import ExitCode, KitError

SCHEMA_VERSION = 1  # of run.json and summary.json
PLAN_COLUMNS = (
    "id", "scenario", "kind", "group", "method", "path", "payload", "expect", "auth",
    "concurrency", "requests", "duration",
)  # fmt: skip
PLAN_KINDS = ("single", "group", "component")
EVENTS_FILE = "events.jsonl"
STATUSES = ("ok", "failed", "skipped")
PROBE_EXCERPT_CHARS = 500


@dataclass(frozen=True)
class Probe:
    status: int | None  # HTTP status of the validation probe, None if unknown
    body: str | None  # the answer's first PROBE_EXCERPT_CHARS characters, if saved


@dataclass(frozen=True)
class Event:
    id: str
    status: str
    reason: str | None
    probe: Probe | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        probe = data.get("probe")
        return cls(
            id=str(data["id"]),
            status=str(data["status"]),
            reason=data.get("reason"),
            probe=Probe(status=probe.get("status"), body=probe.get("body"))
            if probe
            else None,
        )


def read_probe(status: int | None, body_path: Path | None) -> Probe | None:
    """The probe as recorded: a missing body file (the probe never answered) is no body."""
    if status is None and body_path is None:
        return None
    body = None
    if body_path is not None and body_path.is_file():
        text = body_path.read_bytes().decode("utf-8", errors="replace")
        body = text[:PROBE_EXCERPT_CHARS]
    return Probe(status=status, body=body)


def append_event(run_dir: Path, event: Event) -> None:
    """Append one line with a single write, so concurrent writers do not interleave."""
    if not run_dir.is_dir():
        raise KitError(
            f"run folder '{run_dir}' not found (create it before recording events)",
            ExitCode.USAGE,
        )
    if event.status not in STATUSES:
        raise KitError(
            f"status '{event.status}' invalid (have: {', '.join(STATUSES)})",
            ExitCode.USAGE,
        )
    line = json.dumps(event.to_dict(), ensure_ascii=False) + "\n"
    with (run_dir / EVENTS_FILE).open("a", encoding="utf-8") as stream:
        stream.write(line)


def _parse_line(path: Path, number: int, line: str) -> Event:
    try:
        data = json.loads(line)
        if data.get("status") not in STATUSES:
            raise ValueError(
                f"status {data.get('status')!r} not one of {', '.join(STATUSES)}"
            )
        return Event.from_dict(data)
    except (ValueError, KeyError, AttributeError, TypeError) as exc:
        raise KitError(
            f"{path}:{number}: not an event ({exc}); fix or remove that line",
            ExitCode.BENCHMARK_FAILED,
        ) from None


def load_events(run_dir: Path) -> dict[str, Event]:
    """Events by test id (last one wins); no events.jsonl means no test finished yet."""
    path = run_dir / EVENTS_FILE
    if not path.is_file():
        return {}
    events: dict[str, Event] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if line.strip():
            event = _parse_line(path, number, line)
            events[event.id] = event
    return events


@dataclass(frozen=True)
class PlanRow:
    id: str
    scenario: str
    kind: str  # single | group | component
    group: str | None
    method: str
    path: str
    auth: bool
    concurrency: int
    requests: int | None  # hey -n; None in duration mode
    duration: str | None  # hey -z; None in request mode

    @property
    def component_name(self) -> str:
        """The <component> of raw/<group>/round-<k>/<component>.csv."""
        if self.group and self.id.startswith(self.group + "/"):
            return self.id[len(self.group) + 1 :]
        return self.id.rsplit("/", 1)[-1]


def _plan_row(path: Path, line: int, row: dict[str, str]) -> PlanRow:
    try:
        requests = int(row["requests"])
        return PlanRow(
            id=row["id"],
            scenario=row["scenario"],
            kind=row["kind"],
            group=None if row["group"] in ("", "-") else row["group"],
            method=row["method"],
            path=row["path"],
            auth=row["auth"] == "yes",
            concurrency=int(row["concurrency"]),
            requests=requests or None,
            duration=None if row["duration"] in ("", "-") else row["duration"],
        )
    except (TypeError, ValueError) as exc:
        raise KitError(f"{path}:{line}: bad plan row ({exc})", ExitCode.USAGE) from None


def read_plan(path: Path) -> list[PlanRow]:
    """plan.tsv: a header row, then one tab-separated row per planned test."""
    if not path.is_file():
        raise KitError(f"{path} not found: is this a run folder?", ExitCode.USAGE)
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for c in PLAN_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise KitError(
                f"{path}: missing columns: {', '.join(missing)}", ExitCode.USAGE
            )
        rows = [_plan_row(path, n, row) for n, row in enumerate(reader, start=2)]
    for row in rows:
        if row.kind not in PLAN_KINDS:
            raise KitError(
                f"{path}: test {row.id}: unknown kind '{row.kind}'", ExitCode.USAGE
            )
    return rows


def read_run(run_dir: Path) -> dict[str, Any]:
    """run.json, refused unless its schema version is known and the settings we need are set."""
    path = run_dir / "run.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KitError(
            f"{path}: cannot read run.json ({exc})", ExitCode.USAGE
        ) from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        version = data.get("schema_version") if isinstance(data, dict) else None
        raise KitError(
            f"{path}: schema_version {version!r} unknown (have: {SCHEMA_VERSION})",
            ExitCode.USAGE,
        )
    settings = data.get("settings") or {}
    for name in ("error_threshold", "generator_cpu_warning"):
        if not isinstance(settings.get(name), int | float):
            raise KitError(
                f"{path}: settings.{name} missing or not a number", ExitCode.USAGE
            )
    return data


def check_overwrite(path: Path, force: bool) -> None:
    """A complete summary.json is never replaced silently; a partial one may be rebuilt."""
    if force or not path.is_file():
        return
    try:
        status = json.loads(path.read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError, AttributeError):
        status = None
    if status == "complete":
        raise KitError(
            f"{path} already holds a complete summary (pass --force to rebuild it)",
            ExitCode.USAGE,
        )


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to `path` whole or not at all (see perfkit.atomic)."""
    write_json_atomic(path, data)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perfkit record",
        description="Record a test's outcome in RUN_DIR/events.jsonl.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--id", required=True, help="test id, scenario/name")
    parser.add_argument("--status", required=True, choices=STATUSES)
    parser.add_argument(
        "--reason", default=None, help="why the test failed or was skipped"
    )
    parser.add_argument("--probe-status", type=int, default=None, metavar="CODE")
    parser.add_argument("--probe-body", type=Path, default=None, metavar="FILE")
    return parser


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    probe = read_probe(args.probe_status, args.probe_body)
    reason = args.reason if args.reason else None
    append_event(
        args.run_dir, Event(id=args.id, status=args.status, reason=reason, probe=probe)
    )
    return 0
