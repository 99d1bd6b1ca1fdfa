"""Series behind the report's charts, read from a run folder's raw files (data only, no drawing).

- Latency distribution: the 2xx response times of every complete round pooled (for the picture
  only; verdicts use per-round values), as a histogram and a percentile curve.
- Throughput timeline: per round, 2xx responses per second in fixed buckets of completion time
  (hey's `offset`, the request's start after the round began, plus its `response-time`).
Resource use (resources.jsonl) is read by perfkit.report.resources.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

HISTOGRAM_BINS = 30
# Percentile curve: 0..99 in steps of 1, then the tail in finer steps.
CURVE_QUANTILES = tuple(float(q) for q in range(100)) + (99.5, 99.9, 100.0)
NICE_WIDTHS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
MAX_BUCKETS = 120


@dataclass
class Histogram:
    edges_ms: list[float]  # len(counts) + 1
    counts: list[int]


@dataclass
class LatencyData:
    samples: int
    histogram: Histogram
    curve: list[tuple[float, float]]  # (percentile 0-100, ms)


@dataclass
class RoundTimeline:
    round: int
    starts_s: list[float]  # bucket start, seconds after the round began
    rps: list[float]


@dataclass
class Throughput:
    bucket_s: float
    rounds: list[RoundTimeline]


def ok_rows(frame: pd.DataFrame) -> pd.DataFrame:
    codes = frame["status-code"]
    return frame.loc[(codes >= 200) & (codes < 300)]


def latency_data(frames: dict[int, pd.DataFrame]) -> LatencyData | None:
    """Histogram and percentile curve of the pooled 2xx latencies, ms (None: no 2xx row)."""
    parts = [ok_rows(frame)["response-time"] for frame in frames.values()]
    if not parts:
        return None
    times = pd.concat(parts, ignore_index=True).to_numpy(dtype=float) * 1000.0
    if times.size == 0:
        return None
    low, high = float(times.min()), float(times.max())
    if high <= low:
        high = low + 1.0
    counts, edges = np.histogram(times, bins=HISTOGRAM_BINS, range=(low, high))
    values = np.percentile(times, CURVE_QUANTILES)  # linear interpolation
    return LatencyData(
        samples=int(times.size),
        histogram=Histogram(
            [round(float(e), 3) for e in edges], [int(c) for c in counts]
        ),
        curve=[
            (q, round(float(v), 3))
            for q, v in zip(CURVE_QUANTILES, values, strict=True)
        ],
    )


def bucket_width(longest_round_s: float) -> float:
    """0.5 s for ordinary rounds, 1 s and more for long ones (at most MAX_BUCKETS points a
    round), finer for rounds shorter than a few seconds (about 8 points or more)."""
    if longest_round_s <= 0:
        return 0.5
    if longest_round_s < 5.0:
        target = longest_round_s / 8.0
        return max([w for w in NICE_WIDTHS if w <= target], default=NICE_WIDTHS[0])
    for width in NICE_WIDTHS:
        if width >= 0.5 and longest_round_s / width <= MAX_BUCKETS:
            return width
    return NICE_WIDTHS[-1]


def _span(frame: pd.DataFrame) -> float:
    if frame.empty:
        return 0.0
    return float((frame["offset"] + frame["response-time"]).max())


def round_timeline(index: int, frame: pd.DataFrame, width: float) -> RoundTimeline:
    """2xx responses per second, by completion time (hey's `offset` + `response-time`). The
    round (0 to its last response) is cut into round(span / width) buckets, the last one
    stretched or shortened to the end, so no bucket covers less than half a width and the
    buckets add up to the round's rps."""
    span = _span(frame)
    count = max(1, round(span / width)) if span > 0 else 0
    done = ok_rows(frame)
    ends = (done["offset"] + done["response-time"]).to_numpy(dtype=float)
    slots = np.minimum((ends // width).astype(int), max(count - 1, 0))
    tallies = np.bincount(slots, minlength=count) if count else np.array([], dtype=int)
    starts, rates = [], []
    for slot in range(count):
        start = slot * width
        covered = width if slot < count - 1 else span - start
        starts.append(round(start, 4))
        rates.append(round(float(tallies[slot]) / covered, 2))
    return RoundTimeline(index, starts, rates)


def throughput(frames: dict[int, pd.DataFrame]) -> Throughput | None:
    if not frames:
        return None
    width = bucket_width(max(_span(frame) for frame in frames.values()))
    rounds = [round_timeline(i, frames[i], width) for i in sorted(frames)]
    return Throughput(width, rounds)
