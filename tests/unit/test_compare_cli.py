"""perfkit compare as a user runs it: the CLI on run folders (controlled and recorded real
summaries), comparison.json written atomically, JUnit XML, GitHub annotations, the table."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import perfkit.compare.cli
import pytest
from compare_data import (
    BASE_P50,
    model,
    recorded,
    sample_set,
    samples_of,
    scaled,
    summary_doc,
    write_run,
)
from perfkit.cli import main
from perfkit.compare.cli import report_to_github, write_outputs
from perfkit.compare.engine import compare_samples
from perfkit.compare.model import CompareOptions
from perfkit.compare.output import github_annotations, junit_xml, markdown_summary
from perfkit.config import VARS
from perfkit.results.samples import from_summary


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [*VARS, "GATEWAY_VERSION", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"]:
        monkeypatch.delenv(key, raising=False)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(["compare", *args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def two_runs(tmp_path: Path, factor: float) -> tuple[Path, Path]:
    tests = {"tools/a": BASE_P50, "tools/b": scaled(BASE_P50, 2)}
    base = write_run(tmp_path / "base", summary_doc(tests))
    slower = {k: scaled(v, factor) for k, v in tests.items()}
    return base, write_run(tmp_path / "cand", summary_doc(slower))


def test_cli_names_the_regressed_tests_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base, cand = two_runs(tmp_path, 1.5)
    rc, out, err = run_cli(capsys, str(cand), "--against", str(base))
    assert rc == 1
    assert "regressed:\n  tools/a: p50, rps\n  tools/b: p50, rps" in out
    assert "verdict: REGRESSION (exit 1" in out
    assert "wrote" in err
    data = json.loads((cand / "comparison.json").read_text())
    assert (data["schema_version"], data["verdict"], data["exit_code"]) == (
        1,
        "regression",
        1,
    )
    assert data["baseline"]["source"] == str(base)
    p50 = data["tests"][0]["metrics"]["p50"]
    assert set(p50) >= {
        "n_base", "n_cand", "base_median", "cand_median", "change_pct", "ci_pct", "p_worse",
        "p_better", "p_adjusted", "noise_cv_base", "noise_cv_cand", "threshold", "verdict",
    }  # fmt: skip
    assert p50["change_pct"] == pytest.approx(-50)
    assert data["method"]["correction"] == "benjamini-hochberg"
    assert (
        data["method"]["thresholds"]["p95"] == 0.20
    )  # config.yaml baselines.thresholds
    assert data["method"]["critical_metrics"] == ["p50", "rps"]


def test_cli_passes_an_unchanged_run_and_quiet_drops_the_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base, cand = two_runs(tmp_path, 1.0)
    rc, out, err = run_cli(capsys, str(cand), "--against", str(base), "--quiet")
    assert rc == 0
    assert "tools/a" not in out
    assert out.strip().endswith("verdict: UNCHANGED (exit 0; 2 compared, 2 unchanged)")
    assert err == ""


def test_cli_settings_come_from_the_config_layers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base, cand = two_runs(tmp_path, 1.5)
    rc, _, _ = run_cli(
        capsys, str(cand), "--against", str(base), "--set", "PERF_THRESHOLD_P50=0.9",
        "--set", "PERF_CRITICAL_METRICS=p50",
    )  # fmt: skip
    assert rc == 0  # 50% < 0.7 x 90%, and rps does not gate
    data = json.loads((cand / "comparison.json").read_text())
    assert data["tests"][0]["metrics"]["rps"]["verdict"] == "regression"


def test_cli_holds_a_run_of_some_tests_against_the_baselines_same_tests(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--tests: the baseline's tests the run did not select are left out, not failed as
    missing; a selected test the run lacks still fails."""
    tests = {
        "tools/rpc_a": BASE_P50,
        "tools/rest_b": BASE_P50,
        "mcp/server_c": scaled(BASE_P50, 2),
    }
    base = write_run(tmp_path / "base", summary_doc(tests))
    chosen = summary_doc({"tools/rpc_a": scaled(BASE_P50, 1.5)})
    chosen["settings"]["tests"] = ["rpc_*", "mcp/server_*"]
    cand = write_run(tmp_path / "cand", chosen)
    rc, out, _ = run_cli(capsys, str(cand), "--against", str(base))
    verdicts = {
        t["id"]: t["verdict"]
        for t in json.loads((cand / "comparison.json").read_text())["tests"]
    }
    # rest_b was not selected: not judged; server_c was, and is missing
    assert verdicts == {"tools/rpc_a": "regression", "mcp/server_c": "failed"}
    assert rc == 1
    assert "--tests rpc_*,mcp/server_*: 1 test(s) of the baseline not run" in out


