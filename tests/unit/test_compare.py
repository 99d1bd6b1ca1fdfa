"""perfkit compare: verdicts per test and for the run, on SampleSets with controlled values."""

from __future__ import annotations

import pytest
from compare_data import BASE_P50, FINGERPRINT, sample_set, samples_of, scaled
from perfkit.compare.engine import check_run_slos, compare_samples
from perfkit.compare.model import CompareOptions
from perfkit.compare.slo import SloRule

OPTIONS = CompareOptions()


def verdicts(base_p50: list[float], cand_p50: list[float], **kw: object) -> tuple:
    base = sample_set(samples_of("t/a", base_p50))
    cand = sample_set(samples_of("t/a", cand_p50))
    result = compare_samples(base, cand, CompareOptions(**kw))  # type: ignore[arg-type]
    return result, result.tests[0]


def test_identical_runs_are_unchanged_and_pass() -> None:
    result, test = verdicts(BASE_P50, list(BASE_P50))
    assert test.verdict == "unchanged"
    assert {m.verdict for m in test.metrics.values()} == {"unchanged"}
    assert test.metrics["p50"].change_pct == 0
    assert (result.verdict, result.exit_code) == ("unchanged", 0)


def test_clear_slowdown_is_a_regression_with_a_negative_change() -> None:
    result, test = verdicts(BASE_P50, scaled(BASE_P50, 1.5))
    p50, rps = test.metrics["p50"], test.metrics["rps"]
    assert test.verdict == "regression"
    assert (p50.verdict, rps.verdict) == ("regression", "regression")
    assert p50.change_pct == pytest.approx(-50, abs=0.01)  # (base - cand) / base
    assert rps.change_pct == pytest.approx(-33.33, abs=0.01)  # (cand - base) / base
    assert p50.ci_pct is not None and p50.ci_pct[1] < 0
    assert p50.p_worse == pytest.approx(1 / 252)  # exact: all 5 slower than all 5
    assert p50.p_better == pytest.approx(1.0)
    assert (result.verdict, result.exit_code) == ("regression", 1)
    assert result.regressions() == [("t/a", "p50"), ("t/a", "rps")]


def test_speedup_is_an_improvement_with_a_positive_change() -> None:
    result, test = verdicts(BASE_P50, scaled(BASE_P50, 0.7))
    assert test.verdict == "improvement"
    assert test.metrics["p50"].change_pct == pytest.approx(30, abs=0.01)
    assert test.metrics["rps"].change_pct == pytest.approx(42.86, abs=0.01)
    assert (result.verdict, result.exit_code) == ("improvement", 0)


def test_a_small_significant_change_below_the_size_gate_is_unchanged() -> None:
    _, test = verdicts(BASE_P50, scaled(BASE_P50, 1.05))  # 5% < 0.7 x 10%
    assert test.metrics["p50"].p_adjusted is not None
    assert test.metrics["p50"].p_adjusted <= 0.05
    assert test.verdict == "unchanged"
    _, exact_gate = verdicts(BASE_P50, scaled(BASE_P50, 1.08))  # 8% >= 7%
    assert exact_gate.verdict == "regression"
    _, factor_one = verdicts(BASE_P50, scaled(BASE_P50, 1.08), size_gate_factor=1.0)
    assert factor_one.verdict == "unchanged"


def test_noisy_rounds_are_inconclusive_not_unchanged() -> None:
    noisy = [20.0, 24.0, 17.0, 21.0, 26.0]  # robust CV ~ 22% > 10% / 2
    result, test = verdicts(noisy, [21.0, 18.0, 25.0, 22.0, 20.5])
    assert test.verdict == "inconclusive"
    assert test.metrics["p50"].noise_cv_base > 0.05
    assert any("too noisy" in note for note in test.notes)
    assert (result.verdict, result.exit_code) == ("inconclusive", 0)
    strict = compare_samples(
        sample_set(samples_of("t/a", noisy)),
        sample_set(samples_of("t/a", [21.0, 18.0, 25.0, 22.0, 20.5])),
        CompareOptions(strict=True),
    )
    assert strict.exit_code == 1


