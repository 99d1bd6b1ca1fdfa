"""The scalability report's charts (matplotlib, inline SVG as perfkit.report.charts): a metric
against the server count, one line per database; and each sweep's req/s and p95 against the
client count with the SLO and the knee. A point without figures is a gap, never a zero.
"""

from __future__ import annotations

import math

from perfkit.report.charts import ROUND_COLOURS, figure, to_svg
from perfkit.scale.data import Scalability
from perfkit.scale.sweep import Sweep

DATABASE_COLOURS = {"sqlite": ROUND_COLOURS[0], "postgresql": ROUND_COLOURS[1]}
SLO_COLOUR = "#d62728"
KNEE_COLOUR = "#1b6e20"
PLATEAU_COLOUR = "#8a5a00"


def _value(value: float | None) -> float:
    return math.nan if value is None else float(value)  # NaN: matplotlib leaves a gap


def scaling_chart(
    tables: list[Scalability], metric: str, label: str, prefix: str
) -> str:
    """`metric` (a ScaleRow field: rps or p95_ms) against the server count."""
    with figure(7.6, 2.4) as (fig, (ax,)):
        counts: set[int] = set()
        for table in tables:
            xs = [row.servers for row in table.rows]
            ys = [_value(getattr(row, metric)) for row in table.rows]
            counts.update(xs)
            ax.plot(xs, ys, marker="o", markersize=4, label=table.database,
                    color=DATABASE_COLOURS.get(table.database, ROUND_COLOURS[2]))  # fmt: skip
        ax.set_xticks(sorted(counts))
        ax.set_xlabel("benchmark MCP servers behind the gateway")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.legend(loc="lower right", fontsize=7, frameon=False)
        fig.tight_layout()
        return to_svg(fig, prefix)


def sweep_chart(sweep: Sweep, prefix: str) -> str:
    """req/s (left) and p95 with the SLO (right) against the client count; the knee and the
    throughput plateau as vertical lines."""
    levels = [row.level for row in sweep.rows]
    with figure(7.6, 2.4, columns=2) as (fig, (rps, p95)):
        rps.plot(levels, [_value(r.rps) for r in sweep.rows], marker="o", markersize=4,
                 color=DATABASE_COLOURS.get(sweep.database, ROUND_COLOURS[2]))  # fmt: skip
        rps.set_ylabel("2xx responses/s")
        p95.plot(levels, [_value(r.p95_ms) for r in sweep.rows], marker="o", markersize=4,
                 color=DATABASE_COLOURS.get(sweep.database, ROUND_COLOURS[2]))  # fmt: skip
        p95.axhline(sweep.slo_ms, color=SLO_COLOUR, linestyle="--", linewidth=1.0,
                    label=f"SLO p95 {sweep.slo_ms:g} ms")  # fmt: skip
        p95.set_ylabel("p95 latency (ms)")
        for ax in (rps, p95):
            if sweep.knee is not None:
                ax.axvline(sweep.knee, color=KNEE_COLOUR, linewidth=1.0,
                           label=f"knee: {sweep.knee} clients")  # fmt: skip
            if sweep.plateau is not None:
                ax.axvline(sweep.plateau, color=PLATEAU_COLOUR, linestyle=":",
                           linewidth=1.0, label=f"plateau: {sweep.plateau} clients")  # fmt: skip
            ax.set_xticks(levels)
            ax.set_xlabel("clients (hey -c, total)")
            ax.set_ylim(bottom=0)
            ax.legend(loc="lower right", fontsize=6, frameon=False)
        fig.tight_layout()
        return to_svg(fig, prefix)
