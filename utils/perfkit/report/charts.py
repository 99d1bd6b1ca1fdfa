"""The report's charts: matplotlib (Agg) figures rendered to inline SVG strings.

Each SVG is made safe to inline several times in one HTML page: the XML prolog, DOCTYPE (it
names a URL), metadata and namespace declarations are removed (the HTML parser puts <svg> in
the SVG namespace by itself), ids nothing refers to are dropped and the others get a per-chart
prefix so clip paths of two charts never collide; coordinates are rounded and line breaks
collapsed to keep a 27-test report small.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from perfkit.report.resources import ResourceSeries
from perfkit.report.series import LatencyData, Throughput

STYLE: Any = {  # rcParams for every chart
    "svg.fonttype": "none",  # text stays text: smaller, crisp, the page's font
    "svg.hashsalt": "perfkit-report",  # deterministic ids
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.2,
}
PERCENTILE_COLOURS = {"p50": "#1f77b4", "p95": "#ff7f0e", "p99": "#d62728"}
ROUND_COLOURS = (
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
)
BASELINE_STYLE: dict[str, Any] = {
    "color": "#555555",
    "linestyle": "--",
    "linewidth": 1.0,
}

_PROLOG = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_NAMESPACES = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')
_LONG_NUMBER = re.compile(r"(-?\d+\.\d{2})\d+")
_ID = re.compile(r'\bid="([^"]+)"')
_REFERENCE = re.compile(r'(?:url\(#|href="#)([^)"]+)')
_SPACES = re.compile(r"\s*\n\s*")


@contextmanager
def figure(
    width: float, height: float, columns: int = 1
) -> Iterator[tuple[Figure, list[Axes]]]:
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, columns, figsize=(width, height), squeeze=False)
        try:
            yield fig, list(axes[0])
        finally:
            plt.close(fig)


def _fit(fig: Figure, *, titled: bool) -> None:
    """Fixed margins (in inches) for the per-test charts, whose tick labels are short numbers:
    tight_layout would measure every label of every chart again, a third of a report's time."""
    width, height = fig.get_size_inches()
    top = 0.3 if titled else 0.12
    fig.subplots_adjust(left=0.7 / width, right=1 - 0.15 / width, bottom=0.45 / height,
                        top=1 - top / height, wspace=0.3)  # fmt: skip


def to_svg(fig: Figure, prefix: str) -> str:
    """The figure as an inline-ready <svg> element (see the module docstring)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = _PROLOG.sub("", buffer.getvalue(), count=1)
    svg = _METADATA.sub("", svg)
    svg = _NAMESPACES.sub("", svg)
    svg = _LONG_NUMBER.sub(r"\1", svg)
    svg = _SPACES.sub(" ", svg).replace("> <", "><")
    referenced = set(_REFERENCE.findall(svg))
    for old in dict.fromkeys(_ID.findall(svg)):
        if old not in referenced:
            svg = svg.replace(f' id="{old}"', "")
            continue
        new = f"{prefix}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"').replace(f"#{old})", f"#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    return svg.strip()


def _mark(ax: Axes, value: float, colour: str, label: str, vertical: bool) -> None:
    line = ax.axvline if vertical else ax.axhline
    line(value, color=colour, linewidth=0.9, alpha=0.9, label=label)


def latency_chart(
    data: LatencyData,
    run: dict[str, float | None],
    baseline: dict[str, float],
    prefix: str,
) -> str:
    """Histogram (left) and percentile curve (right) of the pooled 2xx latencies; the run's
    p50/p95/p99 (medians over rounds) as solid lines, the baseline's as dashed ones."""
    with figure(7.6, 2.3, columns=2) as (fig, (hist, curve)):
        hist.stairs(
            data.histogram.counts, data.histogram.edges_ms, fill=True, alpha=0.6
        )
        hist.set_xlabel("latency (ms)")
        hist.set_ylabel("responses")
        hist.set_title(f"distribution ({data.samples} responses, rounds pooled)")
        xs = [q for q, _ in data.curve]
        curve.plot(xs, [ms for _, ms in data.curve], color="#333333", label="run")
        curve.set_xlabel("percentile")
        curve.set_ylabel("latency (ms)")
        curve.set_title("percentile curve")
        for metric, colour in PERCENTILE_COLOURS.items():
            value = run.get(metric)
            if value is not None:
                _mark(hist, value, colour, f"{metric} {value:g} ms", vertical=True)
            if metric in baseline:
                hist.axvline(baseline[metric], **{**BASELINE_STYLE, "color": colour},
                             label=f"baseline {metric}")  # fmt: skip
                curve.plot(
                    [float(metric[1:])], [baseline[metric]], marker="D", markersize=4,
                    color=colour, linestyle="none", label=f"baseline {metric}",
                )  # fmt: skip
        handles, labels = hist.get_legend_handles_labels()
        more_handles, more_labels = curve.get_legend_handles_labels()
        curve.legend(
            handles + more_handles,
            labels + more_labels,
            loc="upper left",
            fontsize=6,
            frameon=False,
            ncol=2,
        )  # the curve's empty corner
        _fit(fig, titled=True)
        return to_svg(fig, prefix)


