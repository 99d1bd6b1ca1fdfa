"""perfkit trend on synthetic results folders: series of run medians and change points."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from compare_data import full_summary
from perfkit import trend
from perfkit.cli import main
from perfkit.exitcodes import KitError

TEST_ID = "tools/rpc_tools_call_get_system_time"


def round_of(p50: float) -> dict[str, Any]:
    return {
        "requests": 100,
        "ok": 100,
        "duration_s": 1.0,
        "rps": 1000.0 / p50,
        "latency_ms": {"p50": p50, "p95": p50 * 1.5, "p99": p50 * 2},
        "errors": {"non_2xx": 0, "transport": 0},
        "complete": True,
    }


def write_run(
    results: Path,
    index: int,
    p50s: list[float],
    profile: str = "light",
    status: str = "complete",
    test_status: str = "ok",
) -> Path:
    run = results / f"{profile}_20260101-{index:06d}"
    run.mkdir(parents=True)
    summary = full_summary(
        profile=profile,
        status=status,
        started_at=f"2026-01-{1 + index:02d}T10:00:00+00:00",
        tests=[
            {
                "id": TEST_ID,
                "status": test_status,
                "rounds": [round_of(v) for v in p50s],
            }
        ],
    )
    (run / "summary.json").write_text(json.dumps(summary))
    return run


def write_series(results: Path, medians: list[float], seed: int = 1) -> None:
    """One run per value, each with 3 rounds scattered +-1% around it (median kept)."""
    rng = random.Random(seed)
    for i, m in enumerate(medians):
        spread = m * 0.01 * rng.random()
        write_run(results, i, [m - spread, m, m + spread])


def run_trend(results: Path, *extra: str) -> list[trend.TestTrend]:
    args = trend.parse_args(["--results", str(results), *extra])
    return trend.build_trends(trend.load_history(results, args.metric), args)


def test_step_is_flagged_at_the_first_slower_run(tmp_path: Path) -> None:
    rng = random.Random(7)
    medians = [20 * (1 + rng.uniform(-0.03, 0.03)) for _ in range(6)]
    medians += [25 * (1 + rng.uniform(-0.03, 0.03)) for _ in range(6)]
    write_series(tmp_path, medians)
    (found,) = run_trend(tmp_path)
    assert [p.value for p in found.points] == pytest.approx(medians)
    (change,) = found.change_points
    assert change.index == 6
    assert change.run == "light_20260101-000006"
    assert change.direction == "slower"
    assert change.change_pct == pytest.approx(25.0, abs=5)
    assert change.p_value < 0.01
    assert (change.runs_before, change.runs_after) == (6, 6)


def test_faster_step_in_rps_is_labelled_faster(tmp_path: Path) -> None:
    write_series(tmp_path, [30.0] * 5 + [20.0] * 5)
    (found,) = run_trend(tmp_path, "--metric", "rps")
    (change,) = found.change_points
    assert change.index == 5
    assert change.direction == "faster"  # rps went up
    assert change.change_pct > 0


def test_two_steps_are_both_found(tmp_path: Path) -> None:
    write_series(
        tmp_path, [20.0 + i * 0.01 for i in range(5)] + [26.0] * 5 + [20.5] * 5
    )
    (found,) = run_trend(tmp_path)
    assert [(c.index, c.direction) for c in found.change_points] == [
        (5, "slower"),
        (10, "faster"),
    ]


def test_flat_noisy_series_flags_nothing(tmp_path: Path) -> None:
    rng = random.Random(3)
    write_series(tmp_path, [20 * (1 + rng.gauss(0, 0.04)) for _ in range(30)])
    (found,) = run_trend(tmp_path)
    assert len(found.points) == 30
    assert found.change_points == []


def test_small_significant_shift_below_threshold_is_not_flagged(tmp_path: Path) -> None:
    # +5%: real, but under the 10% threshold
    write_series(tmp_path, [20.0] * 6 + [21.0] * 6)
    assert run_trend(tmp_path)[0].change_points == []
    assert run_trend(tmp_path, "--threshold", "0.04")[0].change_points[0].index == 6


def test_too_short_series_flags_nothing(tmp_path: Path) -> None:
    write_series(tmp_path, [20.0, 20.0, 30.0, 30.0])  # a big step, but 2 runs a side
    (found,) = run_trend(tmp_path)
    assert found.change_points == []
    assert "too few runs" not in trend.render([found], min_runs=2)
    write_series(tmp_path / "short", [20.0, 30.0])
    (short,) = run_trend(tmp_path / "short")
    assert "too few runs" in trend.render([short], min_runs=2)


def test_one_run_blip_is_not_a_change_point(tmp_path: Path) -> None:
    write_series(tmp_path, [20.0] * 6 + [40.0] + [20.0] * 6)
    assert run_trend(tmp_path)[0].change_points == []


def test_runs_are_filtered_and_ordered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_run(tmp_path, 3, [22.0])
    newest = write_run(tmp_path, 1, [21.0])
    (tmp_path / "latest").symlink_to(newest.name)  # as run-configurable.sh leaves it
    write_run(tmp_path, 2, [99.0], status="partial")
    write_run(tmp_path, 4, [98.0], test_status="failed")
    write_run(tmp_path, 5, [97.0], profile="heavy")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text("{not json")
    (found,) = run_trend(tmp_path, "--profile", "light")
    assert [p.value for p in found.points] == [21.0, 22.0]  # oldest first
    assert [p.started_at[:10] for p in found.points] == ["2026-01-02", "2026-01-04"]
    err = capsys.readouterr().err
    assert "skipping" in err and "broken" in err
    assert run_trend(tmp_path, "--test", "resources/*") == []
    assert len(run_trend(tmp_path, "--test", "tools/*")) == 2  # light and heavy


def test_a_summary_of_an_unknown_version_stops_the_trend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A newer kit's summary is not silently left out of the history: exit 2 naming it."""
    write_run(tmp_path, 1, [21.0])
    (tmp_path / "future").mkdir()
    (tmp_path / "future" / "summary.json").write_text('{"schema_version": 99}')
    assert main(["trend", "--results", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "future/summary.json: schema_version 99 unknown" in err
    assert "this kit reads version 1" in err


def test_cli_prints_series_and_change_point(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_series(tmp_path, [20.0] * 5 + [30.0] * 5)
    out_json = tmp_path / "trend.json"
    assert trend.cli(["--results", str(tmp_path), "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert TEST_ID in out and "10 runs" in out
    assert out.count("<- change point") == 1
    assert "+50.0% slower" in out
    saved = json.loads(out_json.read_text())
    assert saved[0]["change_points"][0]["run"] == "light_20260101-000005"


def test_missing_results_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(KitError, match="not found"):
        trend.cli(["--results", str(tmp_path / "nope")])


def test_no_runs_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert trend.cli(["--results", str(tmp_path), "--profile", "heavy"]) == 0
    assert "no complete runs of profile 'heavy'" in capsys.readouterr().err
