"""csvstats on real hey output: counts, percentiles (checked against the statistics module on
the same rows), duration, error classification and the .time file."""

from __future__ import annotations

import shutil
import statistics
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import HEY_FIXTURES, fixture_csv, read_rows, read_time
from perfkit.exitcodes import ExitCode, KitError
from perfkit.results.csvstats import (
    RoundStats,
    group_round_stats,
    read_time_file,
    round_index,
    round_stats,
)

HEADER = "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\n"


def ok_latencies_ms(*paths: Path) -> list[float]:
    rows = [row for path in paths for row in read_rows(path)]
    return [
        float(r["response-time"]) * 1000
        for r in rows
        if r["status-code"].startswith("2")
    ]


def span_s(path: Path) -> float:
    return max(float(r["offset"]) + float(r["response-time"]) for r in read_rows(path))


def expected_latency(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50": cuts[49],
        "p90": cuts[89],
        "p95": cuts[94],
        "p99": cuts[98],
        "mean": statistics.fmean(values),
        "min": min(values),
        "max": max(values),
    }


def stats_of(case: str, expected: int | None) -> RoundStats:
    path = fixture_csv(case)
    return round_stats(path, path.with_suffix(".time"), expected)


def test_health_counts_and_latency_match_an_independent_computation() -> None:
    path = fixture_csv("health-200")
    stats = stats_of("health-200", 100)
    assert (stats.index, stats.requests, stats.ok) == (1, 100, 100)
    assert stats.status_codes == {"200": 100}
    assert (stats.errors.non_2xx, stats.errors.transport) == (0, 0)
    expected = expected_latency(ok_latencies_ms(path))
    assert stats.latency_ms.p50 is not None
    for name, value in expected.items():
        assert getattr(stats.latency_ms, name) == pytest.approx(value, abs=0.0051), name
    assert stats.duration_s == pytest.approx(span_s(path), abs=1e-4)
    assert stats.rps == pytest.approx(100 / span_s(path), abs=0.01)
    assert stats.attempted_rps == stats.rps


def test_health_generator_and_timing_come_from_the_time_file() -> None:
    path = fixture_csv("health-200")
    timing = read_time(path.with_suffix(".time"))
    stats = stats_of("health-200", 100)
    cpu = float(timing["user"]) + float(timing["sys"])
    assert stats.generator.cpu_s == pytest.approx(cpu)
    assert stats.generator.cores == pytest.approx(
        cpu / float(timing["elapsed"]), abs=1e-3
    )
    assert stats.wall_s == float(timing["elapsed"])
    started = datetime.fromtimestamp(float(timing["started_at"]), tz=UTC)
    assert stats.started_at == started.isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
    assert stats.complete is True


def test_closed_port_is_all_transport_errors() -> None:
    path = fixture_csv("closed-port")
    assert read_rows(path) == []  # hey writes only the header when nothing answered
    stats = stats_of("closed-port", 20)
    assert (stats.requests, stats.ok, stats.errors.non_2xx, stats.errors.transport) == (
        20,
        0,
        0,
        20,
    )
    assert stats.status_codes == {}
    assert stats.latency_ms.p50 is None and stats.latency_ms.max is None
    assert stats.duration_s == float(read_time(path.with_suffix(".time"))["elapsed"])


def test_401_responses_are_non_2xx_with_zero_throughput() -> None:
    path = fixture_csv("tools-401")
    stats = stats_of("tools-401", 30)
    assert stats.status_codes == {"401": 30}
    assert (stats.ok, stats.errors.non_2xx, stats.errors.transport) == (0, 30, 0)
    assert stats.rps == 0.0
    assert stats.attempted_rps == pytest.approx(30 / span_s(path), abs=0.01)
    assert stats.latency_ms.p50 is None  # latency is over 2xx responses only


def test_duration_mode_leaves_transport_errors_unknown() -> None:
    rows = read_rows(fixture_csv("health-duration"))
    stats = stats_of("health-duration", None)
    assert stats.errors.transport is None
    assert stats.requests == len(rows) == stats.ok


def test_missing_responses_count_as_transport_errors_and_use_wall_time() -> None:
    path = fixture_csv("health-200")
    elapsed = float(read_time(path.with_suffix(".time"))["elapsed"])
    stats = stats_of("health-200", 110)
    assert (stats.requests, stats.errors.transport) == (110, 10)
    assert stats.duration_s == pytest.approx(max(span_s(path), elapsed), abs=1e-4)


