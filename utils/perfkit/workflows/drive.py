"""A multi-user run on Locust, in a process of its own (Locust's import patches the whole
process for gevent, so the kit never imports it anywhere else):

  python -m perfkit.workflows.drive --url URL --people FILE --users N --duration S
                                    --warmup S --workload NAME --out FILE
                                    [--ledger FILE --prefix P]

FILE is `perfkit workflows-people make --tokens`'s: the gateway users the Locust users take in
turn; --ledger is where the workflows record the servers and tokens they make (--prefix
names them). All N users start at once; requests in the first S of warm-up are sent and left out.
Every request's exact time is kept (perfkit.workflows.metrics), the JSON written to --out and
the report printed. Exit 0, 2 bad options, 4 when anything failed (a request, or a check
such as share's visibility), 130 on Ctrl+C (what was measured so far is written, marked
interrupted).
"""

# ruff: noqa: I001 - locust first: its gevent monkey-patching must precede other imports
import locust

import argparse
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
from locust.env import Environment

from perfkit.atomic import write_json_atomic
from perfkit.workflows.locustfile import (
    WORKLOADS,
    Person,
    Roster,
    load_people,
    needs,
    sharings,
)
from perfkit.workflows.metrics import Sample, render, summarize
from perfkit.workflows.people import Ledger

PROG = "perfkit.workflows.drive"
# Locust's request_type of an event -> its kind in perfkit.workflows.metrics (HTTP methods: step)
KINDS = {"WORKFLOW": "workflow", "WAIT": "derived", "CHECK": "derived"}
MAX_USERS = 500
MAX_SECONDS = 3600.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}")
    parser.add_argument("--url", required=True)
    parser.add_argument("--people", type=Path, required=True)
    parser.add_argument("--users", type=int, default=2)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="baseline")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ledger", type=Path, default=None)
    parser.add_argument("--prefix", default="loadtest")
    # the share workflow's server visibility: public makes the gateway show it to every user,
    # which the workflow must report as a leak (how its check is tested)
    parser.add_argument(
        "--share-visibility", choices=("team", "public"), default="team"
    )
    parser.add_argument(
        "--protocol-version", default="2025-06-18"
    )  # the agents' MCP version
    return parser


def check(args: argparse.Namespace) -> list[Person]:
    problems = []
    if not 1 <= args.users <= MAX_USERS:
        problems.append(f"--users {args.users}: from 1 to {MAX_USERS}")
    if not 0 < args.duration <= MAX_SECONDS:
        problems.append(
            f"--duration {args.duration:g}: over 0 and at most {MAX_SECONDS:g} s"
        )
    if not 0 <= args.warmup <= MAX_SECONDS:
        problems.append(f"--warmup {args.warmup:g}: from 0 to {MAX_SECONDS:g} s")
    try:
        roster = load_people(args.people)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        problems.append(
            f"--people {args.people}: not a tokens file of workflows-people ({exc})"
        )
        roster = []
    if args.people.exists() and not problems and not roster:
        problems.append(f"--people {args.people} names no user")
    lacking = needs(args.workload, roster) if roster else None
    if lacking:
        problems.append(lacking)
    for problem in problems:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
    if problems:
        raise SystemExit(2)
    return roster


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    Roster.people = check(args)
    Roster.shares = sharings(Roster.people)
    Roster.ledger = Ledger(args.ledger) if args.ledger is not None else None
    Roster.prefix = args.prefix
    Roster.share_visibility = args.share_visibility
    Roster.protocol_version = args.protocol_version
    env = Environment(
        user_classes=WORKLOADS[args.workload],
        events=locust.events,
        host=args.url.rstrip("/"),
    )
    samples: list[Sample] = []
    started = time.monotonic()

    def on_request(
        request_type: str,
        name: str,
        response_time: float,
        exception: BaseException | None,
        context: dict[str, Any],
        **_: Any,
    ) -> None:
        samples.append(
            Sample(
                at=time.monotonic() - started,
                step=name,
                user=str((context or {}).get("user", "")),
                ms=float(response_time),
                ok=exception is None,
                error="" if exception is None else str(exception)[:200],
                kind=KINDS.get(request_type, "step"),
            )
        )

    env.events.request.add_listener(on_request)
    runner = env.create_local_runner()
    cpu_before = _cpu_seconds()
    interrupted = []

    def stop() -> (
        None
    ):  # Ctrl+C, or the kit's TERM (its background children ignore SIGINT)
        interrupted.append(True)
        runner.quit()

    for number in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(number, stop)
    runner.start(args.users, spawn_rate=args.users)
    gevent.spawn_later(args.warmup + args.duration, runner.quit)
    runner.greenlet.join()
    elapsed = time.monotonic() - started
    result = summarize(
        samples,
        workload=args.workload,
        url=args.url,
        users=args.users,
        warmup=args.warmup,
        duration=max(min(args.duration, elapsed - args.warmup), 1e-9),
        driver_cpu_s=_cpu_seconds() - cpu_before,
        interrupted=bool(interrupted),
    )
    write_json_atomic(args.out, result)
    print(render(result))
    if interrupted:
        return 130
    return 4 if result["errors"] else 0  # a failed request, wait, check or workflow


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
