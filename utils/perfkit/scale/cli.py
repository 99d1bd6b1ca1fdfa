"""`perfkit advanced init|add-point|report ADV_DIR ...`: the points file of run-advanced.sh
(ADV_DIR/advanced.json: its settings and one point per database and server count) and the
scalability report made from it.

  init ADV_DIR --profile P --servers 1,2,4 --databases sqlite,postgresql --mode local|docker
       [--sweep 5,10,20] --p95-slo-ms 1000 --pool-size 20 --max-overflow 10
  add-point ADV_DIR --database D --servers N --run RUN_DIR_RELATIVE_TO_ADV_DIR_OR_EMPTY
       --exit-code RC
  report ADV_DIR [--open]   scalability.json + report.html in ADV_DIR, a summary on stdout

The computations live in perfkit.scale.data and perfkit.scale.sweep, the page in
perfkit.scale.html.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from perfkit.clock import now_iso
from perfkit.exitcodes import ExitCode, KitError
from perfkit.scale.points import (
    DATABASES,
    MODES,
    POINTS_FILE,
    Advanced,
    Point,
    load,
    save,
)


def count_list(text: str) -> list[int]:
    """'1,2,4' -> [1, 2, 4]: positive integers, sorted, without repeats."""
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a comma list of positive counts (e.g. 1,2,4)"
        )
    return sorted(set(values))


def database_list(text: str) -> list[str]:
    names = list(dict.fromkeys(text.split(",")))
    unknown = [n for n in names if n not in DATABASES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"'{','.join(unknown)}' is not a database (have: {', '.join(DATABASES)})"
        )
    return names


def positive(kind: type[int | float], minimum: float) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"'{text}' is not a {kind.__name__} >= {minimum:g}"
            )
        return value

    return parse


def init(args: argparse.Namespace) -> int:
    path = args.adv_dir / POINTS_FILE
    if path.exists():
        raise KitError(
            f"{path} already exists: not overwriting a run's points "
            "(give a new folder, or remove the file)",
            ExitCode.USAGE,
        )
    args.adv_dir.mkdir(parents=True, exist_ok=True)
    advanced = Advanced(
        profile=args.profile,
        mode=args.mode,
        servers=args.servers,
        databases=args.databases,
        sweep=args.sweep or [],
        p95_slo_ms=float(args.p95_slo_ms),
        pool_size=args.pool_size,
        max_overflow=args.max_overflow,
        started_at=now_iso(),
    )
    save(args.adv_dir, advanced)
    return int(ExitCode.OK)


def relative_run(text: str) -> str | None:
    """--run as stored: None for '', else a path inside ADV_DIR."""
    if not text:
        return None
    path = PurePosixPath(text)
    if path.is_absolute() or ".." in path.parts:
        raise KitError(
            f"--run '{text}' is not a folder inside ADV_DIR (give it relative to ADV_DIR, "
            "e.g. postgresql/servers-2, or '' when the run left no folder)",
            ExitCode.USAGE,
        )
    return str(path)


def add_point(args: argparse.Namespace) -> int:
    advanced = load(args.adv_dir)
    if args.database not in advanced.databases:
        raise KitError(
            f"--database {args.database} was not asked for in {args.adv_dir / POINTS_FILE}"
            f" (have: {', '.join(advanced.databases)})",
            ExitCode.USAGE,
        )
    if any(
        p.database == args.database and p.servers == args.servers
        for p in advanced.points
    ):
        raise KitError(
            f"{args.adv_dir / POINTS_FILE} already has a point for {args.database} with "
            f"{args.servers} server(s); a point is recorded once",
            ExitCode.USAGE,
        )
    point = Point(
        args.database, args.servers, relative_run(args.run), args.exit_code, now_iso()
    )
    if point.run is not None and not (args.adv_dir / point.run).is_dir():
        print(
            f"perfkit advanced: warning: run folder {args.adv_dir / point.run} does not "
            "exist; the report will show the point as missing",
            file=sys.stderr,
        )
    advanced.points.append(point)
    save(args.adv_dir, advanced)
    return int(ExitCode.OK)


def report(args: argparse.Namespace) -> int:
    from perfkit.scale.html import write_report

    return write_report(args.adv_dir, load(args.adv_dir), args.open)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perfkit advanced",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    first = sub.add_parser("init", help="write ADV_DIR/advanced.json with the settings")
    first.add_argument("adv_dir", type=Path, metavar="ADV_DIR")
    first.add_argument("--profile", required=True)
    first.add_argument("--servers", type=count_list, required=True, metavar="LIST")
    first.add_argument("--databases", type=database_list, required=True, metavar="LIST")
    first.add_argument("--mode", choices=MODES, required=True)
    first.add_argument("--sweep", type=count_list, metavar="LIST", help="client counts")
    first.add_argument("--p95-slo-ms", type=positive(float, 0.001), default=1000.0)
    first.add_argument("--pool-size", type=positive(int, 1), default=20)
    first.add_argument("--max-overflow", type=positive(int, 0), default=10)
    first.set_defaults(handler=init)
    point = sub.add_parser("add-point", help="append one point to advanced.json")
    point.add_argument("adv_dir", type=Path, metavar="ADV_DIR")
    point.add_argument("--database", choices=DATABASES, required=True)
    point.add_argument("--servers", type=positive(int, 1), required=True)
    point.add_argument(
        "--run", required=True, help="run folder relative to ADV_DIR, or ''"
    )
    point.add_argument("--exit-code", type=positive(int, 0), required=True)
    point.set_defaults(handler=add_point)
    page = sub.add_parser("report", help="write scalability.json and report.html")
    page.add_argument("adv_dir", type=Path, metavar="ADV_DIR")
    page.add_argument("--open", action="store_true", help="open when interactive")
    page.set_defaults(handler=report)
    return parser


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
