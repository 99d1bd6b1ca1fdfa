"""The periodic-stall detector (perfkit.results.stalls) on recorded real runs
(tests/fixtures/stalls/, tests/fixtures/record-stalls-fixture.sh): the gateway 1.0.7 on /health at
concurrency 10, 3 rounds of 1000 requests, as released (its full garbage collections stall it)
and with its heap frozen (gc.freeze: quiet, on a machine busy with other work). Then the rule
on generated closed-loop traces, summary.json's `stalls` and the report's lines."""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import RunFolder, read_rows
from perfkit.atomic import write_json_atomic
from perfkit.report.run_data import build_report
from perfkit.report.run_page import render
from perfkit.results import stalls
from perfkit.results.csvstats import load_rounds
from perfkit.results.summarize import summarize
from perfkit.results.summary import load_summary, summary_path
from perfkit.table import render_summary

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stalls"
STALLING = FIXTURES / "gateway-health-c10"
FROZEN = FIXTURES / "gateway-health-c10-heap-frozen"
ROUNDS = [1, 2, 3]
CONCURRENCY = 10


def recorded(folder: Path) -> dict[int, pd.DataFrame]:
    return load_rounds(folder, ROUNDS)


def latencies(folder: Path) -> list[float]:
    """Every response time of the fixture, read with the csv module (not the detector's pandas)."""
    return [
        float(row["response-time"])
        for k in ROUNDS
        for row in read_rows(folder / f"round-{k}.csv")
    ]


def test_the_stalling_gateway_is_flagged_as_periodic() -> None:
    found = stalls.detect(recorded(STALLING), CONCURRENCY)
    assert found.found and found.periodic
    assert found.rounds == 3 and found.requests == len(latencies(STALLING)) == 3000
    # about one stall a second in rounds of ~12 s, each holding (nearly) every client
    assert 20 <= found.stalls <= 40
    assert found.held / found.stalls >= 0.8 * CONCURRENCY
    assert found.share == round(found.held / found.requests, 4)
    assert 0.05 <= (found.share or 0) <= 0.12
    assert found.period_s is not None and 0.8 <= found.period_s <= 2.0
    # a held request waits out the whole silence, so it takes at least as long
    assert found.pause_ms is not None and found.held_ms is not None
    assert 300 <= found.pause_ms <= found.held_ms <= 700
    assert found.text is not None and found.text.startswith(
        f"{found.share:.1%} of requests"
    )
    assert "periodic" in found.text and "not periodic" not in found.text


def test_the_stalls_are_what_makes_the_tail() -> None:
    """The held requests are the slow tail the report shows: removing them brings p95 near p50."""
    frames = recorded(STALLING)
    held_rows = []
    for index, frame in frames.items():
        ends = frame["offset"] + frame["response-time"]
        for stall in stalls.round_stalls(index, frame, CONCURRENCY):
            began, ended = stall.at_s, stall.at_s + stall.silence_s
            held = (frame["offset"] <= began + 1e-4) & (ends >= ended - 1e-4)
            held_rows += list(frame.index[held] + 10_000 * index)
    times = pd.concat([f.set_axis(f.index + 10_000 * i) for i, f in frames.items()])[
        "response-time"
    ]
    rest = times.drop(index=held_rows)
    assert times.quantile(0.95) > 4 * times.median()
    assert rest.quantile(0.95) < 2.5 * rest.median()


def test_the_frozen_heap_run_is_quiet() -> None:
    """No stall, although its latencies spread wide: the rule is not a p95/p50 ratio."""
    found = stalls.detect(recorded(FROZEN), CONCURRENCY)
    assert not found.found and not found.periodic and found.text is None
    assert found.stalls <= 2 and (found.share or 0.0) < stalls.MIN_SHARE
    times = latencies(FROZEN)
    assert found.requests == len(times) == 3000
    slow = [t for t in times if t >= 2 * statistics.median(times)]
    assert len(slow) >= 0.05 * len(times)


def test_for_test_reads_the_complete_rounds_it_is_given(tmp_path: Path) -> None:
    assert stalls.for_test(STALLING, [], CONCURRENCY) is None
    one = stalls.for_test(STALLING, [2], CONCURRENCY)
    assert one is not None and one["rounds"] == 1 and one["requests"] == 1000
    shutil.copy(STALLING / "round-1.csv", tmp_path / "round-1.csv")
    (tmp_path / "round-2.csv").write_text(
        (STALLING / "round-1.csv").read_text().splitlines()[0] + "\n"
    )
    only_rows = stalls.for_test(tmp_path, [1, 2], CONCURRENCY)
    assert only_rows is not None and only_rows["rounds"] == 1


def closed_loop(
    clients: int, seconds: float, latency: float, pauses: list[tuple[float, float]]
) -> pd.DataFrame:
    """hey's rows of a closed-loop generator against a target that answers in `latency` s and
    answers nothing during each (start, length) of `pauses`: the requests in flight then are
    answered one after another once it ends, the last `latency` after it."""
    rows = []
    for client in range(clients):
        # the clients out of step, as they drift in a real run
        t = client * latency / clients
        while t < seconds:
            end = t + latency
            for start, length in pauses:
                if t < start + length and end > start:
                    end = max(end, start + length + latency * (client + 1) / clients)
            rows.append({"response-time": end - t, "status-code": 200, "offset": t})
            t = end
    return pd.DataFrame(rows)


