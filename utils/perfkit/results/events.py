"""events.jsonl: how each test of a run ended, for `perfkit summarize` (docs/internals.md).

One JSON object per finished (or abandoned) test. `perfkit record RUN_DIR --id ID
--status ok|failed|skipped [--reason TEXT] [--probe-status CODE] [--probe-body FILE]` appends
one line; `load_events` reads them back, the last event for an id winning.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from perfkit.exitcodes import ExitCode, KitError

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
