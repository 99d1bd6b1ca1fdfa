"""A baseline's run-to-run history: baselines/history/<name>/jobs.jsonl, one line per job - the
baseline's own run whenever a baseline is installed (save, accept, promotion, rollback), and
every run compared with it afterwards (`perfkit baseline record`) - holding each test's median
per metric. It is what a stored-baseline verdict needs beside the run's own rounds: how much
the median of an unchanged job moves from one job to the next on this machine
(perfkit.compare.drift; docs/verdicts.md, "Across jobs"). This module owns the file: its name,
its schema versions and its loader. Append-only; a line torn by a kill is skipped.

Schema versions of a jobs.jsonl line:
  1 - at, run, epoch (the created_at of the baseline the job belongs to), role (baseline |
      compared), verdict (the comparison's run verdict; null for a baseline), fingerprint,
      medians (test id -> metric -> median over the job's rounds)
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfkit.baseline.file import Baseline, aggregates_of
from perfkit.clock import now_iso
from perfkit.jsonfile import check_version
from perfkit.results.samples import SampleSet, fingerprint_differences

if TYPE_CHECKING:  # perfkit.compare.drift loads scipy: only the verdicts need it
    from perfkit.compare.drift import History

JOBS_FILE = "jobs.jsonl"
SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)
ROLES = ("baseline", "compared")
# a compared job with one of these run verdicts is not a sample of "nothing changed"
NOT_HISTORY = ("regression", "failed", "slo_breach")


@dataclass(frozen=True)
class Job:
    at: str
    run: str
    epoch: str
    role: str
    verdict: str | None
    fingerprint: dict[str, Any]
    medians: dict[str, dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, **asdict(self)}


def jobs_path(folder: Path) -> Path:
    """`folder`: the baseline's history folder (perfkit.baseline.store.history_dir)."""
    return folder / JOBS_FILE


def baseline_job(baseline: Baseline) -> Job:
    """The job a baseline was made from (its aggregates are its tests' medians)."""
    return Job(
        at=baseline.created_at,
        run=baseline.source.run_dir,
        epoch=baseline.created_at,
        role="baseline",
        verdict=None,
        fingerprint=baseline.fingerprint,
        medians={t: dict(m) for t, m in baseline.aggregates.items()},
    )


def compared_job(samples: SampleSet, run: str, epoch: str, verdict: str) -> Job:
    medians = {t: m for t, m in aggregates_of(samples).items() if m}
    return Job(now_iso(), run, epoch, "compared", verdict, samples.fingerprint, medians)


def append_job(folder: Path, job: Job) -> None:
    """One line, written in one call and synced (two jobs may finish together)."""
    path = jobs_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(job.to_dict(), ensure_ascii=False, sort_keys=True) + "\n"
    with path.open("a", encoding="utf-8") as stream:
        stream.write(line)
        stream.flush()
        os.fsync(stream.fileno())


def _job(data: dict[str, Any]) -> Job:
    return Job(
        at=str(data["at"]),
        run=str(data["run"]),
        epoch=str(data["epoch"]),
        role=str(data["role"]),
        verdict=data.get("verdict"),
        fingerprint=dict(data["fingerprint"]),
        medians={
            str(t): {str(m): float(v) for m, v in metrics.items()}
            for t, metrics in data["medians"].items()
        },
    )


def load_jobs(folder: Path) -> list[Job]:
    """Every readable job, oldest first; a torn or malformed line is skipped, a line of a
    schema version this kit does not read is refused (exit 2)."""
    path = jobs_path(folder)
    if not path.is_file():
        return []
    jobs = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        check_version(path, data, READABLE_VERSIONS)
        try:
            jobs.append(_job(data))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return jobs


def history_jobs(jobs: list[Job], baseline: Baseline, window: int) -> list[Job]:
    """The jobs that show how an unchanged job moves: like-for-like with the baseline
    (no fingerprint difference), not judged a regression or failure, one baseline line per
    epoch, the newest `window` of them - and the current baseline's own job always."""
    current = baseline_job(baseline)
    kept, epochs_seen = [], {current.epoch}
    for job in jobs:
        if job.role == "baseline":
            if job.epoch in epochs_seen:
                continue
            epochs_seen.add(job.epoch)
        elif job.verdict in NOT_HISTORY:
            continue
        if fingerprint_differences(baseline.fingerprint, job.fingerprint):
            continue
        kept.append(job)
    return [current, *kept[-max(window - 1, 0) :]] if window > 0 else [current]


def drift_history(jobs: list[Job], epoch: str) -> History:
    """The history as perfkit.compare.drift reads it: test -> metric -> (epoch, median)."""
    from perfkit.compare.drift import History

    medians: dict[str, dict[str, list[tuple[str, float]]]] = {}
    for job in jobs:
        for test_id, metrics in job.medians.items():
            for metric, value in metrics.items():
                medians.setdefault(test_id, {}).setdefault(metric, []).append(
                    (job.epoch, value)
                )
    return History(epoch, medians)
