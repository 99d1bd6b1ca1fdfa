"""`perfkit calibrate plan|record|report`: the computing half of utils/calibrate.sh.

calibrate.sh runs the kit's own detection check against utils/servers/calibrated_server.py: per trial,
run A (base delay) and run B (candidate delay) through ./run-configurable.sh, then
`perfkit compare B --against A`. This module plans the trials, records each trial's verdict from
B/comparison.json, and reports, per pair kind, how often a regression was reported: the
false-alarm rate for A/A pairs, the detection rate for A/B pairs, each with a 95% Wilson interval.

  plan   --kinds aa,10,20,30 --trials N --base-ms 20      TSV lines: kind trial base_ms cand_ms
  record TRIALS.jsonl --kind K --trial N ...              append one trial (reads the run folders)
  report TRIALS.jsonl --output FILE --started-at EPOCH    print the table, write the JSON result
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from perfkit.calibration.rates import rate_text, wilson_interval, write_result
from perfkit.compare.model import COMPARISON_FILE, load_comparison
from perfkit.exitcodes import ExitCode, KitError
from perfkit.results.summary import load_summary

ERROR = "error"  # no usable verdict: a run or the comparison failed


@dataclass(frozen=True)
class Kind:
    name: str  # "aa" or the slowdown in percent ("10")
    slowdown_pct: float

    @property
    def label(self) -> str:
        return "A/A" if self.name == "aa" else f"A/B +{self.slowdown_pct:g}%"

    def candidate_ms(self, base_ms: float) -> float:
        return round(base_ms * (1 + self.slowdown_pct / 100), 3)


@dataclass
class Trial:
    kind: str
    trial: int
    base_ms: float
    candidate_ms: float
    verdict: str  # comparison.json's top-level verdict, or "error"
    compare_exit: int | None
    seconds: float
    p50_a_ms: float | None = None  # median of A's per-round p50s
    p50_b_ms: float | None = None
    note: str | None = None

    @property
    def reported(self) -> bool:
        return self.verdict == "regression"


@dataclass
class KindResult:
    kind: str
    label: str
    base_ms: float
    candidate_ms: float
    trials: int
    reported: int
    errors: int
    rate_name: str  # false_alarm_rate | detection_rate
    rate: float | None
    ci95: tuple[float, float] | None
    verdicts: dict[str, int] = field(default_factory=dict)
    observed_change_pct: float | None = None  # median over trials of B/A - 1 (p50)


def parse_kinds(text: str) -> list[Kind]:
    kinds = []
    for word in (w.strip().lower() for w in text.split(",")):
        if word == "aa":
            kinds.append(Kind("aa", 0.0))
            continue
        try:
            pct = float(word.rstrip("%"))
        except ValueError:
            pct = -1.0
        if not 0 < pct <= 500:
            raise KitError(
                f"--kinds: '{word}' is neither 'aa' nor a slowdown in percent (1..500);"
                " e.g. --kinds aa,10,20,30",
                ExitCode.USAGE,
            )
        kinds.append(Kind(f"{pct:g}", pct))
    if len({k.name for k in kinds}) != len(kinds):
        raise KitError(f"--kinds '{text}' names a kind twice", ExitCode.USAGE)
    return kinds


def median_p50(run_dir: Path) -> float | None:
    """Median of the per-round p50s of the run's first test, or None if it has none."""
    try:
        summary = load_summary(run_dir)
    except KitError:
        return None
    test = summary.tests[0] if summary.tests else None
    values = [r["latency_ms"]["p50"] for r in test.complete_rounds()] if test else []
    return float(statistics.median(values)) if values else None


def read_verdict(run_dir: Path) -> tuple[str, str | None]:
    try:
        comparison = load_comparison(run_dir)
    except KitError as exc:
        return ERROR, f"no verdict: {exc}"
    if comparison is None:
        return ERROR, f"no verdict: no {COMPARISON_FILE} in {run_dir}"
    return comparison.verdict, None


def make_trial(args: argparse.Namespace) -> Trial:
    note = args.note
    verdict = ERROR
    if args.compare_exit is not None and args.run_b:
        verdict, note = read_verdict(Path(args.run_b))
        if args.compare_exit not in (0, 1):
            verdict, note = ERROR, f"compare exited {args.compare_exit}"
        elif (verdict == "regression") != (args.compare_exit == 1):
            note = f"verdict {verdict} but compare exited {args.compare_exit}"
    return Trial(
        kind=args.kind,
        trial=args.trial,
        base_ms=args.base_ms,
        candidate_ms=args.candidate_ms,
        verdict=verdict,
        compare_exit=args.compare_exit,
        seconds=round(time.time() - args.trial_started, 2)
        if args.trial_started
        else 0.0,
        p50_a_ms=median_p50(Path(args.run_a)) if args.run_a else None,
        p50_b_ms=median_p50(Path(args.run_b)) if args.run_b else None,
        note=note,
    )


def load_trials(path: Path) -> list[Trial]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise KitError(
            f"cannot read trials {path}: {exc.strerror}", ExitCode.USAGE
        ) from exc
    return [Trial(**json.loads(line)) for line in lines if line.strip()]


