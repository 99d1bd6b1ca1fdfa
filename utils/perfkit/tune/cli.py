"""`perfkit tune plan|record|fits|winners|report SWEEP ...`: the tuning advisor's computations
for utils/tune.sh (make tune), on a sweep folder (perfkit.tune.sweep).

  defaults --config FILE
      config.yaml's tune workload (profile, scenarios, tests, budget_minutes), `key<TAB>value`
  plan SWEEP --config FILE --venv DIR --release LABEL --profile P --scenarios S --test-count N
       --rounds N [--tests GLOBS] [--candidate SPEC]... [--budget MINUTES] [--results DIR]
      checks every candidate's names against the release (exit 2 naming one it does not read),
      writes plan.json and settings/<slug>.env, prints `slug<TAB>settings file` a line, and
      on stderr the plan: how long each A/B should take and what fits in the budget
  record SWEEP --slug S --status STATUS --exit N --seconds N [--run DIR] [--log FILE]...
      appends the candidate's line to candidates.jsonl (the logs' tail when it broke)
  fits SWEEP --elapsed SECONDS
      exit 0 when one more A/B fits in the budget (the mean of those measured so far, or the
      plan's guess), 1 when it does not; says so on stderr
  winners SWEEP --output FILE
      writes the better candidates' settings, together, to FILE; exit 0 when there are two or
      more (a combination to measure), 1 when not
  report SWEEP [--partial REASON] [--stack-env FILE] [--env-example FILE]
      tune.json, tune.html and recommended.env; the ranked table on stdout; with --env-example,
      FILE (.env.example) written from the sweep and the stack's settings
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic, write_text_atomic
from perfkit.config import read_yaml
from perfkit.exitcodes import ExitCode, KitError
from perfkit.gateway.release import package_dir, read_release
from perfkit.gateway.settings import settings_text, write_private
from perfkit.tune import candidates as cand
from perfkit.tune import rank, sweep
from perfkit.tune.envfile import env_example, env_fragment
from perfkit.tune.page import render_page
from perfkit.tune.text import minutes_text, render_table

PROG = "perfkit tune"
STATUSES = rank.STATUSES


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="action", required=True)
    defaults = sub.add_parser("defaults", prog=f"{PROG} defaults")
    defaults.add_argument("--config", type=Path, required=True)
    plan = sub.add_parser("plan", prog=f"{PROG} plan")
    plan.add_argument("sweep", type=Path)
    plan.add_argument("--config", type=Path, required=True)
    plan.add_argument("--venv", type=Path, required=True)
    plan.add_argument("--release", required=True)
    plan.add_argument("--profile", required=True)
    plan.add_argument("--scenarios", required=True)
    plan.add_argument("--tests", default="")
    plan.add_argument("--test-count", type=int, required=True)
    plan.add_argument("--rounds", type=int, required=True)
    plan.add_argument("--candidate", action="append", default=[])
    plan.add_argument("--budget", type=float)
    plan.add_argument("--results", type=Path)
    record = sub.add_parser("record", prog=f"{PROG} record")
    record.add_argument("sweep", type=Path)
    record.add_argument("--slug", required=True)
    record.add_argument("--status", choices=STATUSES, required=True)
    record.add_argument("--exit", type=int, required=True)
    record.add_argument("--seconds", type=float, required=True)
    record.add_argument("--run", default="")
    record.add_argument("--log", type=Path, action="append", default=[])
    fits = sub.add_parser("fits", prog=f"{PROG} fits")
    fits.add_argument("sweep", type=Path)
    fits.add_argument("--elapsed", type=float, required=True)
    winners = sub.add_parser("winners", prog=f"{PROG} winners")
    winners.add_argument("sweep", type=Path)
    winners.add_argument("--output", type=Path, required=True)
    report = sub.add_parser("report", prog=f"{PROG} report")
    report.add_argument("sweep", type=Path)
    report.add_argument("--partial", default="")
    report.add_argument("--stack-env", type=Path)
    report.add_argument("--env-example", type=Path)
    return parser.parse_args(argv)


def say(text: str) -> None:
    print(f"tune: {text}", file=sys.stderr)


def do_defaults(args: argparse.Namespace) -> int:
    section = cand.parse_section(
        read_yaml(args.config).get(cand.TUNE_KEY), str(args.config)
    )
    for key in ("profile", "scenarios", "tests", "budget_minutes"):
        value = getattr(section, key)
        if value is not None:
            print(
                f"{key}\t{value:g}" if isinstance(value, float) else f"{key}\t{value}"
            )
    return 0


# --- plan -----------------------------------------------------------------------------------


def do_plan(args: argparse.Namespace) -> int:
    section = cand.parse_section(
        read_yaml(args.config).get(cand.TUNE_KEY), str(args.config)
    )
    if args.candidate:
        chosen = [cand.parse_candidate(s, "--candidate") for s in args.candidate]
    else:
        chosen = [
            cand.parse_candidate(s, f"{args.config} tune.candidates[{i}]")
            for i, s in enumerate(section.candidates)
        ]
    if not chosen:
        raise cand.usage(
            f"no candidates: {args.config} tune.candidates is empty and no --candidate given"
        )
    release = read_release(package_dir(args.venv))
    cand.check_candidates(chosen, release, args.release)
    trade_offs = dict(section.trade_offs)
    workload = {
        "profile": args.profile,
        "scenarios": args.scenarios,
        "tests": args.tests,
        "test_count": args.test_count,
        "rounds": args.rounds,
    }
    earlier = sweep.earlier_seconds(args.results, workload) if args.results else []
    if earlier:
        per_ab = statistics.median(earlier)
        source = f"the median of {len(earlier)} earlier A/B(s) of this workload here"
    else:
        per_ab = cand.estimate_ab_seconds(args.test_count, args.rounds)
        source = (
            f"a first guess: {args.test_count} tests x {args.rounds} rounds x 2 sides x "
            f"{cand.GUESS_ROUND_SECONDS:g} s, and {cand.GUESS_STACK_SECONDS:g} s of stacks; "
            "measured from the first A/B on"
        )
    plan = {
        "release": args.release,
        "workload": workload,
        "budget_minutes": args.budget,
        "estimate_seconds": round(per_ab, 1),
        "estimate_source": source,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "candidates": [
            {
                "label": c.label,
                "slug": c.slug,
                "settings": c.as_dict(),
                "trade_off": cand.trade_off(c, trade_offs),
            }
            for c in chosen
        ],
        "trade_offs": trade_offs,
    }
    args.sweep.mkdir(parents=True, exist_ok=True)
    sweep.write_plan(args.sweep, plan)
    for c in chosen:
        path = args.sweep / sweep.SETTINGS_DIR / f"{c.slug}.env"
        write_private(path, settings_text(c.settings))
        print(f"{c.slug}\t{path}")
    say_plan(plan, len(chosen), per_ab)
    return 0


def say_plan(plan: dict[str, Any], count: int, per_ab: float) -> None:
    workload = plan["workload"]
    total = per_ab * (count + 1)  # and the winners' combination, when there are two
    say(
        f"{count} candidate(s) against the stack's own settings, {workload['profile']} over "
        f"{workload['scenarios']}{' (' + workload['tests'] + ')' if workload['tests'] else ''}: "
        f"{workload['test_count']} tests x {workload['rounds']} rounds a side, interleaved"
    )
    say(f"one A/B takes about {minutes_text(per_ab)} ({plan['estimate_source']})")
    budget = plan["budget_minutes"]
    if budget is None:
        say(f"the sweep should take about {minutes_text(total)} (no --budget)")
        return
    fit = int(budget * 60 // per_ab) if per_ab > 0 else count + 1
    if fit >= count + 1:
        say(
            f"the sweep should take about {minutes_text(total)}, within the budget of "
            f"{budget:g} min"
        )
    else:
        say(
            f"the sweep would take about {minutes_text(total)}; the budget of {budget:g} min "
            f"holds about {max(fit, 0)} A/B(s): the candidates after those are left "
            "unmeasured and said so (put the ones that matter most first)"
        )


# --- record, fits, winners ------------------------------------------------------------------


def candidate_of(plan: dict[str, Any], slug: str) -> dict[str, Any]:
    for item in plan["candidates"]:
        if item["slug"] == slug:
            return dict(item)
    if slug == sweep.COMBINATION_SLUG:
        return {"slug": slug, "label": slug, "settings": {}, "trade_off": None}
    raise cand.usage(f"no candidate {slug!r} in the plan")


def do_record(args: argparse.Namespace) -> int:
    plan = sweep.load_plan(args.sweep)
    record = candidate_of(plan, args.slug)
    if args.slug == sweep.COMBINATION_SLUG:
        combined = read_combination(args.sweep)
        record.update(
            settings=combined, label=",".join(f"{k}={v}" for k, v in combined.items())
        )
        record["trade_off"] = (
            "; ".join(
                row["trade_off"]
                for row in plan["candidates"]
                if row["trade_off"] and set(row["settings"]) <= set(combined)
            )
            or None
        )
    record.update(
        status=args.status,
        exit_code=args.exit,
        seconds=round(args.seconds, 1),
        run=args.run or None,
        log_tail=sweep.log_tail(args.log) if args.status in ("broke", "failed") else [],
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    sweep.append_record(args.sweep, record)
    row = rank.judge(record)
    say(f"{record['label']}: {row['verdict']}{effect_words(row)}")
    return 0


def effect_words(row: dict[str, Any]) -> str:
    found = row.get("effects", {}).get("rps")
    if not found:
        return ""
    return f" (req/s {found['change_pct']:+.1f}% over {found['tests']} tests)"


def read_combination(sweep_dir: Path) -> dict[str, str]:
    path = sweep_dir / sweep.SETTINGS_DIR / f"{sweep.COMBINATION_SLUG}.env"
    from perfkit.gateway.settings import effective, read_file

    return (
        {s.name: s.value for s in effective(read_file(path))} if path.exists() else {}
    )


def measured_seconds(sweep_dir: Path) -> list[float]:
    return [
        float(r["seconds"])
        for r in sweep.load_records(sweep_dir)
        if r["status"] == "measured"
    ]


def do_fits(args: argparse.Namespace) -> int:
    plan = sweep.load_plan(args.sweep)
    budget = plan["budget_minutes"]
    if budget is None:
        return 0
    seconds = measured_seconds(args.sweep)
    per_ab = statistics.fmean(seconds) if seconds else float(plan["estimate_seconds"])
    left = budget * 60 - args.elapsed
    if per_ab <= left:
        return 0
    say(
        f"{minutes_text(left)} of the {budget:g} min budget left, an A/B takes about "
        f"{minutes_text(per_ab)}: stopping here"
    )
    return 1


def rows_of(sweep_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    rows, combination = [], None
    for record in sweep.load_records(sweep_dir):
        row = rank.judge(record)
        if record["slug"] == sweep.COMBINATION_SLUG:
            combination = row
        else:
            rows.append(row)
    return rows, combination


def do_winners(args: argparse.Namespace) -> int:
    rows, _ = rows_of(args.sweep)
    chosen = rank.winners(rows)
    if len(chosen) < 2:
        return 1
    combined = rank.recommended(rows)
    write_private(args.output, "".join(f'{k}="{v}"\n' for k, v in combined.items()))
    say(
        f"{len(chosen)} settings measured better: measuring them together once more "
        f"({', '.join(f'{k}={v}' for k, v in combined.items())})"
    )
    return 0


# --- report ---------------------------------------------------------------------------------


def do_report(args: argparse.Namespace) -> int:
    plan = sweep.load_plan(args.sweep)
    rows, combination = rows_of(args.sweep)
    done = {row["slug"] for row in rows}
    for item in plan["candidates"]:  # what the sweep never reached
        if item["slug"] not in done:
            rows.append(
                rank.judge(
                    {**item, "status": "budget" if not args.partial else "interrupted",
                     "exit_code": None, "seconds": None, "run": None, "log_tail": []}
                )
            )  # fmt: skip
    data = {
        "schema_version": sweep.SCHEMA_VERSION,
        "release": plan["release"],
        "workload": plan["workload"],
        "budget_minutes": plan["budget_minutes"],
        "started_at": plan["started_at"],
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "partial": args.partial or None,
        "candidates": rank.ranked(rows),
        "combination": combination,
        "recommended": rank.recommended(rows),
        "measured_on": {"host": socket.gethostname(), "cores": os.cpu_count()},
    }
    write_json_atomic(args.sweep / sweep.TUNE_FILE, data)
    write_text_atomic(args.sweep / sweep.ENV_FILE, env_fragment(data))
    write_text_atomic(args.sweep / sweep.PAGE_FILE, render_page(data))
    if args.env_example:
        write_text_atomic(args.env_example, env_example(data, args.stack_env))
        say(f"wrote {args.env_example}")
    print(render_table(data))
    say(f"wrote {args.sweep / sweep.TUNE_FILE}, {sweep.PAGE_FILE} and {sweep.ENV_FILE}")
    return 0


def cli(argv: list[str]) -> int:
    args = parse_args(argv)
    actions = {
        "defaults": do_defaults,
        "plan": do_plan,
        "record": do_record,
        "fits": do_fits,
        "winners": do_winners,
        "report": do_report,
    }
    try:
        return actions[args.action](args)
    except OSError as exc:
        raise KitError(f"{PROG} {args.action}: {exc}", ExitCode.USAGE) from None
