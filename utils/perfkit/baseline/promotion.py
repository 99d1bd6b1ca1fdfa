"""Promotion: a baseline follows an improvement only once it is sustained.

`record` is called after each comparison against baseline `name`. A run confirms when
its comparison verdict is `improvement`: at least one test improved and no test is a
`regression`, `failed` or `inconclusive`. Confirming runs are kept, with their samples, in
`baselines/history/<name>/pending.json`; any other run ends the streak. After `promote_after`
consecutive confirmations the baseline is rebuilt from them: per test, the samples of the
confirming run whose median p50 is the median among those runs (the slower middle one for an
even count), never the best run. Any change of the baseline clears the streak.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from perfkit.atomic import write_json_atomic
from perfkit.baseline.file import (
    Source,
    build_baseline,
    load_baseline,
    summary_for_baseline,
)
from perfkit.baseline.jobs import append_job, compared_job
from perfkit.baseline.store import (
    PENDING_FILE,
    Change,
    LogEntry,
    baseline_path,
    history_dir,
    install,
    locked,
    run_label,
)
from perfkit.clock import now_iso
from perfkit.compare.model import Comparison
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import check_version, read_object
from perfkit.results.samples import SampleSet, TestSamples, from_summary
from perfkit.results.summary import load_summary

PENDING_KIND = "perfkit-baseline-pending"
PENDING_VERSION = 1  # pending.json: schema_version, kind, name, runs (confirming runs)
DEFAULT_PROMOTE_AFTER = 3
CONFIRMING = "improvement"
BLOCKING = ("regression", "failed", "inconclusive")


@dataclass
class Confirmation:
    run_dir: str
    at: str
    kit_commit: str | None
    started_at: str | None
    samples: SampleSet


@dataclass
class Outcome:
    confirmed: bool
    streak: (
        int  # consecutive confirming runs now pending (0 after a reset or a promotion)
    )
    reset_from: int  # the streak this run ended, if it did not confirm
    promoted: Change | None
    message: str | None  # set on promotion


def confirms(comparison: Comparison) -> bool:
    """An improvement with nothing that casts doubt on it."""
    verdicts = [t.verdict for t in comparison.tests]
    return (
        comparison.verdict == CONFIRMING
        and CONFIRMING in verdicts
        and not any(v in BLOCKING for v in verdicts)
    )


def _pending_path(directory: Path, name: str) -> Path:
    return history_dir(directory, name) / PENDING_FILE


def load_pending(directory: Path, name: str) -> list[Confirmation]:
    """The confirming runs kept so far (history/<name>/pending.json; this module owns it)."""
    path = _pending_path(directory, name)
    if not path.is_file():
        return []
    fix = "delete it to start the improvement streak over"
    data = read_object(path, PENDING_FILE, fix=fix)
    check_version(path, data, (PENDING_VERSION,), fix)
    try:
        if data.get("kind") != PENDING_KIND:
            raise ValueError(f"kind {data.get('kind')!r} is not {PENDING_KIND!r}")
        return [
            Confirmation(
                run_dir=str(run["run_dir"]),
                at=str(run["at"]),
                kit_commit=run.get("kit_commit"),
                started_at=run.get("started_at"),
                samples=SampleSet.from_dict(run["samples"]),
            )
            for run in data["runs"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KitError(f"{path}: unreadable ({exc}); {fix}", ExitCode.USAGE) from None


def _save_pending(directory: Path, name: str, runs: list[Confirmation]) -> None:
    data = {
        "schema_version": PENDING_VERSION,
        "kind": PENDING_KIND,
        "name": name,
        "runs": [
            {
                "run_dir": run.run_dir,
                "at": run.at,
                "kit_commit": run.kit_commit,
                "started_at": run.started_at,
                "samples": run.samples.to_dict(),
            }
            for run in runs
        ],
    }
    write_json_atomic(_pending_path(directory, name), data)


def _median_p50(test: TestSamples) -> float | None:
    values = test.rounds.get("p50") or []
    return statistics.median(values) if values else None


def pick_median_runs(runs: list[Confirmation]) -> tuple[SampleSet, dict[str, str]]:
    """Per test, the samples of the run with the median median-p50; which run each came from."""
    newest = runs[-1].samples
    order = list(newest.tests) + [
        t for run in runs for t in run.samples.tests if t not in newest.tests
    ]
    tests: dict[str, TestSamples] = {}
    picked: dict[str, str] = {}
    for test_id in dict.fromkeys(order):
        measured = [
            (p50, index, run)
            for index, run in enumerate(runs)
            if test_id in run.samples.tests
            and (p50 := _median_p50(run.samples.tests[test_id])) is not None
        ]
        if measured:
            measured.sort(key=lambda item: (item[0], item[1]))
            chosen = measured[len(measured) // 2][2]
        else:  # never measured: keep the newest record of it
            chosen = next(r for r in reversed(runs) if test_id in r.samples.tests)
        tests[test_id] = chosen.samples.tests[test_id]
        picked[test_id] = chosen.run_dir
    samples = SampleSet(newest.source, newest.profile, newest.fingerprint, tests)
    return samples, picked


def promote(directory: Path, name: str, runs: list[Confirmation]) -> Change:
    samples, picked = pick_median_runs(runs)
    labels = [run.run_dir for run in runs]
    newest = runs[-1]
    source = Source(
        run_dir=newest.run_dir,
        kit_commit=newest.kit_commit,
        started_at=newest.started_at,
        how="promotion",
        runs=labels,
        picked=picked,
    )
    baseline = build_baseline(name, samples, source)
    reason = (
        f"improvement sustained over {len(runs)} consecutive runs; "
        "per test the run with the median p50"
    )
    entry = LogEntry(now_iso(), "promotion", newest.run_dir, reason, None, labels)
    return install(directory, name, baseline.to_dict(), entry)


def join_history(
    directory: Path, name: str, folder: Path, run_dir: Path, comparison: Comparison
) -> None:
    """The compared job joins the baseline's run-to-run history (perfkit.baseline.jobs),
    with the verdict it got: later verdicts leave out regressions and failures."""
    path = baseline_path(directory, name)
    if not path.is_file():
        return
    current = load_baseline(path, name)
    samples = from_summary(load_summary(run_dir), run_label(run_dir))
    job = compared_job(
        samples, run_label(run_dir), current.created_at, comparison.verdict
    )
    append_job(folder, job)


def record(
    directory: Path,
    name: str,
    run_dir: Path,
    comparison: Comparison,
    promote_after: int = DEFAULT_PROMOTE_AFTER,
) -> Outcome:
    """Count RUN_DIR towards (or against) promoting baseline `name`, after it joined the
    baseline's run-to-run history."""
    if promote_after < 1:
        raise KitError(
            f"promote_after {promote_after} invalid: at least 1", ExitCode.USAGE
        )
    with locked(directory, name) as folder:
        join_history(directory, name, folder, run_dir, comparison)
        pending = load_pending(directory, name)
        if not confirms(comparison):
            _pending_path(directory, name).unlink(missing_ok=True)
            return Outcome(False, 0, len(pending), None, None)
        label = run_label(run_dir)
        if label not in (run.run_dir for run in pending):  # recording twice counts once
            summary = summary_for_baseline(run_dir)
            pending.append(
                Confirmation(
                    label,
                    now_iso(),
                    summary.environment.get("kit_commit"),
                    summary.started_at,
                    from_summary(summary, label),
                )
            )
        if len(pending) < promote_after:
            _save_pending(directory, name, pending)
            return Outcome(True, len(pending), 0, None, None)
        change = promote(directory, name, pending[-promote_after:])
    archived = change.archived.name if change.archived else "none"
    message = (
        f"promoted {baseline_path(directory, name)} after {promote_after} consecutive "
        f"improving runs ({', '.join(r.run_dir for r in pending[-promote_after:])}): "
        f"per test the run with the median p50; previous kept as {archived}"
    )
    return Outcome(True, 0, 0, change, message)