def test_cli_on_recorded_runs_a_missing_test_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = write_run(tmp_path / "base", recorded("smoke-28"))
    cand = write_run(tmp_path / "cand", recorded("smoke-27"))
    rc, out, _ = run_cli(capsys, str(cand), "--against", str(base))
    assert rc == 1
    assert "gateway-core/version: missing from the candidate run" in out
    data = json.loads((cand / "comparison.json").read_text())
    verdicts = {t["id"]: t["verdict"] for t in data["tests"]}
    assert verdicts.pop("gateway-core/version") == "failed"
    assert set(verdicts.values()) == {"inconclusive"}  # one round each: too few
    assert data["summary"]["compared"] == 27


def test_cli_on_a_recorded_run_against_itself_is_inconclusive_not_a_pass_under_strict(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run = write_run(tmp_path / "run", recorded("smoke-15"))
    rc, out, _ = run_cli(capsys, str(run), "--against", str(run))
    assert rc == 0
    assert "15 tests: p50: too few rounds (1 baseline, 1 candidate; need 3)" in out
    rc, _, _ = run_cli(capsys, str(run), "--against", str(run), "--strict")
    assert rc == 1


def test_recorded_runs_share_one_environment() -> None:
    first = from_summary(model(recorded("smoke-28")), "a")
    second = from_summary(model(recorded("smoke-15")), "b")
    result = compare_samples(first, second, CompareOptions())
    assert result.environment_differences == []
    assert result.summary["failed"] == 13  # 28 - 15 tests missing


def test_cli_judges_a_stored_baseline_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--baseline FILE: a baseline saved by perfkit baseline; with no run-to-run history yet a
    50% slowdown is beyond the drift bound (35%) and still a regression."""
    base, cand = two_runs(tmp_path, 1.5)
    bdir = tmp_path / "baselines"
    assert main(["baseline", "save", str(base), "--dir", str(bdir), "--name", "x"]) == 0
    capsys.readouterr()
    rc, out, _ = run_cli(capsys, str(cand), "--baseline", str(bdir / "baseline_x.json"))
    assert rc == 1, out
    data = json.loads((cand / "comparison.json").read_text())
    assert data["baseline"]["source"] == str(bdir / "baseline_x.json")
    across = data["tests"][0]["metrics"]["p50"]["across_jobs"]
    assert (across["jobs"], across["df"]) == (1, 0)  # the baseline's own job
    assert "no run-to-run history yet" in data["tests"][0]["metrics"]["p50"]["note"]


def recorded_doc(run: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run / "summary.json").read_text())
    return data


def test_cli_no_baseline_checks_slos(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, cand = two_runs(tmp_path, 1.0)
    config = tmp_path / "config.yaml"
    kit_yaml = (Path(perfkit.compare.cli.KIT_ROOT) / "config.yaml").read_text()
    config.write_text(kit_yaml.replace("slos: {}", 'slos:\n  "tools/*": {p99_ms: 50}'))
    rc, out, _ = run_cli(capsys, str(cand), "--no-baseline", "--config", str(config))
    assert rc == 1  # tools/b: p99 = 2 x 40 ms = 80 ms
    assert "tools/b: p99_ms 80.4 breaks <= 50 (slos.tools/*)" in out
    assert "baseline: none (SLOs only)" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--against"], "expected one argument"),
        ([], "one of the arguments --baseline --against --no-baseline is required"),
        (["--against", "nowhere"], "run folder 'nowhere' not found"),
    ],
)
def test_cli_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], fragment: str
) -> None:
    _, cand = two_runs(tmp_path, 1.0)
    rc, out, err = run_cli(capsys, str(cand), *args)
    assert rc == 2
    assert fragment in err
    assert out == ""


def test_unknown_summary_version_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base, cand = two_runs(tmp_path, 1.0)
    doc = recorded_doc(base) | {"schema_version": 9}
    write_run(base, doc)
    rc, _, err = run_cli(capsys, str(cand), "--against", str(base))
    assert rc == 2
    assert (
        "schema_version 9 unknown (written by a newer kit: update this kit); this kit reads version 1"
        in err
    )


# --- outputs ---


def mixed_comparison() -> Any:
    base = sample_set(
        samples_of("tools/slow", BASE_P50), samples_of("tools/same", BASE_P50),
        samples_of("tools/few", BASE_P50[:2]), samples_of("tools/gone", BASE_P50),
    )  # fmt: skip
    cand = sample_set(
        samples_of("tools/slow", scaled(BASE_P50, 1.5)), samples_of("tools/same", BASE_P50),
        samples_of("tools/few", BASE_P50[:2]),
    )  # fmt: skip
    return compare_samples(base, cand, CompareOptions())


def test_junit_xml_is_well_formed_with_one_case_per_test() -> None:
    root = ET.fromstring(junit_xml(mixed_comparison()))
    suite = root.find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["tools/slow", "tools/same", "tools/few", "tools/gone"]
    assert cases["tools/slow"].find("failure") is not None
    assert cases["tools/gone"].find("failure").get("type") == "failed"  # type: ignore[union-attr]
    assert cases["tools/few"].find("skipped") is not None
    assert cases["tools/same"].find("failure") is None
    assert cases["tools/same"].find("skipped") is None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == (
        "4",
        "2",
        "1",
    )


def test_github_annotations_only_inside_github_actions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    comparison = mixed_comparison()
    summary_file = tmp_path / "step-summary.md"
    summary_file.write_text("earlier step\n")
    report_to_github(comparison, {"GITHUB_STEP_SUMMARY": str(summary_file)})
    assert capsys.readouterr().out == ""
    assert summary_file.read_text() == "earlier step\n"
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary_file)}
    report_to_github(comparison, environ)
    lines = capsys.readouterr().out.splitlines()
    assert "::error title=regression%3A tools/slow::p50 -50.0%" in lines[0]
    assert any(
        line.startswith("::error title=failed%3A tools/gone::missing") for line in lines
    )
    assert any(
        line.startswith("::warning title=inconclusive%3A tools/few::") for line in lines
    )
    text = summary_file.read_text()
    assert text.startswith("earlier step\n## :x: Performance: failed")
    assert "| `tools/slow` | regression |" in text


def test_annotation_text_is_escaped() -> None:
    comparison = mixed_comparison()
    comparison.tests[3].notes = ["50% worse\nsecond line"]
    line = next(x for x in github_annotations(comparison) if "tools/gone" in x)
    assert line.endswith("::50%25 worse%0Asecond line")


def test_markdown_lists_slo_breaches_and_environment() -> None:
    comparison = mixed_comparison()
    comparison.environment_differences = ["logical_cores: 2 -> 8"]
    comparison.tests[1].slo_breaches = [
        "tools/same: p95_ms 30 breaks <= 25 (slos.tools/*)"
    ]
    text = markdown_summary(comparison)
    assert "**Environment differs:** logical_cores: 2 -> 8" in text
    assert "- tools/same: p95_ms 30 breaks <= 25" in text


def test_comparison_json_is_written_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    comparison = mixed_comparison()
    target = tmp_path / "comparison.json"
    target.write_text('{"old": true}\n')

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_outputs(tmp_path, comparison)
    assert target.read_text() == '{"old": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comparison.json"]
    monkeypatch.undo()
    write_outputs(tmp_path, comparison)
    assert json.loads(target.read_text())["verdict"] == "failed"
    ET.parse(tmp_path / "comparison.junit.xml")


def backends_runs(
    tmp_path: Path, factor: float, dataset: str = ""
) -> tuple[Path, Path]:
    tests = {f"database/op_{i}": scaled(BASE_P50, 1 + i / 10) for i in range(4)}
    base_doc, cand_doc = (
        summary_doc(tests),
        summary_doc({k: scaled(v, factor) for k, v in tests.items()}),
    )
    for doc, backend in ((base_doc, "sqlite"), (cand_doc, "postgresql")):
        doc["settings"] |= {"db_backend": backend, "dataset": dataset}
    return write_run(tmp_path / "base", base_doc), write_run(
        tmp_path / "cand", cand_doc
    )


@pytest.mark.parametrize(
    ("factor", "advice"),
    [
        (2.0, "sqlite serves one gateway process faster at this data size"),
        (0.5, "postgresql is faster already at this data size: use it"),
        (1.0, "no clear winner at this data size"),
    ],
)
def test_an_ab_of_two_databases_says_which_to_use(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, factor: float, advice: str
) -> None:
    base, cand = backends_runs(tmp_path, factor, "small")
    # as run-configurable.sh judges an A/B: past the difference it was made to measure
    run_cli(capsys, str(cand), "--against", str(base), "--force")
    [note] = json.loads((cand / "comparison.json").read_text())["notes"]
    assert note.startswith(
        f"postgresql against sqlite on the `small` dataset: p50 {factor:.2f}x sqlite's "
        "(median of 4 tests"
    )
    assert f"Recommendation: {advice}" in note
    assert (
        "several gateway workers or hosts sharing one database need PostgreSQL" in note
    )


def test_an_ab_on_one_database_has_no_backend_note(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base, cand = two_runs(tmp_path, 2.0)
    run_cli(capsys, str(cand), "--against", str(base))
    assert json.loads((cand / "comparison.json").read_text())["notes"] == []
    base, cand = backends_runs(tmp_path / "empty", 2.0)
    rc, out, _ = run_cli(capsys, str(cand), "--against", str(base), "--force")
    assert rc == 1 and "note: postgresql against sqlite on an empty database" in out