def pauses_at(times: list[float], length: float) -> list[tuple[float, float]]:
    return [(t, length) for t in times]


def test_regular_pauses_are_periodic_and_irregular_ones_are_not() -> None:
    latency = 0.04
    regular = closed_loop(
        8, 20.0, latency, pauses_at(list(np.arange(1.0, 20.0, 1.5)), 0.3)
    )
    found = stalls.detect({1: regular}, 8)
    assert found.found and found.periodic
    assert found.stalls == 13 and found.period_s == pytest.approx(1.5, abs=0.05)
    # nothing is answered from the last answer before the pause to the first after it
    assert 300 <= (found.pause_ms or 0) <= round(1000 * (0.3 + latency), 1)
    assert found.held / found.stalls == 8
    times = [1.0, 1.8, 5.5, 6.0, 11.0, 12.2, 17.5, 18.0]
    irregular = closed_loop(8, 20.0, latency, pauses_at(times, 0.3))
    found = stalls.detect({1: irregular}, 8)
    assert found.found and not found.periodic
    assert found.text is not None and "not periodic" in found.text


def test_no_pause_no_stall_and_one_client_cannot_show_one() -> None:
    assert stalls.detect({1: closed_loop(8, 10.0, 0.02, [])}, 8).stalls == 0
    # one client: a pause holds one request, which the rule cannot tell from a slow answer
    single = closed_loop(1, 20.0, 0.02, pauses_at(list(np.arange(1.0, 20.0, 1.5)), 0.3))
    assert stalls.detect({1: single}, 1).stalls == 0
    # silent for less than three typical latencies: no stall; for more: one per pause
    every = list(np.arange(1.0, 20.0, 1.5))
    brief = closed_loop(8, 20.0, 0.02, pauses_at(every, 0.04))
    assert stalls.detect({1: brief}, 8).stalls == 0
    longer = closed_loop(8, 20.0, 0.02, pauses_at(every, 0.08))
    assert stalls.detect({1: longer}, 8).stalls == 13


def test_few_stalls_are_counted_but_not_found() -> None:
    two = closed_loop(8, 20.0, 0.02, pauses_at([4.0, 12.0], 0.3))
    found = stalls.detect({1: two}, 8)
    assert found.stalls == 2 and not found.found and found.text is None


def stalling_run(run_folder: RunFolder) -> Path:
    test_id = "adhoc/health_c10"
    run_folder.add_test(test_id, requests=1000, concurrency=CONCURRENCY)
    raw = run_folder.path / "raw" / test_id
    raw.mkdir(parents=True)
    for k in ROUNDS:
        for suffix in (".csv", ".time"):
            shutil.copy(STALLING / f"round-{k}{suffix}", raw / f"round-{k}{suffix}")
    run_folder.event(test_id)
    summary = summarize(run_folder.path, partial=False)
    write_json_atomic(summary_path(run_folder.path), summary.to_dict())
    return run_folder.path


def test_summary_json_and_the_report_say_so(run_folder: RunFolder) -> None:
    run = stalling_run(run_folder)
    report = build_report(run)
    detail = report.details[0]
    assert detail.stalls is not None and detail.stalls["found"]
    items = [a for a in report.attention if a.kind == "stall"]
    assert [(a.subject, a.text) for a in items] == [
        ("adhoc/health_c10", detail.stalls["text"])
    ]
    html = render(report)
    assert 'data-stalls="found"' in html
    assert str(detail.stalls["text"]) in html
    table = render_summary(load_summary(run))
    assert f"stalls: adhoc/health_c10: {detail.stalls['text']}" in table.splitlines()


def test_a_run_without_stalls_says_nothing(run_folder: RunFolder) -> None:
    test_id = "adhoc/health_c10"
    run_folder.add_test(test_id, requests=1000, concurrency=CONCURRENCY)
    raw = run_folder.path / "raw" / test_id
    raw.mkdir(parents=True)
    for k in ROUNDS:
        for suffix in (".csv", ".time"):
            shutil.copy(FROZEN / f"round-{k}{suffix}", raw / f"round-{k}{suffix}")
    run_folder.event(test_id)
    summary = summarize(run_folder.path, partial=False)
    found = summary.tests[0].stalls
    assert found is not None and found["found"] is False and found["requests"] == 3000
    write_json_atomic(summary_path(run_folder.path), summary.to_dict())
    report = build_report(run_folder.path)
    assert not [a for a in report.attention if a.kind == "stall"]
    html = render(report)
    assert 'data-stalls="found"' not in html
    assert "stalls:" not in render_summary(summary)
    # a stray stall is named in a muted line, no stall at all not even that
    assert ('data-stalls="below"' in html) == (found["stalls"] > 0)
