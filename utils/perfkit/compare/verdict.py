"""The statistics of one comparison: per-round values of one metric, baseline against candidate.

Everything here works on per-round values (one number per hey round), never on pooled
requests (docs/verdicts.md explains why, with the numbers). The change is signed the mission's
way: positive = better, negative = worse, whichever direction the metric improves in.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# numpy and scipy are imported where they are used: a command that only reads or names files
# (perfkit baseline name, record, ...) imports this module for its dataclasses, and scipy.stats
# alone takes ~1 s to load

CONFIDENCE = 0.95
MAD_TO_SIGMA = 1.4826  # robust CV = 1.4826 x MAD / median (= CV for normal noise)
EXACT_CELLS = (
    400  # exact U distribution up to m x n = 400 (20 vs 20 rounds), then normal
)
PERMUTATION_LIMIT = 20_000  # tied values: enumerate every arrangement up to this many


@dataclass
class MetricStats:
    """What the numbers say about one metric of one test, before any decision."""

    n_base: int
    n_cand: int
    base_median: float | None
    cand_median: float | None
    change: float | None  # fraction, positive = better
    ci: tuple[float, float] | None  # of the change, fraction
    ci_level: float | None  # the interval's exact coverage (>= 0.95 when n allows)
    p_worse: float | None  # one-sided Mann-Whitney U, candidate worse
    p_better: float | None  # one-sided Mann-Whitney U, candidate better
    noise_base: float | None  # robust CV
    noise_cand: float | None


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def robust_cv(values: Sequence[float]) -> float | None:
    """1.4826 x MAD / median: the spread of the rounds, robust to one odd round."""
    center = median(values)
    if center is None or center == 0:
        return None
    mad = statistics.median(abs(v - center) for v in values)
    return MAD_TO_SIGMA * mad / abs(center)


def change_of(base: float | None, cand: float | None, direction: str) -> float | None:
    """(base - cand) / base when lower is better, (cand - base) / base when higher is."""
    if base is None or cand is None:
        return None
    if base == 0:
        return 0.0 if cand == 0 else None
    return (base - cand) / base if direction == "lower" else (cand - base) / base


def change_from_ratio(ratio: float, direction: str) -> float:
    """The signed change for a candidate/baseline ratio."""
    return 1 - ratio if direction == "lower" else ratio - 1


def mann_whitney(x: Sequence[float], y: Sequence[float], alternative: str) -> float:
    """One-sided p that x is stochastically `alternative` ("greater"/"less") than y.

    Exact when there are no ties; with ties, the exact permutation distribution (scipy's
    "exact" ignores ties); the normal approximation only for large samples.
    """
    from scipy import stats  # type: ignore[import-untyped]

    arrangements = math.comb(len(x) + len(y), len(x))
    tied = len(set(x) | set(y)) < len(x) + len(y)
    method: str | stats.PermutationMethod = "asymptotic"
    if not tied and len(x) * len(y) <= EXACT_CELLS:
        method = "exact"
    elif tied and arrangements <= PERMUTATION_LIMIT:
        method = stats.PermutationMethod(n_resamples=arrangements)
    result = stats.mannwhitneyu(x, y, alternative=alternative, method=method)
    return min(1.0, float(result.pvalue))


@lru_cache(maxsize=256)
def u_null_cdf(m: int, n: int) -> tuple[float, ...]:
    """P(U <= u) for u = 0..m*n under the null, exact (no ties), by counting arrangements."""
    import numpy as np

    # counts[j][u]: arrangements of i values of one side and j of the other with U = u;
    # f(i, j, u) = f(i-1, j, u-j) + f(i, j-1, u) (is the largest value from the first side?)
    counts = [[1] + [0] * (m * n) for _ in range(n + 1)]
    for _ in range(m):
        for j in range(1, n + 1):
            row, left = counts[j], counts[j - 1]
            counts[j] = [
                (row[u - j] if u >= j else 0) + left[u] for u in range(m * n + 1)
            ]
    total = math.comb(m + n, m)
    return tuple(float(c) for c in np.cumsum(counts[n]) / total)


def interval_rank(
    m: int, n: int, tail: float = (1 - CONFIDENCE) / 2
) -> tuple[int, float]:
    """k for the interval [d_(k), d_(N+1-k)] of the N = m x n pairwise differences, and its
    exact coverage 1 - 2 P(U <= k-1): the largest k whose error on each side is at most
    `tail` (95% coverage by default), else k = 1."""
    from scipy import stats  # type: ignore[import-untyped]

    if m * n > EXACT_CELLS:  # normal approximation of U, slightly conservative
        sd = math.sqrt(m * n * (m + n + 1) / 12)
        rank = max(1, math.floor(m * n / 2 - stats.norm.ppf(1 - tail) * sd))
        return rank, 1 - 2 * tail
    cdf = u_null_cdf(m, n)
    below = [u for u, p in enumerate(cdf) if p <= tail + 1e-12]
    k = below[-1] + 1 if below else 1
    return k, 1 - 2 * cdf[k - 1]


def shift_interval(
    base: Sequence[float], cand: Sequence[float], tail: float = (1 - CONFIDENCE) / 2
) -> tuple[float, float, float] | None:
    """Distribution-free CI of log(cand) - log(base) (Hodges-Lehmann/Moses): (lo, hi, level).

    Built on the same exact distribution as the Mann-Whitney test, so a 95% interval excludes
    0 exactly when the two-sided test rejects at 5%. With too few rounds for 95% (3 vs 3 allows
    at most 90%), the widest interval is returned with its real, lower level.
    """
    import numpy as np

    if not base or not cand or min(*base, *cand) <= 0:
        return None
    diffs = np.sort(np.subtract.outer(np.log(cand), np.log(base)).ravel())
    k, level = interval_rank(len(base), len(cand), tail)
    return float(diffs[k - 1]), float(diffs[len(diffs) - k]), level


def change_interval(
    base: Sequence[float],
    cand: Sequence[float],
    direction: str,
    tail: float = (1 - CONFIDENCE) / 2,
) -> tuple[tuple[float, float], float] | None:
    """The CI of the signed change (lo <= hi), error `tail` on each side, and its coverage."""
    shift = shift_interval(base, cand, tail)
    if shift is None:
        return None
    lo, hi, level = shift
    ends = sorted(change_from_ratio(math.exp(d), direction) for d in (lo, hi))
    return (ends[0], ends[1]), level


def metric_stats(
    base: Sequence[float], cand: Sequence[float], direction: str, tested: bool = True
) -> MetricStats:
    """Medians, change, CI, one-sided p-values (when `tested`) and noise of one metric."""
    base_median, cand_median = median(base), median(cand)
    interval = change_interval(base, cand, direction) if base and cand else None
    p_worse = p_better = None
    if tested and base and cand:
        worse, better = (
            ("greater", "less") if direction == "lower" else ("less", "greater")
        )
        p_worse = mann_whitney(cand, base, worse)
        p_better = mann_whitney(cand, base, better)
    return MetricStats(
        n_base=len(base),
        n_cand=len(cand),
        base_median=base_median,
        cand_median=cand_median,
        change=change_of(base_median, cand_median, direction),
        ci=interval[0] if interval else None,
        ci_level=interval[1] if interval else None,
        p_worse=p_worse,
        p_better=p_better,
        noise_base=robust_cv(base),
        noise_cand=robust_cv(cand),
    )


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """BH-adjusted p-values (q-values), same order; reject where adjusted <= alpha."""
    from scipy import stats  # type: ignore[import-untyped]

    if not p_values:
        return []
    return [
        float(q) for q in stats.false_discovery_control(list(p_values), method="bh")
    ]


@dataclass(frozen=True)
class Gates:
    """The decision rule's parameters for one metric."""

    alpha: float
    threshold: float  # regression threshold T (fraction)
    improvement: float  # improvement threshold (fraction)
    size_gate_factor: float  # a regression needs a slowdown >= T x factor
    min_rounds: int

    @property
    def size_gate(self) -> float:
        return self.threshold * self.size_gate_factor

    @property
    def noise_gate(self) -> float:
        return self.threshold / 2


