"""The geometric mean of ratios with its Student's t interval: the change a set of paired
measurements shows as a whole (the tuning advisor's effect over a workload's tests, the kit's
own cost over interleaved blocks)."""

from __future__ import annotations

import math
import statistics

CONFIDENCE = 0.95


def geometric_mean(
    ratios: list[float], confidence: float = CONFIDENCE
) -> tuple[float, tuple[float, float] | None] | None:
    """(mean ratio, its interval) over the positive, finite ratios; the interval is None with
    fewer than two of them, the whole None with none."""
    logs = [math.log(r) for r in ratios if r > 0 and math.isfinite(r)]
    if not logs:
        return None
    mean = statistics.fmean(logs)
    if len(logs) < 2:
        return math.exp(mean), None
    from scipy import stats  # type: ignore[import-untyped]

    half = float(stats.t.ppf(0.5 + confidence / 2, len(logs) - 1))
    half *= statistics.stdev(logs) / math.sqrt(len(logs))
    return math.exp(mean), (math.exp(mean - half), math.exp(mean + half))
