"""perfkit summarize on run folders built from recorded hey rounds: verdicts, partial runs,
warnings, group tests and the refusal to overwrite a complete summary."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import HEY_FIXTURES, RunFolder, fixture_csv, read_rows
from perfkit.exitcodes import ExitCode, KitError
from perfkit.results.summarize import INTERRUPTED, cli


def summarize(folder: RunFolder, *flags: str) -> tuple[int, dict[str, Any]]:
    code = cli([str(folder.path), "--quiet", *flags])
    return code, json.loads((folder.path / "summary.json").read_text())


def only_test(summary: dict[str, Any]) -> dict[str, Any]:
    (test,) = summary["tests"]
    return test


def test_healthy_run_is_complete_with_medians(run_folder: RunFolder) -> None:
    run_folder.add_test("core/health")
    for k in (1, 2, 3):
        run_folder.copy_round("core/health", "health-200", k)
    run_folder.event("core/health")
    code, summary = summarize(run_folder)
    assert code == ExitCode.OK
    assert summary["schema_version"] == 1 and summary["status"] == "complete"
    assert summary["settings"] == run_folder.settings
    assert summary["totals"] == {"tests": 1, "ok": 1, "failed": 0, "skipped": 0}
    test = only_test(summary)
    assert (test["status"], test["reason"], test["error_rate"]) == ("ok", None, 0.0)
    assert [r["index"] for r in test["rounds"]] == [1, 2, 3]
    assert test["aggregate"]["rounds"] == 3
    assert test["aggregate"]["rps"] == test["rounds"][0]["rps"]
    assert test["aggregate"]["p95_ms"] == test["rounds"][0]["latency_ms"]["p95"]
    assert sorted(p.name for p in run_folder.path.iterdir()) == [
        "events.jsonl", "plan.tsv", "raw", "run.json", "summary.json",
    ]  # fmt: skip


def test_401s_fail_the_test_with_an_auth_hint(run_folder: RunFolder) -> None:
    run_folder.add_test("tools/list", requests=30, auth="yes", path="/tools")
    run_folder.copy_round("tools/list", "tools-401", 1)
    run_folder.copy_round("tools/list", "tools-401", 2)
    run_folder.event("tools/list")
    code, summary = summarize(run_folder)
    test = only_test(summary)
    assert code == ExitCode.BENCHMARK_FAILED
    assert test["status"] == "failed" and test["error_rate"] == 1.0
    assert "60 x 401 (the token was missing or rejected" in test["reason"]
    assert summary["totals"]["failed"] == 1


def test_closed_port_fails_with_transport_errors(run_folder: RunFolder) -> None:
    run_folder.add_test("core/down", requests=20)
    run_folder.copy_round("core/down", "closed-port", 1)
    run_folder.event("core/down")
    code, summary = summarize(run_folder)
    test = only_test(summary)
    assert code == ExitCode.BENCHMARK_FAILED
    assert "20 transport errors (timeouts or refused connections)" in test["reason"]
    assert test["rounds"][0]["errors"] == {"non_2xx": 0, "transport": 20}


@pytest.mark.parametrize(("threshold", "status"), [(0.01, "ok"), (0.005, "failed")])
def test_error_threshold(run_folder: RunFolder, threshold: float, status: str) -> None:
    """100 responses of a planned 101: one transport error, an error rate of 1/101."""
    run_folder.settings["error_threshold"] = threshold
    run_folder.write_run_json()
    run_folder.add_test("core/health", requests=101)
    run_folder.copy_round("core/health", "health-200", 1)
    run_folder.event("core/health")
    code, summary = summarize(run_folder)
    test = only_test(summary)
    assert test["error_rate"] == pytest.approx(1 / 101, abs=1e-6)
    assert test["status"] == status
    assert code == (ExitCode.OK if status == "ok" else ExitCode.BENCHMARK_FAILED)
    if status == "failed":
        assert test["reason"].startswith("error rate 0.99% above the threshold 0.50%: ")
        assert test["reason"].endswith(
            "1 transport errors (timeouts or refused connections)"
        )


def test_429s_name_the_rate_limiter(run_folder: RunFolder) -> None:
    """The recorded 401 round with its status codes turned into 429 (the rest unchanged)."""
    run_folder.add_test("tools/list", requests=130)
    run_folder.copy_round("tools/list", "health-200", 1)
    csv_path = run_folder.path / "raw" / "tools" / "list" / "round-1.csv"
    text = fixture_csv("tools-401").read_text().replace(",401,", ",429,")
    with csv_path.open("a") as stream:
        stream.write(text.split("\n", 1)[1])
    run_folder.event("tools/list")
    _, summary = summarize(run_folder)
    test = only_test(summary)
    assert test["rounds"][0]["status_codes"] == {"200": 100, "429": 30}
    assert test["error_rate"] == pytest.approx(30 / 130, abs=1e-6)
    assert (
        "30 x 429 (the gateway's rate limiter is on: start it with " in test["reason"]
    )
    assert "RATE_LIMITING_ENABLED=false" in test["reason"]


def test_unfinished_test_is_skipped_and_the_run_partial(run_folder: RunFolder) -> None:
    run_folder.add_test("core/health")
    run_folder.add_test("core/version")
    run_folder.copy_round("core/health", "health-200", 1)
    run_folder.copy_round("core/version", "health-200", 1)
    run_folder.event("core/health")
    code, summary = summarize(run_folder)
    assert code == ExitCode.OK
    assert summary["status"] == "partial"
    health, version = summary["tests"]
    assert health["status"] == "ok"
    assert (version["status"], version["reason"]) == ("skipped", INTERRUPTED)
    assert len(version["rounds"]) == 1  # rounds found are kept
    assert summary["totals"] == {"tests": 2, "ok": 1, "failed": 0, "skipped": 1}


def test_partial_flag_and_recorded_failures(run_folder: RunFolder) -> None:
    run_folder.add_test("core/health")
    run_folder.event("core/health", "failed", "expect status~healthy: got 'degraded'")
    code, summary = summarize(run_folder, "--partial")
    assert code == ExitCode.BENCHMARK_FAILED and summary["status"] == "partial"
    test = only_test(summary)
    assert test["reason"] == "expect status~healthy: got 'degraded'"
    assert (test["rounds"], test["error_rate"], test["aggregate"]) == ([], None, None)


def test_ok_event_without_rounds_fails(run_folder: RunFolder) -> None:
    run_folder.add_test("core/health")
    run_folder.event("core/health")
    code, summary = summarize(run_folder)
    assert code == ExitCode.BENCHMARK_FAILED
    assert "no measured rounds" in only_test(summary)["reason"]


def test_unreadable_round_fails_the_test_and_names_the_file(
    run_folder: RunFolder,
) -> None:
    run_folder.add_test("core/health")
    run_folder.copy_round("core/health", "health-200", 1)
    (run_folder.path / "raw" / "core" / "health" / "round-2.csv").write_text("")
    run_folder.event("core/health")
    code, summary = summarize(run_folder)
    test = only_test(summary)
    assert code == ExitCode.BENCHMARK_FAILED and len(test["rounds"]) == 1
    assert "round-2.csv: not a hey -o csv file" in test["reason"]


def test_round_without_time_file_is_left_out_of_the_aggregate(
    run_folder: RunFolder,
) -> None:
    run_folder.add_test("core/health")
    run_folder.copy_round("core/health", "health-200", 1)
    run_folder.copy_round("core/health", "health-200", 2)
    (run_folder.path / "raw" / "core" / "health" / "round-2.time").unlink()
    run_folder.event("core/health")
    _, summary = summarize(run_folder)
    assert only_test(summary)["aggregate"]["rounds"] == 1
    assert any(
        "core/health round 2: hey did not finish" in w for w in summary["warnings"]
    )


@pytest.mark.parametrize(("limit", "warned"), [(0.03, True), (0.8, False)])
def test_generator_cpu_warning(
    run_folder: RunFolder, limit: float, warned: bool
) -> None:
    """The recorded health round kept hey at 0.031 cores (0.01 s CPU over 0.32 s)."""
    run_folder.settings["generator_cpu_warning"] = limit
    run_folder.write_run_json()
    run_folder.add_test("core/health")
    run_folder.copy_round("core/health", "health-200", 1)
    run_folder.event("core/health")
    _, summary = summarize(run_folder)
    expected = (
        "hey used 0.03 cores during core/health round 1: the load generator may be the "
        "bottleneck"
    )
    assert (expected in summary["warnings"]) is warned


def test_duration_mode_warns_once(run_folder: RunFolder) -> None:
    for name in ("core/soak", "core/soak2"):
        run_folder.add_test(name, requests=0, duration="1s")
        run_folder.copy_round(name, "health-duration", 1)
        run_folder.event(name)
    code, summary = summarize(run_folder)
    assert code == ExitCode.OK
    soak = summary["tests"][0]
    assert (soak["requests_per_round"], soak["duration"]) == (None, "1s")
    assert soak["rounds"][0]["errors"]["transport"] is None
    notes = [w for w in summary["warnings"] if "duration mode" in w]
    assert len(notes) == 1 and "core/soak, core/soak2" in notes[0]


def test_group_test_lists_its_components(run_folder: RunFolder) -> None:
    run_folder.add_test("mixed/mix", kind="group", requests=0)
    run_folder.add_test(
        "mixed/mix/health", kind="component", group="mixed/mix", requests=60
    )
    run_folder.add_test(
        "mixed/mix/tools",
        kind="component",
        group="mixed/mix",
        requests=40,
        path="/tools",
    )
    run_folder.copy_round("mixed/mix", "group", 1)
    run_folder.copy_round("mixed/mix", "group", 2)
    run_folder.event("mixed/mix")
    code, summary = summarize(run_folder)
    assert code == ExitCode.OK and summary["totals"]["tests"] == 1
    test = only_test(summary)
    health_rows = len(read_rows(HEY_FIXTURES / "group" / "round-1" / "health.csv"))
    tools_rows = len(read_rows(HEY_FIXTURES / "group" / "round-1" / "tools.csv"))
    assert [r["requests"] for r in test["rounds"]] == [health_rows + tools_rows] * 2
    assert all("components" not in r for r in test["rounds"])
    health, tools = test["components"]
    assert (health["id"], tools["path"]) == ("mixed/mix/health", "/tools")
    assert [r["requests"] for r in tools["rounds"]] == [tools_rows, tools_rows]
    slowest = max(health["rounds"][0]["duration_s"], tools["rounds"][0]["duration_s"])
    assert test["rounds"][0]["duration_s"] == slowest


def test_complete_summary_is_not_overwritten(run_folder: RunFolder) -> None:
    run_folder.add_test("core/health")
    run_folder.copy_round("core/health", "health-200", 1)
    run_folder.event("core/health")
    summarize(run_folder)
    before = (run_folder.path / "summary.json").read_text()
    with pytest.raises(KitError) as caught:
        cli([str(run_folder.path), "--quiet"])
    assert caught.value.code == ExitCode.USAGE and "--force" in str(caught.value)
    assert (run_folder.path / "summary.json").read_text() == before
    code, _ = summarize(run_folder, "--force")
    assert code == ExitCode.OK


def test_partial_summary_is_rebuilt(run_folder: RunFolder) -> None:
    run_folder.add_test("core/health")
    run_folder.copy_round("core/health", "health-200", 1)
    _, first = summarize(run_folder)
    assert first["status"] == "partial"
    run_folder.event("core/health")
    _, second = summarize(run_folder)
    assert second["status"] == "complete" and only_test(second)["status"] == "ok"


def test_table_is_printed_unless_quiet(
    run_folder: RunFolder, capsys: pytest.CaptureFixture[str]
) -> None:
    run_folder.add_test("tools/list", requests=30)
    run_folder.copy_round("tools/list", "tools-401", 1)
    run_folder.event("tools/list")
    assert cli([str(run_folder.path)]) == ExitCode.BENCHMARK_FAILED
    out = capsys.readouterr().out
    assert out.splitlines()[1].split()[:3] == ["tools/list", "failed", "1"]
    assert "failed: tools/list: no 2xx responses in 1 round: 30 x 401" in out
    assert (
        cli([str(run_folder.path), "--quiet", "--force"]) == ExitCode.BENCHMARK_FAILED
    )
    assert capsys.readouterr().out == ""


def test_unknown_run_json_version_is_refused(run_folder: RunFolder) -> None:
    run_folder.write_run_json(schema_version=7)
    with pytest.raises(KitError, match="schema_version 7 unknown"):
        cli([str(run_folder.path), "--quiet"])
    assert not (run_folder.path / "summary.json").exists()


def test_a_db_test_has_no_load_generator_to_warn_about() -> None:
    """A db test's driver is the gateway's own code (perfkit.dbbench.ops): the CPU its rounds
    use is what is measured, not a load generator in the way."""
    from perfkit.results.csvstats import Errors, Generator, Latency, RoundStats
    from perfkit.results.summarize import round_warnings

    busy = RoundStats(
        index=1, requests=10, ok=10, duration_s=2.0, rps=5.0, attempted_rps=None,
        latency_ms=Latency(p50=1.0), status_codes={"200": 10},
        errors=Errors(non_2xx=0, transport=0), generator=Generator(cpu_s=1.8, cores=0.9),
        started_at=None, wall_s=2.0, complete=True,
    )  # fmt: skip
    [warning] = round_warnings("tools/rpc_ping", [busy], 0.8)
    assert "hey used 0.90 cores during tools/rpc_ping round 1" in warning
    assert round_warnings("database/get_tool", [busy], 0.8, generator=False) == []