def decide(
    s: MetricStats, p_worse_adj: float | None, p_better_adj: float | None, gates: Gates
) -> tuple[str, str | None]:
    """(verdict, note) of one metric: regression, improvement, unchanged or inconclusive."""
    if min(s.n_base, s.n_cand) < gates.min_rounds:
        return "inconclusive", (
            f"too few rounds ({s.n_base} baseline, {s.n_cand} candidate;"
            f" need {gates.min_rounds})"
        )
    if s.change is None or p_worse_adj is None or p_better_adj is None:
        return "inconclusive", "no usable change (baseline median is 0)"
    if p_worse_adj <= gates.alpha and -s.change >= gates.size_gate:
        return "regression", None
    noisy = [
        f"{side} {cv:.1%}"
        for side, cv in (("baseline", s.noise_base), ("candidate", s.noise_cand))
        if cv is not None and cv > gates.noise_gate
    ]
    if noisy:
        return "inconclusive", (
            f"too noisy (robust CV {', '.join(noisy)} > {gates.noise_gate:.1%})"
        )
    if p_better_adj <= gates.alpha and s.change >= gates.improvement:
        return "improvement", None
    if abs(s.change) >= gates.size_gate:
        # a change that big the rounds cannot confirm (too few of them, or too spread) is no
        # evidence of "unchanged" either
        side = "slower" if s.change < 0 else "faster"
        return "inconclusive", (
            f"{abs(s.change):.1%} {side}, but not significant with "
            f"{s.n_base} and {s.n_cand} rounds"
        )
    return "unchanged", None
