"""The tuning advisor's ranked table, as the terminal shows it (perfkit tune report)."""

from __future__ import annotations

from typing import Any

from perfkit.tune.rank import METRICS

METRIC_NAMES = {"rps": "req/s", "p50": "p50", "p95": "p95"}


def minutes_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def change_text(found: dict[str, Any] | None) -> str:
    """`+12.3% [+5.1, +19.8]`, `+12.3%` with one test, `-` when not measured."""
    if not found:
        return "-"
    text = f"{found['change_pct']:+.1f}%"
    if found.get("ci_pct"):
        low, high = found["ci_pct"]
        text += f" [{low:+.1f}, {high:+.1f}]"
    return text


def tests_text(row: dict[str, Any]) -> str:
    tally = row.get("counts")
    if not tally:
        return "-"
    return (
        f"{tally['improvement']} better, {tally['regression'] + tally['failed']} worse, "
        f"{tally['unchanged']} same, {tally['inconclusive']} unclear"
    )


def row_cells(rank: str, row: dict[str, Any]) -> list[str]:
    effects = row.get("effects") or {}
    return [
        rank,
        row["label"],
        row["verdict"],
        *(change_text(effects.get(m)) for m in METRICS),
        tests_text(row),
    ]


def render_table(data: dict[str, Any]) -> str:
    workload = data["workload"]
    header = [
        "#",
        "setting",
        "verdict",
        *(f"{METRIC_NAMES[m]} change [95% CI]" for m in METRICS),
        "tests",
    ]
    rows = [row_cells(str(i), row) for i, row in enumerate(data["candidates"], 1)]
    if data.get("combination"):
        rows.append(row_cells("all", data["combination"]))
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    lines = [
        (
            f"Tuning {data['release']}: {workload['profile']} over {workload['scenarios']}, "
            f"each setting against the stack's own in an interleaved A/B "
            f"({workload['test_count']} tests x {workload['rounds']} rounds a side)"
        ),
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)),
    ]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows
    ]
    lines.append(
        "req/s: + is faster; p50/p95: + is slower. The change is the geometric mean over the "
        "tests; its interval is over the tests."
    )
    gives = [
        f"  {row['label']}: gives up {row['trade_off']}"
        for row in data["candidates"]
        if row.get("trade_off") and row["verdict"] == "better"
    ]
    if gives:
        lines += ["Trade-offs of the settings measured better:", *gives]
    for row in data["candidates"]:
        if row["verdict"] == "broke the gateway" and row.get("log_tail"):
            lines += [
                f"{row['label']} broke the gateway; the log's end:",
                *(f"  {l}" for l in row["log_tail"][-6:]),
            ]
    if data["recommended"]:
        lines.append(
            "Recommended (measured better beyond noise): "
            + " ".join(f"{k}={v}" for k, v in data["recommended"].items())
        )
    else:
        lines.append(
            "No setting measured better beyond noise: keep the stack's own settings."
        )
    if data.get("partial"):
        lines.append(f"PARTIAL: {data['partial']}")
    return "\n".join(lines)