def throughput_chart(
    data: Throughput, run_rps: float | None, base_rps: float | None, prefix: str
) -> str:
    """Requests/s over each round (one line per round), with the run's and the baseline's
    median rps as reference lines."""
    with figure(7.6, 2.0) as (fig, (ax,)):
        for i, timeline in enumerate(data.rounds):
            mids = [s + data.bucket_s / 2 for s in timeline.starts_s]  # bucket middles
            colour = ROUND_COLOURS[i % len(ROUND_COLOURS)]
            ax.plot(mids, timeline.rps, color=colour, marker=".", markersize=3,
                    label=f"round {timeline.round}")  # fmt: skip
        if run_rps is not None:
            ax.axhline(
                run_rps, color="#000000", linewidth=0.8, label=f"run median {run_rps:g}"
            )
        if base_rps is not None:
            ax.axhline(
                base_rps, **BASELINE_STYLE, label=f"baseline median {base_rps:g}"
            )
        ax.set_xlabel(f"seconds into the round ({data.bucket_s:g} s buckets)")
        ax.set_ylabel("2xx responses/s")
        ax.set_ylim(bottom=0)
        ax.legend(loc="lower right", fontsize=6, frameon=False, ncol=4)
        _fit(fig, titled=False)
        return to_svg(fig, prefix)


def resource_chart(series: list[ResourceSeries], title: str, prefix: str) -> str:
    """Resource samples over the run: one line per series, all in the same unit."""
    with figure(7.6, 2.0) as (fig, (ax,)):
        for i, s in enumerate(series):
            ax.plot(s.times_s, s.values, color=ROUND_COLOURS[i % len(ROUND_COLOURS)],
                    label=s.label)  # fmt: skip
        ax.set_title(title)
        ax.set_xlabel("seconds after the first sample")
        ax.set_ylabel(series[0].unit if series else "")
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right", fontsize=6, frameon=False, ncol=4)
        fig.tight_layout()
        return to_svg(fig, prefix)


def pool_chart(levels: list[dict[str, Any]], capacity: int | None, prefix: str) -> str:
    """The connection pool analysis: calls/s (left) and checkout wait p95 and call p95 (right)
    against the concurrency (log 2), the pool's capacity marked."""
    xs = [lv["concurrency"] for lv in levels]
    with figure(7.6, 2.3, columns=2) as (fig, (rate, wait)):
        rate.plot(xs, [lv["calls_per_s"] for lv in levels], marker="o", markersize=3,
                  color="#333333")  # fmt: skip
        rate.set_ylabel("calls/s")
        rate.set_ylim(bottom=0)
        for name, colour, label in (
            ("wait_p95_ms", "#d62728", "checkout wait p95"),
            ("p95_ms", "#1f77b4", "call p95"),
        ):
            points = [(x, lv[name]) for x, lv in zip(xs, levels) if lv.get(name)]
            wait.plot([x for x, _ in points], [v for _, v in points], marker="o",
                      markersize=3, color=colour, label=label)  # fmt: skip
        wait.set_yscale("log")
        wait.set_ylabel("ms")
        for ax in (rate, wait):
            ax.set_xscale("log", base=2)
            ax.set_xticks(xs, [str(x) for x in xs])
            ax.minorticks_off()
            ax.set_xlabel("calls at once (threads)")
            if capacity:
                _mark(
                    ax, capacity, "#7f7f7f", f"pool capacity {capacity}", vertical=True
                )
        wait.legend(loc="upper left", fontsize=6, frameon=False)
        _fit(fig, titled=False)
        return to_svg(fig, prefix)


def comparison_chart(
    labels: list[str], runs: list[str], values: list[list[float | None]], metric: str,
    prefix: str,
) -> str:  # fmt: skip
    """Grouped horizontal bars: per test (row), one bar per run; `values[run][test]`."""
    height = max(1.6, 0.16 * len(labels) * max(1, len(runs)) + 0.8)
    with figure(7.6, height) as (fig, (ax,)):
        step = 0.8 / max(1, len(runs))
        for r, run in enumerate(runs):
            ys = [t + r * step for t in range(len(labels))]
            xs = [v if v is not None else 0.0 for v in values[r]]
            ax.barh(ys, xs, height=step * 0.9, label=run,
                    color=ROUND_COLOURS[r % len(ROUND_COLOURS)])  # fmt: skip
        ax.set_yticks([t + 0.4 - step / 2 for t in range(len(labels))], labels)
        ax.invert_yaxis()
        ax.set_xlabel(metric)
        ax.legend(loc="lower right", fontsize=6, frameon=False)
        fig.tight_layout()
        return to_svg(fig, prefix)
