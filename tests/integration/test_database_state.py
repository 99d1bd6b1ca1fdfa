"""Where a run's gateway database starts from, on the real gateway: a run that brings the local
stack up starts it on an empty database by default (fresh), and says so; with
service.db_state keep the next run starts on what the first left - the gateway's tool_metrics
rows from the first run's tool calls - and its summary and report say it was not fresh."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import KIT_ROOT, answers, kit_env, run, stack_processes

URL = "http://127.0.0.1:4465"


def own_stack(results: Path, state: str) -> dict[str, str]:
    return kit_env(
        PERF_STACK_NAME="it-dbstate", PERF_BASE_URL=URL, PERF_SERVER_BASE_PORT="9465",
        PERF_RESULTS_DIR=str(results), PERF_DB_STATE=state, PERF_ITERATIONS="1",
        PERF_REQUESTS="4", PERF_CONCURRENCY="2", PERF_WARMUP="0",
    )  # fmt: skip


def smoke_tools(env: dict[str, str]) -> dict:
    done = run(["./run-configurable.sh", "--profile", "smoke", "--scenarios", "tools",
                "--baseline", "skip", "--quiet"], env)  # fmt: skip
    assert done.code == 0, done.stderr
    summary: dict = json.loads(
        (Path(env["PERF_RESULTS_DIR"]) / "latest" / "summary.json").read_text()
    )
    return summary


def test_fresh_by_default_and_kept_on_purpose(tmp_path: Path) -> None:
    assert not answers(URL), f"something already answers at {URL}"
    results = tmp_path / "results"
    try:
        first = smoke_tools(own_stack(results, "keep"))["database"]
        assert (first["state"], first["backend"]) == (
            "fresh",
            "sqlite",
        )  # nothing to keep yet
        assert first["before"]["tool_metrics"] == 0
        second_summary = smoke_tools(own_stack(results, "keep"))
        second = second_summary["database"]
        assert second["state"] == "kept"
        # the first run's tool calls, flushed when its gateway stopped
        assert second["before"]["tool_metrics"] >= 4
        assert any("not fresh (kept)" in w for w in second_summary["warnings"])
        report = (results / "latest" / "report.html").read_text()
        assert "gateway database" in report and "kept (sqlite)" in report
        fresh = smoke_tools(own_stack(results, "fresh"))["database"]
        assert fresh["state"] == "fresh" and fresh["before"]["tool_metrics"] == 0
    finally:
        run(["utils/local-stack.sh", "down"], own_stack(results, "fresh"), timeout=120)
    assert stack_processes(KIT_ROOT / ".state" / "it-dbstate") == []
