"""`perfkit baseline ACTION ...`: the baseline manager's command line (docs/internals.md).

    save RUN_DIR [--name NAME] [--force] [--how initial|save]
    show NAME | load NAME [--json]      list      history NAME      delete NAME
    rollback NAME [--entry FILE]        accept RUN_DIR --reason TEXT [--name NAME]
    record RUN_DIR --comparison FILE [--name NAME] [--promote-after N]

Every action takes `--dir DIR` (default: $PERF_BASELINES_DIR, else <kit root>/baselines).
NAME defaults to the run's profile, or `adhoc_<test name>` for an ad-hoc run. Results go to
stdout, what was done to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from perfkit.baseline import manager as store
from perfkit.baseline.file import (
    Baseline,
    check_name,
    default_name,
    load_baseline,
    naming_of,
    run_naming,
    summary_for_baseline,
)
from perfkit.baseline.promotion import DEFAULT_PROMOTE_AFTER, record
from perfkit.compare.model import load_comparison_file
from perfkit.table import COLUMNS, number_text, render_table

PROG = "perfkit baseline"


def shown(path: Path | str) -> str:
    """A path as a person would type it: relative to the current folder when inside it."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def say(text: str) -> None:
    print(f"{PROG}: {text}", file=sys.stderr)


def describe_rounds(baseline: Baseline) -> str:
    counts = sorted({test.n() for test in baseline.samples.tests.values()})
    if len(counts) == 1:
        return f"{counts[0]} round{'s' if counts[0] != 1 else ''} each"
    return f"{counts[0]}-{counts[-1]} rounds"


def describe_change(verb: str, change: store.Change) -> str:
    baseline = change.baseline
    text = f"{verb} {shown(change.path)}"
    if baseline is not None:
        tests = len(baseline.samples.tests)
        text += f" from {baseline.source.run_dir} ({tests} test{'s' if tests != 1 else ''}, {describe_rounds(baseline)})"
    if change.archived is not None:
        text += f"; previous kept as {shown(change.archived)}"
    return text


def render_show(baseline: Baseline, path: Path) -> str:
    source, fp = baseline.source, baseline.fingerprint
    settings = " ".join(f"{k}={v}" for k, v in (fp.get("settings") or {}).items())
    lines = [
        f"baseline {baseline.name}: {shown(path)}",
        f"created      {baseline.created_at} (how: {source.how})",
        (
            f"source run   {source.run_dir} (started {source.started_at or '-'}, "
            f"kit {source.kit_commit or '-'})"
        ),
    ]
    if len(source.runs) > 1:
        lines.append(f"built from   {', '.join(source.runs)}")
    if source.restored_from:
        lines.append(f"restored     from history entry {source.restored_from}")
    lines += [
        (
            f"fingerprint  profile {fp.get('profile')}, {fp.get('cpu_model')}, "
            f"{fp.get('logical_cores')} cores, hey {fp.get('hey_version')}, "
            f"gateway {fp.get('gateway_version')}"
        ),
        f"settings     {settings}",
    ]
    if fp.get("gateway_settings"):
        lines.append(
            f"gateway      {json.dumps(fp['gateway_settings'], sort_keys=True)}"
        )
    rows = []
    for test_id, test in baseline.samples.tests.items():
        medians = baseline.aggregates.get(test_id, {})
        rows.append([
            test_id, test.status, str(test.n()), number_text(medians.get("rps"), 1),
            number_text(medians.get("p50"), 2), number_text(medians.get("p95"), 2),
            number_text(medians.get("p99"), 2),
            "-" if test.error_rate is None else f"{test.error_rate * 100:.2f}%",
        ])  # fmt: skip
    lines += [
        "",
        f"tests ({len(rows)}, medians over rounds):",
        render_table(rows, COLUMNS),
    ]
    return "\n".join(lines)


def render_list(listings: list[store.Listing]) -> str:
    if not listings:
        return "no baselines"
    rows = []
    for item in listings:
        b = item.baseline
        if b is None:
            rows.append([item.name, "UNREADABLE", "-", "-", "-", "-"])
        else:
            rows.append([item.name, b.created_at, b.source.how, b.source.run_dir,
                         str(len(b.samples.tests)), describe_rounds(b)])  # fmt: skip
    columns = [
        COLUMNS[0].__class__(title, align)
        for title, align in (("name", "<"), ("created", "<"), ("how", "<"),
                             ("source run", "<"), ("tests", ">"), ("rounds", "<"))
    ]  # fmt: skip
    problems = [f"{item.name}: {item.problem}" for item in listings if item.problem]
    return "\n".join([render_table(rows, columns), *problems])


def render_history(entries: list[store.LogEntry]) -> str:
    if not entries:
        return "no history"
    lines = []
    for e in entries:
        text = f"{e.at}  {e.action:<9}  run {e.from_run or '-'}"
        text += f"  previous -> {e.file or '(none)'}"
        if e.reason:
            text += f"  reason: {e.reason}"
        lines.append(text)
    return "\n".join(lines)


def name_for(args: argparse.Namespace) -> str:
    if args.name:
        return check_name(args.name)
    return default_name(naming_of(summary_for_baseline(args.run_dir)))