def test_too_few_rounds_are_inconclusive_even_for_a_big_change() -> None:
    _, test = verdicts(BASE_P50[:2], scaled(BASE_P50[:2], 2.0))
    assert test.verdict == "inconclusive"
    assert test.metrics["p50"].p_worse is None  # not tested at all
    assert "too few rounds (2 baseline, 2 candidate; need 3)" in test.notes[0]


def test_an_error_rate_rising_from_zero_fails_before_latency_is_judged() -> None:
    base = sample_set(samples_of("t/a", BASE_P50, error_rate=0.0))
    cand = sample_set(samples_of("t/a", scaled(BASE_P50, 0.5), error_rate=0.5))
    result = compare_samples(base, cand, OPTIONS)
    test = result.tests[0]
    assert test.verdict == "failed"
    assert "error rate rose from 0.00% to 50.00%" in test.notes[0]
    assert test.metrics["error_rate"].verdict == "failed"
    assert (
        test.metrics["p50"].verdict == "inconclusive"
    )  # not judged, not "improvement"
    assert (result.verdict, result.exit_code) == ("failed", 1)


def test_error_rate_tolerance_allows_a_small_rise_only() -> None:
    base = sample_set(samples_of("t/a", BASE_P50, error_rate=0.01))
    within = sample_set(samples_of("t/a", BASE_P50, error_rate=0.02))
    beyond = sample_set(samples_of("t/a", BASE_P50, error_rate=0.04))
    tolerant = CompareOptions(error_rate_tolerance=0.02)
    assert compare_samples(base, within, tolerant).tests[0].verdict == "unchanged"
    assert compare_samples(base, beyond, tolerant).tests[0].verdict == "failed"
    assert compare_samples(base, within, OPTIONS).tests[0].verdict == "failed"


def test_a_failed_candidate_test_fails() -> None:
    base = sample_set(samples_of("t/a", BASE_P50))
    cand = sample_set(samples_of("t/a", BASE_P50, status="failed"))
    result = compare_samples(base, cand, OPTIONS)
    assert result.tests[0].verdict == "failed"
    assert result.tests[0].notes[0].startswith("candidate test failed")
    assert result.exit_code == 1


def test_a_skipped_candidate_test_is_not_measured_so_inconclusive() -> None:
    """Skipped is said, not judged (e.g. an SSE call a memory-cache gateway never answers):
    neither a failure nor unchanged; a new test that was skipped is new, saying so."""
    base = sample_set(samples_of("t/a", BASE_P50))
    skipped = samples_of("t/a", BASE_P50, status="skipped")
    result = compare_samples(base, sample_set(skipped), OPTIONS)
    assert result.tests[0].verdict == "inconclusive"
    assert result.tests[0].notes == [
        f"not measured: the test was skipped: {skipped.reason or 'no reason given'}"
    ]
    assert result.tests[0].metrics == {}
    assert result.exit_code == 0
    new = compare_samples(
        sample_set(), sample_set(samples_of("t/a", BASE_P50, status="skipped")), OPTIONS
    )
    assert new.tests[0].verdict == "new"
    assert new.tests[0].notes[0].startswith("not measured: the test was skipped")


def test_a_missing_test_fails_and_a_new_test_is_new() -> None:
    base = sample_set(samples_of("t/a", BASE_P50), samples_of("t/gone", BASE_P50))
    cand = sample_set(samples_of("t/a", BASE_P50), samples_of("t/new", BASE_P50))
    result = compare_samples(base, cand, OPTIONS)
    by_id = {t.id: t for t in result.tests}
    assert by_id["t/gone"].verdict == "failed"
    assert by_id["t/gone"].notes == ["missing from the candidate run"]
    assert by_id["t/new"].verdict == "new"
    assert by_id["t/a"].verdict == "unchanged"
    assert (result.verdict, result.exit_code) == ("failed", 1)
    only_new = compare_samples(
        sample_set(samples_of("t/a", BASE_P50)),
        sample_set(samples_of("t/a", BASE_P50), samples_of("t/new", BASE_P50)),
        OPTIONS,
    )
    assert (only_new.verdict, only_new.exit_code) == ("unchanged", 0)


