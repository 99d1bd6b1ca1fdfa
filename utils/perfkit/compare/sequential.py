"""`perfkit settled RUN_DIR --test ID --rounds K --max-rounds N (--against RUN_DIR | --baseline
FILE)`: when a test's rounds may stop - a futility-only group-sequential rule (docs/verdicts.md,
"Stopping early"); the runner asks after each round when `performance.sequential` is on.

A test of K rounds (per side) is looked at after rounds min_rounds..K-1. At a look it is
*settled* when, for every critical metric, the distribution-free interval of the change
(Hodges-Lehmann/Moses, the comparison's own) lies wholly above -size gate: no slowdown as big as
the one a regression needs is left in it (a gate asks only that; a faster test settles too). A
settled test measures no more rounds; its verdict is then computed the usual way on the rounds
it has.

Why the error rates hold:
- False alarms: a regression needs p <= alpha and a slowdown of at least the size gate; a test
  is stopped only when its interval rules such a slowdown out, and a test that is not stopped
  runs every round and is judged exactly as without looks. Stopping for futility cannot add a
  false alarm.
- Detection: a test whose true change is at the size gate or beyond is stopped at a look only
  if that look's interval missed its true change on that side: probability at most the look's
  one-sided error. The looks share `beta` (the chance of stopping such a test over all looks,
  by the union bound) equally; the earliest looks whose rounds cannot reach their share (3
  rounds a side give no interval with less than 5% error on a side) are not taken.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from perfkit.compare.cli import options_from_settings
from perfkit.compare.model import TESTED, CompareOptions
from perfkit.compare.verdict import change_interval, u_null_cdf
from perfkit.config import ArgumentParser, load_settings
from perfkit.names import JUDGED_METRICS, KIT_ROOT
from perfkit.results.run import load_run
from perfkit.results.samples import TestSamples
from perfkit.results.summarize import rounds_so_far

BETA = 0.10  # the chance, over all looks, of stopping a test whose change is at the size gate
NOT_SETTLED = 1


@dataclass(frozen=True)
class Look:
    rounds: int  # rounds per side at this look
    tail: float  # the one-sided error this look may spend


def looks(min_rounds: int, max_rounds: int, beta: float = BETA) -> list[Look]:
    """The looks a test of max_rounds rounds gets, sharing beta equally: after rounds
    min_rounds..max_rounds-1, less the earliest ones whose rounds cannot make an interval
    within the share (leaving one out raises the others' share)."""
    candidates = list(range(max(min_rounds, 2), max_rounds))
    while candidates and smallest_tail(candidates[0]) > beta / len(candidates) + 1e-12:
        candidates.pop(0)
    return [Look(k, beta / len(candidates)) for k in candidates]


def smallest_tail(rounds: int) -> float:
    """The smallest one-sided error an interval of `rounds` against `rounds` can have."""
    if rounds * rounds > 400:
        return 0.0
    return u_null_cdf(rounds, rounds)[0]


def settled(
    base: TestSamples, cand: TestSamples, options: CompareOptions, tail: float
) -> bool:
    """True when no critical metric's interval (error `tail` on its slower side) reaches
    down to its size gate: more rounds could not make this test a regression, bar that error."""
    metrics = [m for m in options.critical_metrics if m in TESTED]
    if not metrics or cand.status != "ok" or base.status != "ok":
        return False
    for metric in metrics:
        base_rounds, cand_rounds = base.rounds.get(metric), cand.rounds.get(metric)
        if not base_rounds or not cand_rounds:
            return False
        found = change_interval(base_rounds, cand_rounds, JUDGED_METRICS[metric], tail)
        if found is None or found[0][0] <= -options.gates(metric).size_gate:
            return False
    return True


def first_rounds(samples: TestSamples, rounds: int) -> TestSamples:
    """The test as it stood after its first `rounds` rounds."""
    return TestSamples(
        id=samples.id,
        status=samples.status,
        reason=samples.reason,
        error_rate=samples.error_rate,
        rounds={metric: values[:rounds] for metric, values in samples.rounds.items()},
    )


def stop_at(
    base: TestSamples, cand: TestSamples, options: CompareOptions, max_rounds: int
) -> int:
    """The rounds the test would have measured under the rule: the first settled look, else
    max_rounds."""
    for look in looks(options.min_rounds, max_rounds):
        if settled(
            first_rounds(base, look.rounds),
            first_rounds(cand, look.rounds),
            options,
            look.tail,
        ):
            return look.rounds
    return max_rounds


# --- `perfkit settled`: a look while the run goes on --------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="perfkit settled",
        description="Exit 0 when a test's rounds so far settle it (its rounds may stop), "
        "1 when not, or when this round is no look; 2 on bad input.",
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--test", required=True, metavar="ID")
    parser.add_argument("--rounds", type=int, required=True, help="rounds measured")
    parser.add_argument("--max-rounds", type=int, required=True, help="rounds planned")
    against = parser.add_mutually_exclusive_group(required=True)
    against.add_argument(
        "--against", type=Path, metavar="RUN_DIR", help="the A/B's base"
    )
    against.add_argument(
        "--baseline", type=Path, metavar="FILE", help="stored baseline"
    )
    return parser


def baseline_test(args: argparse.Namespace) -> TestSamples | None:
    if args.against is not None:
        return rounds_so_far(args.against, args.test)
    from perfkit.baseline.file import load_baseline

    return load_baseline(args.baseline).samples.tests.get(args.test)


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    profile = str(load_run(args.run_dir).get("profile") or "")
    options = options_from_settings(load_settings(KIT_ROOT, profile, {}, os.environ))
    look = next(
        (
            x
            for x in looks(options.min_rounds, args.max_rounds)
            if x.rounds == args.rounds
        ),
        None,
    )
    if look is None:
        return NOT_SETTLED
    cand = rounds_so_far(args.run_dir, args.test)
    base = baseline_test(args)
    if base is None or min(base.n(), cand.n()) < look.rounds:
        return NOT_SETTLED
    base = first_rounds(base, look.rounds) if args.against else base
    if not settled(base, first_rounds(cand, look.rounds), options, look.tail):
        return NOT_SETTLED
    print(f"settled after {look.rounds} of {args.max_rounds} rounds")
    return 0
