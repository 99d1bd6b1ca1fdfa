"""plan.tsv: the tests run-configurable.sh planned for a run, written by bash (utils/lib/bench-lib.sh
perf_write_plan) before any load is sent, read here (docs/internals.md, "The run folder").

A header row, then one tab-separated row per planned test; `-` for an empty field.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from perfkit.exitcodes import ExitCode, KitError

PLAN_FILE = "plan.tsv"
PLAN_COLUMNS = (
    "id", "scenario", "kind", "group", "method", "path", "payload", "expect", "auth",
    "concurrency", "requests", "duration",
)  # fmt: skip
# sessions: a single test whose rounds perfkit mcp-setup-cost runs instead of hey (each
# request a new MCP session, timed from initialize to its first call's answer); sse-connect and
# sse-call: the same driver over the legacy SSE transport, timing the connection's set-up (to
# the endpoint event) or the first call alone; db: perfkit.dbbench.ops in the gateway's venv,
# each request a call of the gateway's service layer (method DB, path db:OP?limit=N); workflow:
# a workflow or a step of the scenario workflows, its rounds windows of one multi-user run on
# Locust (method LOCUST, path workflow:NAME)
PLAN_KINDS = (
    "single",
    "group",
    "component",
    "sessions",
    "sse-connect",
    "sse-call",
    "db",
    "workflow",
)
# the kinds a driver runs instead of hey
DRIVER_KINDS = ("sessions", "sse-connect", "sse-call", "db", "workflow")


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


def read_plan(run_dir: Path) -> list[PlanRow]:
    """The run's planned tests, in order; a missing file or a bad row is exit 2."""
    path = run_dir / PLAN_FILE
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
