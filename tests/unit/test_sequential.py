"""The stopping rule (perfkit.compare.sequential): its looks, when a test is settled, and the
error it spends - checked by simulation against the bound it claims."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from perfkit.compare.model import CompareOptions
from perfkit.compare.sequential import BETA, looks, settled, smallest_tail, stop_at
from perfkit.results.samples import TestSamples as Samples
from perfkit.results.samples import from_summary
from perfkit.results.summarize import rounds_so_far
from perfkit.results.summary import load_summary

OPTIONS = CompareOptions()  # threshold 10%, size gate 7%, min_rounds 3


def samples(p50: list[float], rps: list[float] | None = None) -> Samples:
    rps = rps if rps is not None else [1000.0 / v for v in p50]
    return Samples("t/a", "ok", None, 0.0, {"p50": p50, "rps": rps})


def noisy(rng: np.random.Generator, center: float, cv: float, n: int) -> list[float]:
    return list(center * np.exp(rng.normal(0.0, cv, n)))


@pytest.mark.parametrize("max_rounds", [4, 5, 6, 8, 10, 15, 30])
def test_the_looks_spend_at_most_beta_and_each_can_be_reached(max_rounds: int) -> None:
    found = looks(3, max_rounds)
    assert found and all(3 <= look.rounds < max_rounds for look in found)
    assert sum(look.tail for look in found) == pytest.approx(BETA)
    assert all(smallest_tail(look.rounds) <= look.tail + 1e-12 for look in found)


def test_five_rounds_look_after_three_and_four() -> None:
    assert [(look.rounds, look.tail) for look in looks(3, 5)] == [(3, 0.05), (4, 0.05)]
    assert looks(3, 3) == [] and looks(5, 5) == []


def test_quiet_and_equal_or_faster_is_settled_a_slowdown_or_noise_is_not() -> None:
    base = samples([20.0, 20.1, 19.9])
    assert settled(base, samples([20.05, 19.95, 20.0]), OPTIONS, 0.05)
    # 20% slower: the interval holds the size gate's change
    assert not settled(base, samples([24.0, 24.1, 23.9]), OPTIONS, 0.05)
    # 20% faster: no slowdown is left possible; a gate needs no more rounds
    assert settled(base, samples([16.0, 16.1, 15.9]), OPTIONS, 0.05)
    # equal medians but 10% noise: the interval reaches beyond the gate
    assert not settled(base, samples([18.0, 20.0, 22.5]), OPTIONS, 0.05)
    # a failed test is never settled
    failed = samples([20.0, 20.0, 20.0])
    failed.status = "failed"
    assert not settled(base, failed, OPTIONS, 0.05)


def test_stop_at_the_first_settled_look_else_every_round() -> None:
    base = samples([20.0, 20.1, 19.9, 20.0, 20.05])
    assert stop_at(base, samples([20.0, 19.9, 20.1, 20.0, 20.0]), OPTIONS, 5) == 3
    assert stop_at(base, samples([24.0, 24.1, 23.9, 24.0, 24.2]), OPTIONS, 5) == 5


def simulate(
    noise: float, max_rounds: int, slowdown: float, trials: int, seed: int = 20261202
) -> tuple[float, float]:
    """Lognormal rounds, the candidate slower by `slowdown` (a fraction of p50): the share of
    tests the rule stops early, and the mean share of the rounds they measure."""
    rng = np.random.default_rng(seed)
    stopped, used = 0, 0
    for _ in range(trials):
        base = samples(noisy(rng, 20.0, noise, max_rounds))
        cand = samples(noisy(rng, 20.0 / (1 - slowdown), noise, max_rounds))
        rounds = stop_at(base, cand, OPTIONS, max_rounds)
        stopped += rounds < max_rounds
        used += rounds
    return stopped / trials, used / (trials * max_rounds)


@pytest.mark.parametrize("max_rounds", [5, 8])
def test_a_change_at_the_size_gate_is_stopped_at_most_beta_of_the_time(
    max_rounds: int,
) -> None:
    """A true slowdown exactly at the size gate (the least a regression needs), 5% noise: the
    rule may stop such a test with probability <= beta."""
    stopped, _ = simulate(0.05, max_rounds, OPTIONS.gates("p50").size_gate, 1000)
    assert stopped <= BETA


def test_quiet_unchanged_tests_mostly_stop_early() -> None:
    """A/A at 1% noise: the rule stops most tests at the first look."""
    stopped, used = simulate(0.01, 5, 0.0, 200, seed=7)
    assert stopped > 0.8 and used < 0.7


RECORDED_RUNS = Path(__file__).resolve().parents[1] / "fixtures" / "runs"


@pytest.mark.parametrize("run", ["smoke_tools_regression", "smoke_all"])
def test_rounds_read_mid_run_are_the_summary_s(run: str) -> None:
    """perfkit settled reads a test's raw/ rounds before summary.json exists: the same values
    the summary holds (recorded real runs; groups of components included)."""
    run_dir = RECORDED_RUNS / run
    summary = from_summary(load_summary(run_dir), str(run_dir))
    for test_id, expected in summary.tests.items():
        found = rounds_so_far(run_dir, test_id)
        assert found.rounds == expected.rounds, test_id
        assert (found.status == "ok") == (expected.status == "ok"), test_id


if __name__ == "__main__":  # the table in docs/verdicts.md, "Stopping early"
    print(
        "| rounds | noise | A/A: stopped early | A/A: rounds used | at the gate: stopped |"
    )
    print("|---|---|---|---|---|")
    for k in (5, 10):
        for cv in (0.01, 0.03, 0.05, 0.08):
            aa_stopped, aa_used = simulate(cv, k, 0.0, 1000)
            gate_stopped, _ = simulate(cv, k, OPTIONS.gates("p50").size_gate, 1000)
            print(
                f"| {k} | {cv:.0%} | {aa_stopped:.0%} | {aa_used:.0%} | {gate_stopped:.1%} |"
            )