def test_zero_tests_compared_never_passes() -> None:
    empty = compare_samples(sample_set(), sample_set(), OPTIONS)
    assert (empty.verdict, empty.exit_code) == ("failed", 1)
    assert empty.summary["compared"] == 0
    all_new = compare_samples(
        sample_set(), sample_set(samples_of("t/a", BASE_P50)), OPTIONS
    )
    assert (all_new.verdict, all_new.exit_code) == ("failed", 1)
    assert "no test was compared" in all_new.notes[0]


def other_environment() -> dict[str, object]:
    fingerprint = dict(FINGERPRINT)
    fingerprint["logical_cores"] = 8
    return fingerprint


def test_environment_mismatch_caps_verdicts_at_inconclusive_unless_forced() -> None:
    base = sample_set(samples_of("t/a", BASE_P50), samples_of("t/err", BASE_P50))
    cand = sample_set(
        samples_of("t/a", scaled(BASE_P50, 1.5)),
        samples_of("t/err", BASE_P50, error_rate=0.1),
        fingerprint=other_environment(),
    )
    capped = compare_samples(base, cand, OPTIONS)
    by_id = {t.id: t for t in capped.tests}
    assert capped.environment_differences == ["logical_cores: 2 -> 8"]
    assert by_id["t/a"].verdict == "inconclusive"
    assert "environments differ" in by_id["t/a"].metrics["p50"].note
    assert by_id["t/err"].verdict == "failed"  # failed stays failed
    forced = compare_samples(base, cand, CompareOptions(force=True))
    assert {t.id: t.verdict for t in forced.tests}["t/a"] == "regression"
    assert forced.forced is True


def test_environment_mismatch_alone_passes_but_says_so() -> None:
    base = sample_set(samples_of("t/a", BASE_P50))
    cand = sample_set(
        samples_of("t/a", scaled(BASE_P50, 1.5)), fingerprint=other_environment()
    )
    result = compare_samples(base, cand, OPTIONS)
    assert (result.verdict, result.exit_code) == ("inconclusive", 0)
    assert compare_samples(base, cand, CompareOptions(strict=True)).exit_code == 1


def weak_slowdown() -> tuple[list[float], list[float]]:
    """+17% with overlapping rounds (U = 23 of 25): one-sided exact p = 4/252 = 0.016."""
    return [20.0, 20.5, 21.0, 21.5, 22.0], [21.4, 24.0, 24.5, 25.0, 25.5]


def test_benjamini_hochberg_a_single_weak_p_among_many_tests_does_not_fire() -> None:
    base_p50, cand_p50 = weak_slowdown()
    flat_rps = [500.0, 501.0, 502.0, 503.0, 504.0]
    weak_base = samples_of("t/weak", base_p50, rps=flat_rps)
    weak_cand = samples_of("t/weak", cand_p50, rps=flat_rps)
    alone = compare_samples(sample_set(weak_base), sample_set(weak_cand), OPTIONS)
    assert alone.tests[0].metrics["p50"].p_worse == pytest.approx(4 / 252)
    assert alone.tests[0].verdict == "regression"  # m = 2: q = 2 x 0.016 <= 0.05
    others = [samples_of(f"t/{i}", BASE_P50) for i in range(20)]
    many = compare_samples(
        sample_set(weak_base, *others), sample_set(weak_cand, *others), OPTIONS
    )
    weak = next(t for t in many.tests if t.id == "t/weak")
    assert weak.metrics["p50"].p_worse == pytest.approx(4 / 252)
    assert weak.metrics["p50"].p_adjusted > 0.05
    # not a regression among many tests - and not "unchanged" either: the rounds moved by more
    # than the size gate, they just cannot confirm it
    assert weak.verdict == "inconclusive"
    assert "not significant with 5 and 5 rounds" in (weak.metrics["p50"].note or "")
    assert (many.verdict, many.exit_code) == ("inconclusive", 0)


def test_a_slowdown_across_all_tests_survives_the_adjustment() -> None:
    tests = [samples_of(f"t/{i}", BASE_P50) for i in range(30)]
    slow = [samples_of(f"t/{i}", scaled(BASE_P50, 1.3)) for i in range(30)]
    result = compare_samples(sample_set(*tests), sample_set(*slow), OPTIONS)
    assert result.summary["regression"] == 30
    assert len(result.regressions()) == 60