def summarize_kind(kind: Kind, base_ms: float, trials: list[Trial]) -> KindResult:
    done = [t for t in trials if t.verdict != ERROR]
    reported = sum(t.reported for t in done)
    changes = [
        100 * (t.p50_b_ms / t.p50_a_ms - 1)
        for t in done
        if t.p50_a_ms and t.p50_b_ms is not None
    ]
    return KindResult(
        kind=kind.name,
        label=kind.label,
        base_ms=base_ms,
        candidate_ms=kind.candidate_ms(base_ms),
        trials=len(done),
        reported=reported,
        errors=len(trials) - len(done),
        rate_name="false_alarm_rate" if kind.name == "aa" else "detection_rate",
        rate=reported / len(done) if done else None,
        ci95=wilson_interval(reported, len(done)) if done else None,
        verdicts=dict(Counter(t.verdict for t in trials)),
        observed_change_pct=round(statistics.median(changes), 2) if changes else None,
    )


def render(results: list[KindResult], wall_s: float, rounds: int | None) -> str:
    head = f"{'pair':<14}{'trials':>7}{'regressions':>13}{'rate':>17}{'95% CI':>12}"
    lines = [head + f"{'observed p50':>14}  verdicts"]
    for r in results:
        rate = f"{rate_text(r.rate)} {'false alarm' if r.kind == 'aa' else 'detected'}"
        ci = f"{rate_text(r.ci95[0])}-{rate_text(r.ci95[1])}" if r.ci95 else "-"
        seen = (
            "-" if r.observed_change_pct is None else f"{r.observed_change_pct:+.1f}%"
        )
        counts = ", ".join(f"{k} {v}" for k, v in sorted(r.verdicts.items()))
        lines.append(
            f"{r.label:<14}{r.trials:>7}{r.reported:>13}{rate:>17}{ci:>12}{seen:>14}  {counts}"
        )
    minutes, seconds = divmod(round(wall_s), 60)
    per = f", {rounds} rounds per run" if rounds else ""
    lines.append(f"\nwall time {minutes}m{seconds:02d}s{per}")
    return "\n".join(lines)


def plan_cli(args: argparse.Namespace) -> int:
    for kind in parse_kinds(args.kinds):
        for trial in range(1, args.trials + 1):
            cand = kind.candidate_ms(args.base_ms)
            print(f"{kind.name}\t{trial}\t{args.base_ms:g}\t{cand:g}")
    return 0


def record_cli(args: argparse.Namespace) -> int:
    trial = make_trial(args)
    with Path(args.trials_file).open("a") as out:
        out.write(json.dumps(asdict(trial)) + "\n")
    if not args.quiet:
        done = len(load_trials(Path(args.trials_file)))
        elapsed = time.time() - args.started_at
        eta = elapsed / done * (args.of - done) if args.of else 0
        label = Kind(trial.kind, 0).label if trial.kind == "aa" else f"+{trial.kind}%"
        print(
            f"calibrate: trial {done}/{args.of} {label} ({trial.base_ms:g} -> "
            f"{trial.candidate_ms:g} ms): {trial.verdict} in {trial.seconds:.1f} s; "
            f"ETA {eta / 60:.1f} min" + (f" [{trial.note}]" if trial.note else ""),
            file=sys.stderr,
        )
    return 0


def report_cli(args: argparse.Namespace) -> int:
    trials = load_trials(Path(args.trials_file))
    kinds = parse_kinds(args.kinds)
    results = [
        summarize_kind(k, args.base_ms, [t for t in trials if t.kind == k.name])
        for k in kinds
    ]
    wall_s = write_result(
        Path(args.output), args.started_at, args.setting,
        [asdict(r) for r in results], [asdict(t) for t in trials],
    )  # fmt: skip
    print(render(results, wall_s, args.rounds))
    print(f"calibrate: wrote {args.output}", file=sys.stderr)
    return int(ExitCode.BENCHMARK_FAILED) if any(r.errors for r in results) else 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="perfkit calibrate")
    sub = parser.add_subparsers(dest="action", required=True)
    plan = sub.add_parser("plan")
    plan.add_argument("--kinds", default="aa,10,20,30")
    plan.add_argument("--trials", type=int, default=10)
    plan.add_argument("--base-ms", type=float, default=20.0)
    record = sub.add_parser("record")
    record.add_argument("trials_file")
    record.add_argument("--kind", required=True)
    record.add_argument("--trial", type=int, required=True)
    record.add_argument("--base-ms", type=float, required=True)
    record.add_argument("--candidate-ms", type=float, required=True)
    record.add_argument("--compare-exit", type=int)
    record.add_argument("--run-a", default="")
    record.add_argument("--run-b", default="")
    record.add_argument("--trial-started", type=float, help="epoch seconds")
    record.add_argument("--note")
    record.add_argument("--of", type=int, default=0)
    record.add_argument("--started-at", type=float, default=time.time())
    record.add_argument("--quiet", action="store_true")
    report = sub.add_parser("report")
    report.add_argument("trials_file")
    report.add_argument("--kinds", default="aa,10,20,30")
    report.add_argument("--base-ms", type=float, default=20.0)
    report.add_argument("--output", required=True)
    report.add_argument("--started-at", type=float, required=True)
    report.add_argument("--rounds", type=int)
    report.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE")
    return parser.parse_args(argv)


def cli(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.action == "plan":
        if args.trials < 1:
            raise KitError(f"--trials {args.trials}: give 1 or more", ExitCode.USAGE)
        return plan_cli(args)
    if args.action == "record":
        return record_cli(args)
    return report_cli(args)
