"""The database scenario's SQL, for the summary, the text after a run and the report: what each
db test's calls sent (raw/<test>/round-<k>.sql.json, written by perfkit.dbbench.ops) and the
run's slow queries with their plans and index trials (database-plans.json, written by
perfkit.dbbench.plans in the gateway's venv; this module reads it).

summary.json's `database.queries` (an optional block; None when the run had no db test):
  {"tests": {id: {"statements_per_call", "statements_max", "slowest_ms", "slowest_sql"}},
   "backend", "slow_ms", "min_gain", "slow_queries": [...], "recommendations": [...], "error"}
`tests`: over the rounds - the median of the rounds' statements per call, the most one call
sent, the slowest statement any round saw (ms, its SQL). The rest comes from
database-plans.json as written (its schema: perfkit.dbbench.plans); `error` says why it is
missing or unreadable.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

from perfkit.exitcodes import KitError
from perfkit.jsonfile import check_version, read_object

PLANS_FILE = "database-plans.json"
READABLE_VERSIONS = (1,)  # database-plans.json's schema_version (perfkit.dbbench.plans)
SQL_SHOWN = 160  # characters of a statement in the text and the report's tables


def round_stats(test_dir: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(test_dir.glob("round-*.sql.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a round cut short by an interrupt: its SQL is not kept
        if isinstance(data, dict) and data.get("calls"):
            found.append(data)
    return found


def per_test(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    counts = [
        r["statements_per_call"]
        for r in rounds
        if r.get("statements_per_call") is not None
    ]
    slowest = [s for r in rounds for s in r.get("slowest") or []]
    top = max(slowest, key=lambda s: s.get("ms") or 0, default=None)
    return {
        "statements_per_call": statistics.median(counts) if counts else None,
        "statements_max": max(
            (r.get("statements_max") or 0 for r in rounds), default=None
        ),
        "slowest_ms": None if top is None else top.get("ms"),
        "slowest_sql": None if top is None else top.get("sql"),
    }


def load_plans(run_dir: Path) -> dict[str, Any]:
    path = run_dir / PLANS_FILE
    data = read_object(
        path, PLANS_FILE, fix="it is remade by the next run of the database scenario"
    )
    check_version(path, data, READABLE_VERSIONS)
    return data


def for_summary(run_dir: Path, test_ids: list[str]) -> dict[str, Any] | None:
    """The block, or None when no test of the run kept its SQL (no db test ran)."""
    tests = {}
    for test_id in test_ids:
        rounds = round_stats(run_dir / "raw" / test_id)
        if rounds:
            tests[test_id] = per_test(rounds)
    if not tests:
        return None
    block: dict[str, Any] = {"tests": tests}
    if not (run_dir / PLANS_FILE).is_file():
        block["error"] = (
            f"no {PLANS_FILE}: the slow-query analysis did not run (see database-plans.log)"
        )
        return block
    try:
        plans = load_plans(run_dir)
    except KitError as exc:
        block["error"] = str(exc)
        return block
    for key in ("backend", "slow_ms", "min_gain", "slow_queries", "recommendations"):
        block[key] = plans.get(key)
    return block


def short(sql: str | None) -> str:
    """One line of a statement; a long column list shown as `...` (the FROM and WHERE say more)."""
    text = " ".join((sql or "").split())
    if len(text) > SQL_SHOWN:
        text = re.sub(
            r"^SELECT (.+?) FROM ",
            "SELECT ... FROM ",
            text,
            count=1,
            flags=re.IGNORECASE,
        )
    return text if len(text) <= SQL_SHOWN else f"{text[: SQL_SHOWN - 3]}..."


def recommendation_text(rec: dict[str, Any]) -> str:
    return (
        f"{rec['index']}: {rec['test']}'s statement {rec['before_ms']:.3f} -> "
        f"{rec['after_ms']:.3f} ms ({rec['gain']:.1f}x, measured with the index)"
    )


def render(block: dict[str, Any] | None) -> str:
    """The text block printed after a run's table; empty without db tests."""
    if not block:
        return ""
    lines = ["Database (the SQL the database scenario's calls sent):"]
    for test_id, t in block["tests"].items():
        count = t["statements_per_call"]
        slowest = "-" if t["slowest_ms"] is None else f"{t['slowest_ms']:.2f} ms"
        lines.append(
            f"  {test_id}: {'-' if count is None else f'{count:g}'} statement(s) a call "
            f"(at most {t['statements_max']}), slowest {slowest}"
        )
    if block.get("error"):
        lines.append(f"  slow queries: not analysed: {block['error']}")
        return "\n".join(lines)
    slow = block.get("slow_queries") or []
    lines.append(
        f"  slow queries (at least {block['slow_ms']:g} ms, each operation called alone on "
        f"{block['backend']}): {len(slow) or 'none'}"
    )
    for entry in slow:
        found = "; ".join(entry.get("findings") or []) or (
            "no full scan in its plan" if entry.get("plan") else "not explained"
        )
        lines.append(f"    {entry['test']}: {entry['ms']:.2f} ms - {found}")
        lines.append(f"      {short(entry['sql'])}")
        for trial in entry.get("trials") or []:
            verdict = (
                "recommended"
                if trial["recommended"]
                else (
                    "not used by the planner"
                    if not trial["used"]
                    else f"gain under {block['min_gain']:g}x"
                )
            )
            lines.append(
                f"      tried {trial['index']}: {trial['before_ms']:.3f} -> {trial['after_ms']:.3f} ms "
                f"({trial['gain']}x): {verdict}"
            )
        if entry.get("note"):
            lines.append(f"      {entry['note']}")
    recs = block.get("recommendations") or []
    if recs:
        lines.append("  recommendations:")
        lines += [f"    {recommendation_text(r)}" for r in recs]
    return "\n".join(lines)
