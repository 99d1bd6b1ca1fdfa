"""perfkit.results.speed: the machine-speed reference - a fixed unit of CPU-bound Python work
timed between tests - read into summary.json, and what `make calibrate-jobs` makes of it: the
history's spread as measured and as the reference would correct it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from perfkit.calibration.jobs import JobTrial, speed_correction
from perfkit.cli import main
from perfkit.results import speed


def test_the_command_times_each_repeat_on_the_wall_and_in_cpu(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "raw" / "t" / speed.FILE
    out.parent.mkdir(parents=True)
    assert main(["speed-reference", "--repeat", "3", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["workload"] == speed.WORKLOAD
    assert len(data["wall_ms"]) == len(data["cpu_ms"]) == 3
    assert all(v > 0 for v in data["wall_ms"] + data["cpu_ms"])
    assert main(["speed-reference", "--repeat", "0"]) == 2
    assert "--repeat 0" in capsys.readouterr().err


def test_the_work_is_the_same_every_time() -> None:
    assert speed.unit_of_work() == speed.unit_of_work()


def write(run: Path, test: str, data: object) -> None:
    path = run / "raw" / test / speed.FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))


def test_the_run_s_speed_is_the_median_of_every_repeat_of_this_workload(
    tmp_path: Path,
) -> None:
    assert speed.for_summary(tmp_path) is None  # measured nothing: no key at all
    write(
        tmp_path,
        "a",
        {"workload": speed.WORKLOAD, "wall_ms": [10, 11, 30], "cpu_ms": [10, 10, 10]},
    )
    write(
        tmp_path,
        "b",
        {"workload": speed.WORKLOAD, "wall_ms": [12, 13], "cpu_ms": [11, 12]},
    )
    write(
        tmp_path,
        "c",
        {"workload": "another-v9", "wall_ms": [99, 99], "cpu_ms": [99, 99]},
    )
    write(tmp_path, "d", "{torn")
    summary = speed.for_summary(tmp_path)
    assert summary == {
        "workload": speed.WORKLOAD,
        "measurements": 2,
        "repeats": 5,
        "wall_ms": 12.0,
        "cpu_ms": 10.0,
    }
    assert speed.speed_of(summary) == 12.0
    assert speed.speed_of({"workload": "another-v9", "wall_ms": 5}) is None
    assert speed.speed_of(None) is None


def trial(job: int, speed_ms: float | None, p50: dict[str, float]) -> JobTrial:
    return JobTrial(mode="stored", kind="aa", job=job, run="", exit=0, verdict="inconclusive",
                    tests={"inconclusive": len(p50)}, p50_changes={}, seconds=1.0,
                    p50_ms=p50, speed_ms=speed_ms)  # fmt: skip


def test_a_reference_that_moves_with_the_jobs_narrows_their_spread() -> None:
    # each job's p50s follow the machine's speed, give or take 1%
    speeds = [10.0, 11.5, 9.0, 12.0]
    trials = [
        trial(n, s, {"a": 20 * s / 10 * (1.01 if n % 2 else 0.99), "b": 50 * s / 10})
        for n, s in enumerate(speeds, start=1)
    ]
    result = speed_correction(trials)
    assert result is not None
    assert result["jobs"] == 4 and not result["with_baseline"]
    assert result["median_spread_pct"] > 10
    assert result["median_corrected_spread_pct"] < 1.5
    assert result["correlation"] > 0.99
    expected = (
        100
        * (sum((math.log(s) - sum(map(math.log, speeds)) / 4) ** 2 for s in speeds) / 3)
        ** 0.5
    )
    assert result["reference_spread_pct"] == pytest.approx(expected, abs=0.01)


def test_a_reference_that_stands_still_changes_nothing() -> None:
    trials = [
        trial(n, 10.0, {"a": p}) for n, p in enumerate((20.0, 24.0, 18.0), start=1)
    ]
    result = speed_correction(trials)
    assert result is not None
    assert result["spread_pct"] == result["corrected_spread_pct"]
    assert result["correlation"] is None  # a flat reference correlates with nothing


def test_the_baseline_s_job_counts_as_one_of_the_jobs() -> None:
    trials = [trial(n, 10.0 + n, {"a": 20.0 + n}) for n in (1, 2)]
    assert speed_correction(trials) is None
    trials[0].base_speed_ms, trials[0].base_p50_ms = 10.0, {"a": 20.0}
    result = speed_correction(trials)
    assert result is not None and result["jobs"] == 3 and result["with_baseline"]


def test_too_few_jobs_with_a_reference_is_no_answer() -> None:
    trials = [
        trial(1, 10.0, {"a": 20.0}),
        trial(2, None, {"a": 22.0}),
        trial(3, 11.0, {"a": 21.0}),
    ]
    assert speed_correction(trials) is None