def test_non_critical_metrics_get_verdicts_but_do_not_fail_the_run() -> None:
    base = samples_of("t/a", BASE_P50, rps=[500.0, 501.0, 502.0, 503.0, 504.0])
    cand = samples_of("t/a", BASE_P50, rps=[500.0, 501.0, 502.0, 503.0, 504.0])
    cand.rounds["p99"] = scaled(base.rounds["p99"], 1.8)
    result = compare_samples(sample_set(base), sample_set(cand), OPTIONS)
    test = result.tests[0]
    assert test.metrics["p99"].verdict == "regression"
    assert test.metrics["p99"].critical is False
    assert (test.verdict, result.exit_code) == ("unchanged", 0)
    gated = compare_samples(
        sample_set(base),
        sample_set(cand),
        CompareOptions(critical_metrics=("p50", "p99")),
    )
    assert gated.exit_code == 1


def test_per_metric_thresholds_are_used() -> None:
    loose = dict.fromkeys(("p50", "p95", "p99", "rps", "total_time"), 0.10) | {
        "p50": 0.5
    }
    _, test = verdicts(BASE_P50, scaled(BASE_P50, 1.2), thresholds=loose)
    assert test.metrics["p50"].threshold == 0.5
    assert test.metrics["p50"].verdict == "unchanged"  # 20% < 0.7 x 50%
    assert test.metrics["rps"].verdict == "regression"


def test_slo_breach_fails_an_otherwise_unchanged_run() -> None:
    base = sample_set(samples_of("tools/a", BASE_P50), samples_of("core/h", BASE_P50))
    rules = (
        SloRule("tools/*", (("p95_ms", 25.0),)),  # p95 = 1.5 x p50 ~ 30 ms: breach
        SloRule("core/h", (("min_rps", 100.0),)),  # rps ~ 500: fine
        SloRule("nothing/*", (("p99_ms", 1.0),)),
    )
    result = compare_samples(base, base, CompareOptions(slos=rules))
    assert (result.verdict, result.exit_code) == ("slo_breach", 1)
    assert [b["test"] for b in result.slo_breaches] == ["tools/a"]
    assert result.slo_breaches[0]["value"] == pytest.approx(30.15)
    assert result.slo_unmatched == ["nothing/*"]
    tools = next(t for t in result.tests if t.id == "tools/a")
    assert "p95_ms 30.15 breaks <= 25" in tools.slo_breaches[0]


def test_slos_apply_without_a_baseline() -> None:
    run = sample_set(samples_of("tools/a", BASE_P50, error_rate=0.02))
    fine = check_run_slos(
        run, CompareOptions(slos=(SloRule("tools/a", (("p99_ms", 50.0),)),))
    )
    assert (fine.verdict, fine.exit_code, fine.baseline) == ("no_baseline", 0, None)
    strict_errors = CompareOptions(slos=(SloRule("*", (("max_error_rate", 0.01),)),))
    breached = check_run_slos(run, strict_errors)
    assert (breached.verdict, breached.exit_code) == ("slo_breach", 1)
    failed = check_run_slos(
        sample_set(samples_of("tools/a", [], status="failed")), OPTIONS
    )
    assert (failed.verdict, failed.exit_code) == ("failed", 1)


def test_performance_metrics_choose_what_is_judged_and_reported() -> None:
    _, every = verdicts(BASE_P50, list(BASE_P50))
    assert "total_time" in every.metrics
    _, listed = verdicts(BASE_P50, list(BASE_P50), metrics=("p50", "p95", "rps"))
    assert set(listed.metrics) == {"p50", "p95", "rps"}
    _, critical = verdicts(BASE_P50, scaled(BASE_P50, 1.5), metrics=("p95",))
    assert "p50" in critical.metrics, "a critical metric is judged even when not listed"
    assert critical.verdict == "regression"


def test_the_settings_metrics_reach_the_comparison() -> None:
    from pathlib import Path

    from perfkit.compare.cli import options_from_settings
    from perfkit.config import load_settings

    kit = Path(__file__).resolve().parents[2]
    settings = load_settings(kit, "light", {"PERF_METRICS": "p50,rps"}, {})
    assert options_from_settings(settings).metrics == ("p50", "rps")
