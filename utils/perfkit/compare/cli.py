"""`perfkit compare RUN_DIR (--baseline FILE | --against RUN_DIR | --no-baseline)`: the verdict.

Compares the run's per-round samples with a baseline file (perfkit.baseline.manager) or another run,
checks the absolute SLOs of config.yaml, writes RUN_DIR/comparison.json and
RUN_DIR/comparison.junit.xml atomically, prints the table, and under GitHub Actions
(GITHUB_ACTIONS=true) prints annotations and appends a Markdown summary to
$GITHUB_STEP_SUMMARY. Exit 1 on any critical regression, failed or missing test, rising error
rate or SLO breach (--strict: also on inconclusive), else 0. Method: docs/verdicts.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from perfkit.atomic import write_json_atomic, write_text_atomic
from perfkit.compare.drift import History
from perfkit.compare.engine import check_run_slos, compare_samples
from perfkit.compare.model import (
    JUNIT_FILE,
    CompareOptions,
    Comparison,
    comparison_path,
)
from perfkit.compare.output import (
    github_annotations,
    junit_xml,
    markdown_summary,
    render_text,
)
from perfkit.config import ArgumentParser, Settings, load_settings, parse_overrides
from perfkit.names import KIT_ROOT
from perfkit.results.samples import SampleSet, from_summary, select_tests
from perfkit.results.summary import Summary, load_summary


def options_from_settings(
    settings: Settings, force: bool = False, strict: bool = False
) -> CompareOptions:
    return CompareOptions(
        thresholds=settings.regression_thresholds(),
        critical_metrics=settings.critical_metrics,
        metrics=settings.metrics,
        improvement_threshold=settings.improvement_threshold,
        alpha=settings.alpha,
        size_gate_factor=settings.size_gate_factor,
        min_rounds=settings.min_rounds,
        error_rate_tolerance=settings.error_rate_tolerance,
        drift_bound=settings.drift_bound,
        history_jobs=settings.history_jobs,
        force=force,
        strict=strict,
        slos=settings.slos,
    )


def run_samples(run_dir: Path) -> tuple[SampleSet, Summary]:
    summary = load_summary(run_dir)
    return from_summary(summary, str(run_dir)), summary


def stored_baseline(path: Path, window: int) -> tuple[SampleSet, History]:
    """A baseline file's samples (refused if unreadable, by perfkit.baseline.file) and its
    run-to-run history: the medians of earlier jobs (perfkit.baseline.jobs)."""
    from perfkit.baseline.file import load_baseline, name_from_path
    from perfkit.baseline.jobs import drift_history, history_jobs, load_jobs
    from perfkit.baseline.store import history_dir

    baseline = load_baseline(path)
    jobs = load_jobs(history_dir(path.parent, name_from_path(path)))
    kept = history_jobs(jobs, baseline, window)
    return baseline.samples, drift_history(kept, baseline.created_at)


def compare_runs(
    candidate: SampleSet,
    baseline: SampleSet | None,
    options: CompareOptions,
    history: History | None = None,
) -> Comparison:
    """Against a baseline (a stored one with its `history`), or (None) the SLOs and failed
    tests only."""
    if baseline is None:
        return check_run_slos(candidate, options)
    return compare_samples(baseline, candidate, options, history)


def write_outputs(run_dir: Path, comparison: Comparison) -> None:
    write_json_atomic(comparison_path(run_dir), comparison.to_dict())
    write_text_atomic(run_dir / JUNIT_FILE, junit_xml(comparison))


def report_to_github(comparison: Comparison, environ: Mapping[str, str]) -> None:
    """Annotations on stdout and the step summary, only inside GitHub Actions."""
    if environ.get("GITHUB_ACTIONS") != "true":
        return
    for line in github_annotations(comparison):
        print(line)
    summary_file = environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as stream:
            stream.write(markdown_summary(comparison))


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="perfkit compare", description=__doc__)
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--baseline", type=Path, metavar="FILE", help="baseline file")
    source.add_argument("--against", type=Path, metavar="RUN_DIR", help="another run")
    source.add_argument(
        "--no-baseline", action="store_true", help="check SLOs and failed tests only"
    )
    parser.add_argument(
        "--force", action="store_true", help="judge across environments"
    )
    parser.add_argument("--strict", action="store_true", help="inconclusive fails too")
    parser.add_argument("--quiet", action="store_true", help="no table, verdict only")
    parser.add_argument("--kit-root", type=Path, default=KIT_ROOT)
    parser.add_argument("--profile", help="settings profile (default: the run's)")
    parser.add_argument("--config", type=Path, help="default: KIT_ROOT/config.yaml")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    return parser


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    candidate, summary = run_samples(args.run_dir)
    profile = args.profile or summary.profile
    settings = load_settings(
        args.kit_root, profile, parse_overrides(args.set), os.environ, args.config
    )
    options = options_from_settings(settings, args.force, args.strict)
    baseline, history, base_summary = None, None, None
    if args.baseline:
        baseline, history = stored_baseline(args.baseline, options.history_jobs)
    elif args.against:
        baseline, base_summary = run_samples(args.against)
    # a run of some tests (--tests) is held against the baseline's same tests only
    globs = [str(g) for g in summary.settings.get("tests") or []]
    left_out = 0
    if baseline is not None and globs:
        chosen = select_tests(baseline, globs)
        left_out = len(baseline.tests) - len(chosen.tests)
        baseline = chosen
    comparison = compare_runs(candidate, baseline, options, history)
    if left_out:
        comparison.notes.append(
            f"--tests {','.join(globs)}: {left_out} test(s) of the baseline not run, not judged"
        )
    if summary.status != "complete":
        comparison.notes.append(f"the candidate run is {summary.status!r}")
    if base_summary is not None:  # an A/B of two databases says which to use
        from perfkit.compare.backends import backends_note

        note = backends_note(base_summary, summary, comparison)
        comparison.notes += [note] if note else []
    write_outputs(args.run_dir, comparison)
    print(render_text(comparison, table=not args.quiet))
    report_to_github(comparison, os.environ)
    if not args.quiet:
        print(
            f"perfkit compare: wrote {comparison_path(args.run_dir)}", file=sys.stderr
        )
    return comparison.exit_code
