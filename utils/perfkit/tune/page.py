"""tune.html: a tune sweep as a page - the ranked table, a chart of each candidate's effect on
req/s and p50 with its interval, the recommendation and the broken candidates' log tails."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from perfkit.tune.envfile import env_fragment
from perfkit.tune.rank import METRICS
from perfkit.tune.text import METRIC_NAMES, change_text, tests_text

VERDICT_COLOURS = {
    "better": "#2ca02c",
    "worse": "#d62728",
    "no effect": "#7f7f7f",
    "inconclusive": "#bcbd22",
}


def effect_chart(data: dict[str, Any]) -> str | None:
    """Horizontal bars: each measured candidate's change in req/s and p50, with intervals."""
    from perfkit.report.charts import figure, to_svg

    rows = [r for r in data["candidates"] if r.get("effects")]
    if data.get("combination") and data["combination"].get("effects"):
        rows.append(
            {
                **data["combination"],
                "label": "together: " + data["combination"]["label"],
            }
        )
    if not rows:
        return None
    with figure(8.0, 0.9 + 0.32 * len(rows), columns=2) as (fig, axes):
        for ax, metric in zip(axes, ("rps", "p50"), strict=True):
            ys = list(range(len(rows)))[::-1]
            for y, row in zip(ys, rows, strict=True):
                found = row["effects"].get(metric)
                if not found:
                    continue
                colour = VERDICT_COLOURS.get(row["verdict"], "#1f77b4")
                ax.barh(y, found["change_pct"], color=colour, alpha=0.75, height=0.6)
                if found.get("ci_pct"):
                    low, high = found["ci_pct"]
                    ax.plot([low, high], [y, y], color="#333333", linewidth=1)
            ax.axvline(0, color="#333333", linewidth=0.8)
            ax.set_yticks(ys)
            ax.set_yticklabels(
                [r["label"][:40] for r in rows] if metric == "rps" else []
            )
            better = "faster" if metric == "rps" else "slower"
            ax.set_xlabel(
                f"{METRIC_NAMES[metric]} change, % (+ is {better}); 95% interval"
            )
        fig.tight_layout()
        return to_svg(fig, "tune-effects")


def render_page(data: dict[str, Any]) -> str:
    from perfkit.report.page import environment

    return (
        environment()
        .get_template("tune.html.j2")
        .render(
            data=data,
            metrics=METRICS,
            metric_names=METRIC_NAMES,
            change_text=change_text,
            tests_text=tests_text,
            chart=effect_chart(data),
            fragment=env_fragment(data),
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    )
