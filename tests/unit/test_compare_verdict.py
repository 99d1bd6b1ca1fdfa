"""perfkit.compare.verdict: the statistics, checked against values worked out by hand or by scipy."""

from __future__ import annotations

import math

import pytest
from perfkit.compare.verdict import (
    Gates,
    benjamini_hochberg,
    change_of,
    decide,
    interval_rank,
    mann_whitney,
    metric_stats,
    robust_cv,
    u_null_cdf,
)


def test_u_null_distribution_counts_arrangements() -> None:
    cdf = u_null_cdf(5, 5)
    assert len(cdf) == 26
    assert cdf[0] == pytest.approx(1 / 252)
    assert cdf[2] == pytest.approx(4 / 252)  # U = 0, 1, 2: 1 + 1 + 2 arrangements
    assert cdf[12] == pytest.approx(0.5)  # symmetric around m n / 2 = 12.5
    assert cdf[-1] == pytest.approx(1.0)
    assert u_null_cdf(3, 3)[0] == pytest.approx(1 / 20)


@pytest.mark.parametrize(
    ("m", "n", "k", "level"),
    [
        (5, 5, 3, 1 - 8 / 252),  # classic table: critical U = 2
        (10, 10, 24, None),  # classic table: critical U = 23
        (3, 3, 1, 0.9),  # no 95% interval exists: the widest, at 90%
        (4, 6, 3, None),  # classic table: critical U = 2
    ],
)
def test_interval_rank(m: int, n: int, k: int, level: float | None) -> None:
    rank, coverage = interval_rank(m, n)
    assert rank == k
    if level is not None:
        assert coverage == pytest.approx(level)
    else:
        assert coverage >= 0.95


def test_mann_whitney_is_exact_one_sided_and_handles_ties() -> None:
    slow, fast = [6.0, 7.0, 8.0, 9.0, 10.0], [1.0, 2.0, 3.0, 4.0, 5.0]
    assert mann_whitney(slow, fast, "greater") == pytest.approx(1 / 252)
    assert mann_whitney(slow, fast, "less") == pytest.approx(1.0)
    assert mann_whitney([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], "greater") == pytest.approx(
        1.0
    )
    tied = mann_whitney(
        [5.0, 7.0, 8.0, 9.0, 10.0], [1.0, 2.0, 3.0, 4.0, 5.0], "greater"
    )
    assert tied == pytest.approx(2 / 252)  # permutation: the tie counts half


def test_change_sign_convention() -> None:
    assert change_of(100.0, 150.0, "lower") == pytest.approx(-0.5)  # slower latency
    assert change_of(100.0, 80.0, "lower") == pytest.approx(0.2)
    assert change_of(100.0, 80.0, "higher") == pytest.approx(-0.2)  # fewer requests/s
    assert change_of(0.0, 0.0, "lower") == 0.0
    assert change_of(0.0, 1.0, "lower") is None


def test_robust_cv_ignores_one_odd_round() -> None:
    assert robust_cv([10.0, 10.0, 10.0, 10.0, 50.0]) == 0.0
    assert robust_cv([9.0, 10.0, 11.0]) == pytest.approx(0.14826)
    assert robust_cv([]) is None


def test_ci_brackets_the_true_shift_and_matches_the_change_sign() -> None:
    base = [20.0, 20.4, 19.8, 20.2, 20.1]
    s = metric_stats(base, [v * 1.3 for v in base], "lower")
    assert s.ci is not None
    assert s.ci[0] <= -0.3 <= s.ci[1] + 1e-9
    assert s.ci[1] < 0
    r = metric_stats(base, [v * 1.3 for v in base], "higher")
    assert r.ci is not None and r.ci[0] > 0


def test_benjamini_hochberg_matches_the_step_up_rule() -> None:
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.2]) == pytest.approx(
        [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2]
    )
    assert benjamini_hochberg([]) == []


GATES = Gates(
    alpha=0.05, threshold=0.10, improvement=0.05, size_gate_factor=0.7, min_rounds=3
)


def test_decide_needs_significance_and_size() -> None:
    base = [20.0, 20.4, 19.8, 20.2, 20.1]
    slow = metric_stats(base, [v * 1.2 for v in base], "lower")
    assert decide(slow, 0.01, 1.0, GATES)[0] == "regression"
    # 20% slower but not significant: not evidence of unchanged either
    assert decide(slow, 0.2, 1.0, GATES) == (
        "inconclusive",
        "20.0% slower, but not significant with 5 and 5 rounds",
    )
    tiny = metric_stats(base, [v * 1.06 for v in base], "lower")
    assert decide(tiny, 0.001, 1.0, GATES)[0] == "unchanged"
    fast = metric_stats(base, [v * 0.9 for v in base], "lower")
    assert decide(fast, 1.0, 0.01, GATES)[0] == "improvement"
    assert math.isclose(GATES.size_gate, 0.07)