def do_name(args: argparse.Namespace) -> int:
    """Print the baseline name a run is judged against, and with --path its file. A run not
    yet summarized is named from its plan; --check refuses (exit 2) a baseline file that
    exists but cannot be read, so a run can stop before it sends any load."""
    name = default_name(run_naming(args.run_dir), args.profile)
    path = store.baseline_path(args.dir, name)
    if args.check and path.exists():
        load_baseline(path, name)
    print(path if args.path else name)
    return 0


def do_save(args: argparse.Namespace) -> int:
    change = store.save_run(
        args.dir, name_for(args), args.run_dir, args.how, force=args.force
    )
    say(describe_change("saved", change))
    return 0


def do_show(args: argparse.Namespace) -> int:
    path = store.baseline_path(args.dir, args.name)
    baseline = load_baseline(path, args.name)
    print(
        json.dumps(baseline.to_dict(), indent=2)
        if args.json
        else render_show(baseline, path)
    )
    return 0


def do_list(args: argparse.Namespace) -> int:
    print(render_list(store.list_baselines(args.dir)))
    return 0


def do_history(args: argparse.Namespace) -> int:
    print(render_history(store.history(args.dir, args.name)))
    return 0


def do_delete(args: argparse.Namespace) -> int:
    change = store.delete(args.dir, args.name)
    say(f"deleted {shown(change.path)}; kept as {shown(change.archived or '-')}")
    return 0


def do_rollback(args: argparse.Namespace) -> int:
    change = store.rollback(args.dir, args.name, args.entry)
    restored = change.baseline.source.restored_from if change.baseline else None
    say(describe_change(f"restored {restored} as", change))
    return 0


def do_accept(args: argparse.Namespace) -> int:
    change = store.accept(args.dir, name_for(args), args.run_dir, args.reason)
    say(describe_change("accepted", change) + f" (reason: {args.reason.strip()})")
    return 0


def do_record(args: argparse.Namespace) -> int:
    comparison = load_comparison_file(args.comparison)
    name = name_for(args)
    outcome = record(args.dir, name, args.run_dir, comparison, args.promote_after)
    if outcome.message:
        say(outcome.message)
    elif outcome.confirmed:
        say(
            f"{name}: improvement {outcome.streak} of {args.promote_after} needed to promote"
        )
    elif outcome.reset_from:
        say(f"{name}: improvement streak reset (was {outcome.reset_from}): "
            f"verdict {comparison.verdict!r}")  # fmt: skip
    return 0


def _add(sub: Any, name: str, handler: Callable[[argparse.Namespace], int],
         help_text: str, common: argparse.ArgumentParser) -> argparse.ArgumentParser:  # fmt: skip
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=help_text, parents=[common], prog=f"{PROG} {name}"
    )
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dir", type=Path, default=None, help="baselines folder")
    parser = argparse.ArgumentParser(
        prog=PROG, description="Keep baselines and their history."
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    save = _add(sub, "save", do_save, "save a run as the baseline", common)
    save.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    save.add_argument("--name", default=None)
    save.add_argument("--force", action="store_true",
                      help="replace an unreadable baseline (kept in history)")  # fmt: skip
    save.add_argument("--how", choices=("initial", "save"), default="save")
    for action in ("show", "load"):
        show = _add(
            sub, action, do_show, "print a baseline (--json: as stored)", common
        )
        show.add_argument("name", metavar="NAME")
        show.add_argument("--json", action="store_true", help="the checked JSON")
    _add(sub, "list", do_list, "every baseline", common)
    name = _add(sub, "name", do_name, "the baseline a run is judged against", common)
    name.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    name.add_argument("--profile", default=None, help="another profile's baseline")
    name.add_argument("--path", action="store_true", help="print the file's path")
    name.add_argument(
        "--check",
        action="store_true",
        help="exit 2 if that file exists but is unreadable",
    )
    for action, handler, text in (
        ("history", do_history, "a baseline's log of changes"),
        ("delete", do_delete, "move a baseline into history"),
    ):
        _add(sub, action, handler, text, common).add_argument("name", metavar="NAME")
    rollback = _add(sub, "rollback", do_rollback, "restore from history", common)
    rollback.add_argument("name", metavar="NAME")
    rollback.add_argument("--entry", default=None, metavar="FILE")
    accept = _add(
        sub, "accept", do_accept, "accept a run after an intended slowdown", common
    )
    accept.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    accept.add_argument("--reason", required=True)
    accept.add_argument("--name", default=None)
    rec = _add(
        sub, "record", do_record, "count a compared run towards promotion", common
    )
    rec.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    rec.add_argument("--comparison", type=Path, required=True, metavar="FILE")
    rec.add_argument("--name", default=None)
    rec.add_argument(
        "--promote-after", type=int, default=DEFAULT_PROMOTE_AFTER, metavar="N"
    )
    return parser


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    args.dir = args.dir if args.dir is not None else store.default_dir()
    if getattr(args, "name", None) and args.action not in ("save", "accept", "record"):
        check_name(args.name)
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)
