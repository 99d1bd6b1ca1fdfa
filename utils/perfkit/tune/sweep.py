"""A tune sweep's folder (results/tune_<stamp>/): its plan, the candidates' records and what is
made of them. This module owns the folder's files:

  plan.json          the workload, the release, the budget and the candidates, in order
                     (perfkit tune plan)
  settings/<slug>.env  each candidate's settings, for utils/compare-versions.sh --candidate-env
  <slug>/            each candidate's A/B run folder (utils/compare-versions.sh's results dir)
  candidates.jsonl   a line per candidate as it ends: status, exit code, seconds, run folder and,
                     for a candidate that broke the gateway, the log's tail (perfkit tune record)
  tune.json          the ranked verdicts, the recommendation and the combination (perfkit tune
                     report; schema below)
  tune.html          the same as a page with charts
  recommended.env    the .env fragment: only settings measured better beyond noise

tune.json, schema 1: {"schema_version", "release", "workload": {"profile", "scenarios",
"tests", "test_count", "rounds"}, "budget_minutes", "started_at", "finished_at", "partial":
reason or null, "candidates": [row...] (ranked), "combination": row or null, "recommended":
{NAME: VALUE}, "measured_on": {"host", "cores"}}; a row: {"label", "slug", "settings",
"trade_off", "status", "exit_code", "seconds", "run", "log_tail", "verdict", "counts",
"effects": {"rps"|"p50"|"p95": {"change_pct", "ci_pct", "tests"}}, "tests", "regressed",
"improved"}.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import load_versioned, read_object

PLAN_FILE = "plan.json"
RECORDS_FILE = "candidates.jsonl"
TUNE_FILE = "tune.json"
PAGE_FILE = "tune.html"
ENV_FILE = "recommended.env"
SETTINGS_DIR = "settings"
COMBINATION_SLUG = "combination"
SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)
LOG_TAIL_LINES = 15


def load_plan(sweep: Path) -> dict[str, Any]:
    return read_object(sweep / PLAN_FILE, PLAN_FILE, "perfkit tune plan writes it")


def write_plan(sweep: Path, plan: dict[str, Any]) -> None:
    write_json_atomic(sweep / PLAN_FILE, plan)


def load_records(sweep: Path) -> list[dict[str, Any]]:
    path = sweep / RECORDS_FILE
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise KitError(
                f"{path}:{number}: not a JSON line ({exc.msg}); perfkit tune record writes them",
                ExitCode.USAGE,
            ) from None
    return records


def append_record(sweep: Path, record: dict[str, Any]) -> None:
    with (sweep / RECORDS_FILE).open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")


def log_tail(paths: list[Path]) -> list[str]:
    """The last lines of each log that exists, named, for a candidate that broke."""
    lines: list[str] = []
    for path in paths:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
        if text:
            lines.append(f"--- {path}")
            lines.extend(text[-LOG_TAIL_LINES:])
    return lines


def load_tune(sweep: Path) -> dict[str, Any]:
    return load_versioned(
        sweep / TUNE_FILE, TUNE_FILE, READABLE_VERSIONS, "make tune writes it"
    )


def earlier_seconds(results: Path, workload: dict[str, Any]) -> list[float]:
    """Seconds of every measured A/B of earlier sweeps of the same workload on this machine."""
    found: list[float] = []
    for path in sorted(results.glob(f"tune_*/{TUNE_FILE}")):
        try:
            data = load_tune(path.parent)
        except (KitError, OSError):  # another kit's, or broken: no estimate from it
            continue
        if data.get("workload") != workload:
            continue
        rows = list(data.get("candidates") or [])
        if data.get("combination"):
            rows.append(data["combination"])
        found += [
            float(r["seconds"])
            for r in rows
            if isinstance(r, dict)
            and r.get("status") == "measured"
            and r.get("seconds")
        ]
    return found
