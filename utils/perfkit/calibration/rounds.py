"""Verdict quality against time, from the A/B jobs of a cross-job calibration.

An A/B job's rounds alternate base and candidate, so its first k rounds are an A/B of k rounds:
judging every job again on its first k rounds (k = min_rounds..all) shows what fewer rounds would
have cost in false alarms and detection and saved in time, without running anything again. The
same replay applies the stopping rule of perfkit.compare.sequential - each test measures rounds
until the rule calls it settled - and reports the time it saves and the rates it keeps.

Time is the measured time of the rounds a job would have run (both sides' hey wall time of
each round, from summary.json), as a share of all its rounds' time; warm-up, probes and the
stack's start are left out, so the job's whole wall time shrinks by less.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfkit.calibration.rates import rate_text, wilson_interval
from perfkit.compare.cli import options_from_settings
from perfkit.compare.engine import compare_samples
from perfkit.compare.model import CompareOptions
from perfkit.compare.sequential import BETA, first_rounds, looks, stop_at
from perfkit.config import load_settings
from perfkit.exitcodes import KitError
from perfkit.names import KIT_ROOT
from perfkit.results.samples import SampleSet, TestSamples, from_summary
from perfkit.results.summary import load_summary

SEQUENTIAL = "sequential"


@dataclass
class Replayed:
    kind: str
    job: int
    plan: str  # "<k> rounds" or "sequential"
    verdict: str
    tests: dict[str, int]
    time_share: float  # of the job's measured round time
    looks: list[tuple[int, float]] | None = (
        None  # sequential: (rounds, one-sided error)
    )


def sides(candidate_dir: Path) -> tuple[SampleSet, SampleSet] | None:
    """(base, candidate) samples of an A/B job whose judged run is its candidate side."""
    base_dir = candidate_dir.parent / "base"
    try:
        cand, base = load_summary(candidate_dir), load_summary(base_dir)
    except KitError:
        return None
    return from_summary(base, str(base_dir)), from_summary(cand, str(candidate_dir))


def options_for(profile: str) -> CompareOptions:
    # an A/B is judged past its sides' differing gateway builds or settings, as compare-versions does
    settings = load_settings(KIT_ROOT, profile, {}, os.environ)
    return options_from_settings(settings, force=True)


def truncated(samples: SampleSet, rounds: dict[str, int]) -> SampleSet:
    """Each test as it stood after its `rounds[test]` first rounds (all, when not listed)."""
    return SampleSet(
        samples.source,
        samples.profile,
        samples.fingerprint,
        {
            tid: first_rounds(t, rounds.get(tid, t.n()))
            for tid, t in samples.tests.items()
        },
    )


def round_time(test: TestSamples, rounds: int) -> float:
    return sum(test.rounds.get("total_time", [])[:rounds])


def time_share(base: SampleSet, cand: SampleSet, rounds: dict[str, int]) -> float:
    used = total = 0.0
    for side in (base, cand):
        for tid, test in side.tests.items():
            used += round_time(test, rounds.get(tid, test.n()))
            total += round_time(test, test.n())
    return used / total if total else 1.0


def replay_job(kind: str, job: int, run: Path) -> list[Replayed]:
    found = sides(run)
    if found is None:
        return []
    base, cand = found
    options = options_for(cand.profile)
    most = min((t.n() for t in cand.tests.values() if t.n()), default=0)
    plans = [
        (f"{k} rounds", dict.fromkeys(cand.tests, k))
        for k in range(options.min_rounds, most + 1)
    ]
    stops = {
        tid: stop_at(base.tests[tid], t, options, most) if tid in base.tests else most
        for tid, t in cand.tests.items()
    }
    plans.append((SEQUENTIAL, stops))
    replayed = []
    for plan, rounds in plans:
        comparison = compare_samples(
            truncated(base, rounds), truncated(cand, rounds), options
        )
        counts: dict[str, int] = {}
        for test in comparison.tests:
            counts[test.verdict] = counts.get(test.verdict, 0) + 1
        replayed.append(
            Replayed(kind, job, plan, comparison.verdict, counts,
                     time_share(base, cand, rounds))
        )  # fmt: skip
    replayed[-1].looks = [
        (look.rounds, look.tail) for look in looks(options.min_rounds, most)
    ]
    return replayed


def replay(trials: list[Any]) -> list[Replayed]:
    """Every A/B trial with a run folder still on disk, judged again under each plan."""
    found: list[Replayed] = []
    for trial in trials:
        if trial.mode == "ab" and trial.run and trial.verdict != "error":
            found += replay_job(trial.kind, trial.job, Path(trial.run))
    return found


def summarize(replayed: list[Replayed]) -> list[dict[str, Any]]:
    rows = []
    for kind, plan in dict.fromkeys((r.kind, r.plan) for r in replayed):
        group = [r for r in replayed if (r.kind, r.plan) == (kind, plan)]
        reported = sum(r.verdict == "regression" for r in group)
        shares = [
            r.tests.get("unchanged", 0) / sum(r.tests.values())
            for r in group
            if r.tests
        ]
        rows.append(
            {
                "kind": kind,
                "plan": plan,
                "jobs": len(group),
                "reported": reported,
                "rate": reported / len(group),
                "ci95": wilson_interval(reported, len(group)),
                "unchanged_share": statistics.mean(shares) if shares else None,
                "time_share": statistics.mean(r.time_share for r in group),
                "looks": group[0].looks,
            }
        )
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    plan_note = ""
    marks = next((r["looks"] for r in rows if r["plan"] == SEQUENTIAL), None)
    if marks is not None:
        listed = ", ".join(f"{k} ({tail:.3f})" for k, tail in marks) or "none"
        plan_note = (
            f"\nsequential: a test stops at the first look where its interval rules out a "
            f"slowdown of the size gate; looks after rounds (one-sided error): {listed}; "
            f"beta {BETA}"
        )
    width = max([len(r["kind"]) for r in rows] + [4]) + 2
    head = (
        f"{'kind':<{width}}{'plan':<12}{'jobs':>5}{'regressions':>13}{'rate':>17}"
        f"{'95% CI':>12}{'tests unchanged':>17}{'round time':>12}"
    )
    lines = [
        "the A/B jobs judged again on fewer rounds (replayed from their own rounds)",
        head,
    ]
    for r in rows:
        name = "false alarm" if r["kind"] == "aa" else "detected"
        ci = f"{rate_text(r['ci95'][0])}-{rate_text(r['ci95'][1])}"
        lines.append(
            f"{r['kind']:<{width}}{r['plan']:<12}{r['jobs']:>5}{r['reported']:>13}"
            f"{rate_text(r['rate']) + ' ' + name:>17}{ci:>12}"
            f"{rate_text(r['unchanged_share']):>17}{rate_text(r['time_share']):>12}"
        )
    return "\n".join(lines) + plan_note
