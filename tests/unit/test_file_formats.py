"""One owner per file format, one rule: every loader refuses a file of a schema version this kit
does not read with exit 2, naming the file, its version and the versions it reads - and the
commands that read those files stop with that message."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from compare_data import comparison_doc, full_summary
from perfkit.baseline.file import load_baseline
from perfkit.baseline.jobs import load_jobs
from perfkit.baseline.promotion import load_pending
from perfkit.benchtoken import load_ledger
from perfkit.calibration.rates import load_result
from perfkit.cli import main
from perfkit.compare.model import load_comparison
from perfkit.coverage.report import load_coverage
from perfkit.dataset.cli import load_report
from perfkit.exitcodes import KitError
from perfkit.gateway.record import load_record
from perfkit.jsonfile import UnknownVersion
from perfkit.migration import load as load_migration
from perfkit.monitor.sampler import load_samples
from perfkit.results.database import load_snapshot
from perfkit.results.dbpool import load as load_pool
from perfkit.results.dbqueries import load_plans
from perfkit.results.run import load_run
from perfkit.results.run_all import read_runs
from perfkit.results.summary import load_summary
from perfkit.scale.points import load as load_points
from perfkit.tune.sweep import load_tune

PACKAGE = Path(__file__).resolve().parents[2] / "utils" / "perfkit"
FUTURE = 999


def write(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) + ("\n" if path.suffix == ".jsonl" else ""))
    return path


# loader, the file it reads (relative to tmp_path), how to call the loader on tmp_path
LOADERS: dict[str, tuple[str, Callable[[Path], Any]]] = {
    "summary.json": ("run/summary.json", lambda d: load_summary(d / "run")),
    "comparison.json": ("run/comparison.json", lambda d: load_comparison(d / "run")),
    "run.json": ("run/run.json", lambda d: load_run(d / "run")),
    "resources.jsonl": ("run/resources.jsonl", lambda d: load_samples(d / "run")),
    "runs.json": ("all/runs.json", lambda d: read_runs(d / "all")),
    "database-before.json": (
        "run/database-before.json",
        lambda d: load_snapshot(d / "run" / "database-before.json"),
    ),
    "advanced.json": ("adv/advanced.json", lambda d: load_points(d / "adv")),
    "gateway.json": (
        "stack/gateway.json",
        lambda d: load_record(d / "stack" / "gateway.json"),
    ),
    "baseline": (
        "baselines/baseline_smoke.json",
        lambda d: load_baseline(d / "baselines" / "baseline_smoke.json"),
    ),
    "jobs.jsonl": (
        "baselines/history/smoke/jobs.jsonl",
        lambda d: load_jobs(d / "baselines" / "history" / "smoke"),
    ),
    "pending.json": (
        "baselines/history/smoke/pending.json",
        lambda d: load_pending(d / "baselines", "smoke"),
    ),
    "calibration result": (
        "calibration/jobs.json",
        lambda d: load_result(d / "calibration" / "jobs.json"),
    ),
    "database-plans.json": (
        "run/database-plans.json",
        lambda d: load_plans(d / "run"),
    ),
    "database-pool.json": (
        "run/database-pool.json",
        lambda d: load_pool(d / "run"),
    ),
    "migration measurement": (
        "migration/small.json",
        lambda d: load_migration(d / "migration" / "small.json"),
    ),
    "coverage.json": (
        "run/coverage.json",
        lambda d: load_coverage(d / "run"),
    ),
    "populate report.json": (
        "populate/report.json",
        lambda d: load_report(d / "populate" / "report.json"),
    ),
    "tune.json": ("tune/tune.json", lambda d: load_tune(d / "tune")),
    "bench-tokens.json": (
        "auth/bench-tokens.json",
        lambda d: load_ledger(d / "auth" / "bench-tokens.json"),
    ),
}

# files that say what they are before their version
KINDS = {"baseline": "perfkit-baseline", "pending.json": "perfkit-baseline-pending"}


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_every_loader_refuses_a_newer_version(tmp_path: Path, name: str) -> None:
    relative, load = LOADERS[name]
    path = write(
        tmp_path / relative, {"schema_version": FUTURE, "kind": KINDS.get(name)}
    )
    with pytest.raises(KitError) as raised:
        load(tmp_path)
    message = str(raised.value)
    assert raised.value.code == 2
    assert isinstance(raised.value, UnknownVersion)
    assert str(path) in message
    assert f"schema_version {FUTURE} unknown (written by a newer kit" in message
    assert "this kit reads version 1" in message


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_every_loader_refuses_a_missing_version(tmp_path: Path, name: str) -> None:
    relative, load = LOADERS[name]
    write(tmp_path / relative, {"kind": KINDS.get(name)})
    with pytest.raises(
        UnknownVersion, match="schema_version None unknown; this kit reads"
    ):
        load(tmp_path)


def test_every_owner_module_is_tested_here() -> None:
    """A new file owner (a module keeping READABLE_VERSIONS) must join LOADERS above."""
    owners = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"^READABLE_VERSIONS = ", path.read_text(), re.MULTILINE)
    )
    assert owners == [
        "baseline/file.py",
        "baseline/jobs.py",
        "benchtoken.py",
        "calibration/rates.py",
        "compare/model.py",
        "coverage/report.py",
        "dataset/cli.py",
        "gateway/record.py",
        "migration.py",
        "monitor/sampler.py",
        "results/database.py",
        "results/dbpool.py",
        "results/dbqueries.py",
        "results/run.py",
        "results/run_all.py",
        "results/summary.py",
        "scale/points.py",
        "tune/sweep.py",
    ]  # fmt: skip  (pending.json checks its one version as PENDING_VERSION)


def test_the_file_names_have_one_owner_each() -> None:
    """The names of the run's main files are written as literals in their owner alone."""
    for literal, owner in (
        ('"summary.json"', "results/summary.py"),
        ('"comparison.json"', "compare/model.py"),
        ('"resources.jsonl"', "monitor/sampler.py"),
        ('"run.json"', "results/run.py"),
        ('"runs.json"', "results/run_all.py"),
        ('"advanced.json"', "scale/points.py"),
        ('"gateway.json"', "gateway/record.py"),
    ):
        holders = sorted(
            str(path.relative_to(PACKAGE))
            for path in PACKAGE.rglob("*.py")
            if literal in path.read_text()
        )
        assert holders == [owner], literal


def test_commands_stop_on_a_newer_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    write(run / "summary.json", full_summary() | {"schema_version": FUTURE})
    other = tmp_path / "other"
    write(other / "summary.json", full_summary())
    for argv in (
        ["report", str(run)],
        ["compare", str(run), "--against", str(other)],
        ["compare", str(other), "--against", str(run)],
        ["baseline", "save", str(run), "--dir", str(tmp_path / "baselines")],
        ["report-compare", str(other), str(run)],
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert f"{run / 'summary.json'}: schema_version {FUTURE} unknown" in err, argv


def test_the_report_stops_on_a_newer_comparison(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    write(run / "summary.json", full_summary())
    write(
        run / "comparison.json",
        comparison_doc("unchanged") | {"schema_version": FUTURE},
    )
    assert main(["report", str(run)]) == 2
    assert f"schema_version {FUTURE} unknown" in capsys.readouterr().err
    assert not (run / "report.html").exists()