def test_missing_time_file_is_tolerated_but_not_complete(tmp_path: Path) -> None:
    csv_path = tmp_path / "round-2.csv"
    shutil.copy(fixture_csv("health-200"), csv_path)
    stats = round_stats(csv_path, tmp_path / "round-2.time", 100)
    assert stats.index == 2
    assert (stats.started_at, stats.wall_s, stats.generator.cpu_s) == (None, None, None)
    assert stats.complete is False
    assert stats.duration_s == pytest.approx(span_s(csv_path), abs=1e-4)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "not a hey -o csv file"),
        ("status,latency\n200,0.1\n", "missing columns"),
        (HEADER + "0.1,0,0,0,0.1,0,OK,0.0\n", "unreadable value"),
    ],
)  # fmt: skip
def test_corrupt_csv_is_a_benchmark_failure_naming_the_file(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "round-1.csv"
    path.write_text(content)
    with pytest.raises(KitError) as caught:
        round_stats(path, tmp_path / "round-1.time", 10)
    assert caught.value.code == ExitCode.BENCHMARK_FAILED
    assert str(path) in str(caught.value) and problem in str(caught.value)


def test_missing_csv_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(KitError, match="round-3.csv: hey CSV not found"):
        round_stats(tmp_path / "round-3.csv", tmp_path / "round-3.time", 10)


def test_time_file_with_gnu_time_notes(tmp_path: Path) -> None:
    failed = tmp_path / "failed.time"
    failed.write_text(
        "started_at=1795261331.5\nCommand exited with non-zero status 1\n"
        "elapsed=2.50\nuser=0.40\nsys=0.10\nexit=1\n"
    )
    timing = read_time_file(failed)
    assert (timing.exit, timing.elapsed, timing.cpu_s) == (1, 2.5, pytest.approx(0.5))
    killed = tmp_path / "killed.time"
    killed.write_text(
        "started_at=1\nCommand terminated by signal 2\nelapsed=1\nexit=0\n"
    )
    assert read_time_file(killed).exit == 130
    bad = tmp_path / "bad.time"
    bad.write_text("elapsed=soon\n")
    with pytest.raises(KitError, match="'soon' is not a number"):
        read_time_file(bad)


def test_group_round_pools_components() -> None:
    round_dir = HEY_FIXTURES / "group" / "round-1"
    health, tools = round_dir / "health.csv", round_dir / "tools.csv"
    stats = group_round_stats(round_dir, {"health": 60, "tools": 50})
    assert stats.components is not None and set(stats.components) == {"health", "tools"}
    assert stats.components["tools"].errors.transport == 10
    assert (stats.requests, stats.ok, stats.errors.transport) == (110, 100, 10)
    assert stats.status_codes == {"200": 100}
    assert stats.index == 1 and stats.components["health"].index == 1
    durations = [c.duration_s for c in stats.components.values() if c.duration_s]
    assert stats.duration_s == max(durations)
    assert stats.rps == pytest.approx(100 / max(durations), abs=0.01)
    pooled = expected_latency(ok_latencies_ms(health, tools))
    assert stats.latency_ms.p95 == pytest.approx(pooled["p95"], abs=0.0051)
    assert stats.latency_ms.p50 == pytest.approx(pooled["p50"], abs=0.0051)
    cpu = sum(
        float(t["user"]) + float(t["sys"])
        for t in (
            read_time(round_dir / "health.time"),
            read_time(round_dir / "tools.time"),
        )
    )
    assert stats.generator.cpu_s == pytest.approx(cpu)
    assert "components" in stats.to_dict()
    assert "components" not in stats.components["health"].to_dict()


def test_group_round_with_a_missing_component_fails(tmp_path: Path) -> None:
    shutil.copytree(HEY_FIXTURES / "group" / "round-1", tmp_path / "round-4")
    with pytest.raises(KitError, match="prompts.csv"):
        group_round_stats(
            tmp_path / "round-4", {"health": 60, "tools": 40, "prompts": 10}
        )


def test_round_index() -> None:
    assert round_index(Path("raw/x/round-12.csv")) == 12
    assert round_index(Path("raw/x/round-3")) == 3
    assert round_index(Path("raw/x/warmup.csv")) is None
