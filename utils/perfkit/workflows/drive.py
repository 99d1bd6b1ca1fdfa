"""A multi-user run on Locust, in a process of its own (Locust's import patches the whole
process for gevent, so the kit never imports it anywhere else):

  python -m perfkit.workflows.drive --url URL --people FILE --users N --duration S
                                    --warmup S --workload NAME --out FILE
                                    [--ledger FILE --prefix P] [--spawn-rate R]
                                    [--workers N] [--remote-workers M --master-port P]
                                    [--abort-on-slo --profile NAME] [--keep-samples FILE]
  python -m perfkit.workflows.drive --worker-of HOST:PORT     (a worker; all else from there)

FILE is `perfkit workflows-people make --tokens`'s: the gateway users the Locust users take in
turn; --ledger is where the workflows record the servers, prompts and tokens they make
(--prefix names them). The users start R a second (default all at once); requests in the
first S of warm-up are sent and left out. Every request's exact time is kept
(perfkit.workflows.metrics), the JSON written to --out and the report printed. Exit 0, 1 an
SLO breached with --abort-on-slo, 2 bad options, 3 Locust missing or not the pinned version
(or, for a worker, no master), 4 when anything failed (a request, a check such as share's
visibility, a worker that did not finish), 130 on Ctrl+C (what was measured so far is
written, marked interrupted).
"""

# ruff: noqa: I001 - locust first: its gevent monkey-patching must precede other imports
import sys

# the kit's setup installs Locust; a venv made otherwise may lack it
try:
    import locust
except ImportError as missing:
    print(
        f"perfkit.workflows.drive: error: Locust cannot be imported ({missing}): `make setup` "
        "installs the version the kit pins (utils/pins/requirements.txt)",
        file=sys.stderr,
    )
    sys.exit(3)

import argparse
import itertools
import os
import resource
import signal
import socket
import subprocess
import time
from urllib.parse import urlsplit
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gevent
from locust import User
from locust.env import Environment

from perfkit.atomic import write_json_atomic
from perfkit.results.servers import fetch_counts, served
from perfkit.names import TOKEN_ENV
from perfkit.workflows.locustfile import (
    TOOL_CALL_STEPS,
    WORKLOADS as FLOW_WORKLOADS,
    Person,
    Roster,
    load_people,
    needs,
    collaborations,
    sharings,
)
from perfkit.workflows.metrics import Sample, render, summarize
from perfkit.workflows.people import Ledger, Made
from perfkit.workflows.rest import RestUser

WORKLOADS: dict[str, list[type[User]]] = {**FLOW_WORKLOADS, "rest": [RestUser]}
ADMIN = "platform-admin"  # how the rest workload's admin steps name their user

PROG = "perfkit.workflows.drive"
# Locust's request_type of an event -> its kind in perfkit.workflows.metrics (HTTP methods: step)
KINDS = {
    "WORKFLOW": "workflow",
    "WAIT": "derived",
    "CHECK": "derived",
    "TALLY": "tally",
}
MAX_USERS = 500
MAX_SECONDS = 3600.0
MAX_WORKERS = 16
WORKERS_WAIT_S = 30.0  # for the worker processes to connect, and to end
SETTLE_S = 0.5  # after the users stop, before the MCP servers' counts are read
# --abort-on-slo judges no sooner than this far into the measured time
ABORT_AFTER_S = 5.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m {PROG}")
    parser.add_argument("--url", default="")  # required but for a worker
    parser.add_argument("--people", type=Path, default=None)
    parser.add_argument("--users", type=int, default=2)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="baseline")
    parser.add_argument("--out", type=Path, default=None)
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
    parser.add_argument("--workers", type=int, default=0)  # worker processes here
    # workers started on other machines (utils/workflows.sh worker --master-host ...), and
    # where the master listens for them (default 127.0.0.1 and a free port)
    parser.add_argument("--remote-workers", type=int, default=0)
    parser.add_argument("--master-bind", default="")
    parser.add_argument("--master-port", type=int, default=0)
    parser.add_argument("--workers-wait", type=float, default=WORKERS_WAIT_S)
    # be a worker of the master at HOST:PORT (all else comes from the master)
    parser.add_argument("--worker-of", default="")
    # every request's sample as JSON too (run-configurable.sh cuts the run into rounds)
    parser.add_argument("--keep-samples", type=Path, default=None)
    # users started a second (Locust's spawn rate; 0: all at once)
    parser.add_argument("--spawn-rate", type=float, default=0.0)
    # stop as soon as an SLO of this profile (config.yaml slos: workflows/...) is breached
    parser.add_argument("--abort-on-slo", action="store_true")
    parser.add_argument("--profile", default="light")
    parser.add_argument("--config", type=Path, default=None)  # default: config.yaml
    # each failed request or check said as it happens (stderr), beside the end's report
    parser.add_argument("--verbose", action="store_true")
    # the benchmark MCP servers behind the gateway (URL, repeatable): the tool calls they
    # served during the run, beside the calls the users got answers to
    parser.add_argument("--server", action="append", default=[])
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
    for name in ("url", "people", "out"):
        if not getattr(args, name):
            problems.append(f"--{name} is required (but for a worker: --worker-of)")
    if args.remote_workers and not args.master_port:
        problems.append(
            "--remote-workers needs --master-port: the port the other machines' workers "
            "connect to"
        )
    if not 0 <= args.remote_workers <= MAX_WORKERS:
        problems.append(
            f"--remote-workers {args.remote_workers}: from 0 to {MAX_WORKERS}"
        )
    if args.abort_on_slo and (args.workers or args.remote_workers):
        problems.append(
            "--abort-on-slo with --workers is not built: the workers hand their requests' "
            "times over only when they end (run it in one process, --workers 0)"
        )
    if not 0 <= args.workers <= MAX_WORKERS:
        problems.append(
            f"--workers {args.workers}: from 0 (in this process) to {MAX_WORKERS}"
        )
    try:
        roster = load_people(args.people) if args.people else []
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        problems.append(
            f"--people {args.people}: not a tokens file of workflows-people ({exc})"
        )
        roster = []
    if args.people and args.people.exists() and not problems and not roster:
        problems.append(f"--people {args.people} names no user")
    lacking = needs(args.workload, roster) if roster else None
    if lacking:
        problems.append(lacking)
    if args.workload == "rest" and not os.environ.get(TOKEN_ENV):
        problems.append(
            f"workload rest works the admin's operations too: the admin's token in "
            f"{TOKEN_ENV} (utils/workflows.sh passes it)"
        )
    if args.workload == "rest" and not args.server:
        problems.append(
            "workload rest registers the benchmark MCP server as a gateway and A2A agent: "
            "--server URL (the local stack's, utils/local-stack.sh servers)"
        )
    for problem in problems:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
    if problems:
        raise SystemExit(2)
    return roster


def recorder(
    env: Environment, samples: list[Sample], started: float, verbose: bool = False
) -> None:
    """Keep every request's exact time (at: wall-clock seconds since `started`)."""

    def on_request(
        request_type: str,
        name: str,
        response_time: float,
        exception: BaseException | None,
        context: dict[str, Any],
        response: Any = None,
        url: str = "",
        **_: Any,
    ) -> None:
        kind = KINDS.get(request_type, "step")
        request = urlsplit(url) if kind == "step" and url else None
        samples.append(
            Sample(
                # a count is dated by the request it counts (context "at")
                at=float((context or {}).get("at") or time.time()) - started,
                step=name,
                user=str((context or {}).get("user", "")),
                ms=float(response_time),
                ok=exception is None,
                error="" if exception is None else str(exception)[:200],
                kind=kind,
                status=int(getattr(response, "status_code", 0) or 0),
                method=request_type.upper() if request else "",
                path=(request.path or "/") if request else "",
            )
        )
        if verbose and exception is not None:
            print(
                f"failed: {name} ({samples[-1].user}): {samples[-1].error}",
                file=sys.stderr,
                flush=True,
            )

    env.events.request.add_listener(on_request)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def on_signals(stop: Any) -> None:
    # Ctrl+C, or the kit's TERM (its background children ignore SIGINT)
    for number in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(number, stop)


# what the master and its workers tell each other, beside Locust's own messages
HELLO = "perfkit-hello"  # worker -> master: connected, send me the roster
# master -> worker: the people (their tokens), where the run began
ROSTER = "perfkit-roster"
READY = "perfkit-ready"  # worker -> master: roster taken
MADE = "perfkit-made"  # worker -> master: a server, prompt or token a workflow made (ledger)
SEND = "perfkit-send"  # master -> workers: the users stopped, send your samples
# worker -> master: every request's sample, and the CPU used
SAMPLES = "perfkit-samples"


def worker(args: argparse.Namespace) -> int:
    """A worker process - one of --workers', or one started on another machine by
    `utils/workflows.sh worker --master-host HOST:PORT`: takes the roster from the master over
    Locust's connection (no file is shared), runs the users the master gives it, tells the
    master what its workflows made, and hands its samples over when the master asks."""
    env = Environment(
        user_classes=list(dict.fromkeys(c for cs in WORKLOADS.values() for c in cs)),
        events=locust.events,
    )
    samples: list[Sample] = []
    cpu_before = _cpu_seconds()
    host, _, port = args.worker_of.rpartition(":")
    if not host or not port.isdigit():
        print(
            f"{PROG}: error: --worker-of '{args.worker_of}': HOST:PORT", file=sys.stderr
        )
        return 2
    # Locust tries for 5 minutes; a worker with no master says so within --workers-wait
    locust.runners.CONNECT_RETRY_COUNT = max(
        1, int(args.workers_wait // locust.runners.CONNECT_TIMEOUT)
    )
    try:
        runner = env.create_worker_runner(host, int(port))
    except ConnectionError:
        print(
            f"{PROG}: error: no master answered at {host}:{port} within "
            f"{args.workers_wait:g} s: start the run there first (utils/workflows.sh run "
            "--remote-workers N --master-port PORT) and check that its port is reachable",
            file=sys.stderr,
        )
        return 3

    def on_roster(msg: Any, **_: Any) -> None:
        data = msg.data
        Roster.people = [
            Person(p["email"], p["token"], tuple(p["teams"]), tuple(p["owns"]))
            for p in data["people"]
        ]
        Roster.shares = sharings(Roster.people)
        Roster.teamwork = collaborations(Roster.people)
        Roster.prefix = data["prefix"]
        Roster.share_visibility = data["share_visibility"]
        Roster.protocol_version = data["protocol_version"]
        Roster.admin = Person(ADMIN, data["admin"], ()) if data.get("admin") else None
        Roster.bench_url = data.get("bench_url") or ""
        Roster.turn = itertools.count(int(data["index"]), int(data["workers"]))
        Roster.relay = lambda made: runner.send_message(MADE, asdict(made))
        recorder(env, samples, float(data["started"]))
        runner.send_message(READY)

    def on_send(**_: Any) -> None:
        runner.send_message(
            SAMPLES,
            {
                "cpu_s": _cpu_seconds() - cpu_before,
                "samples": [asdict(x) for x in samples],
            },
        )

    runner.register_message(ROSTER, on_roster)
    runner.register_message(SEND, on_send)
    runner.send_message(HELLO)
    on_signals(runner.quit)  # else the master's quit ends it
    runner.greenlet.join()
    return 0


def master(
    args: argparse.Namespace, env: Environment, started: float, interrupted: list[bool]
) -> tuple[list[Sample], float, dict[str, Any]]:
    """--workers N and/or --remote-workers M: Locust's master, N worker processes on this
    machine and M started on others; the users spread over them by the master; what their
    workflows make recorded in this process's ledger; their samples gathered once the users
    stop (also after Ctrl+C)."""
    expected = args.workers + args.remote_workers
    host, port = args.master_bind or "127.0.0.1", args.master_port or free_port()
    runner = env.create_master_runner(host, port)
    ready: set[str] = set()
    gathered: dict[str, dict[str, Any]] = {}
    roster = {
        "people": [asdict(p) for p in Roster.people],
        "prefix": Roster.prefix,
        "share_visibility": Roster.share_visibility,
        "protocol_version": Roster.protocol_version,
        "admin": Roster.admin.token if Roster.admin else "",
        "bench_url": Roster.bench_url,
        "started": started,
        "workers": expected,
    }

    def on_hello(msg: Any, **_: Any) -> None:
        index = runner.get_worker_index(msg.node_id) % expected
        runner.send_message(ROSTER, {**roster, "index": index}, client_id=msg.node_id)

    runner.register_message(HELLO, on_hello)
    runner.register_message(READY, lambda msg, **_: ready.add(msg.node_id))
    runner.register_message(MADE, lambda msg, **_: Roster.record(Made(**msg.data)))
    runner.register_message(
        SAMPLES, lambda msg, **_: gathered.__setitem__(msg.node_id, msg.data)
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", PROG, "--worker-of", f"127.0.0.1:{port}"]
        )
        for _ in range(args.workers)
    ]

    def stop() -> None:
        interrupted.append(True)

    on_signals(stop)
    if args.remote_workers:
        print(
            f"{PROG}: waiting {args.workers_wait:g} s for {args.remote_workers} worker(s) "
            f"from other machines: on each, utils/workflows.sh worker --master-host "
            f"<this machine>:{port}",
            file=sys.stderr,
            flush=True,
        )
    deadline = time.monotonic() + args.workers_wait
    while len(ready) < expected and time.monotonic() < deadline:
        if interrupted or any(p.poll() is not None for p in procs):
            break
        gevent.sleep(0.1)
    connected = len(ready)
    if connected == expected and not interrupted:
        runner.start(args.users, spawn_rate=args.spawn_rate or args.users)
        ends = time.monotonic() + args.warmup + args.duration
        while time.monotonic() < ends and not interrupted:
            gevent.sleep(0.1)
    runner.stop()  # every worker stops its users
    runner.send_message(SEND)
    deadline = time.monotonic() + WORKERS_WAIT_S
    while time.monotonic() < deadline:
        gone = sum(p.poll() is not None for p in procs)  # a local worker that died
        if len(gathered) >= connected - gone:
            break
        gevent.sleep(0.1)
    runner.quit()
    for proc in procs:
        try:
            proc.wait(timeout=WORKERS_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    samples = [Sample(**x) for data in gathered.values() for x in data["samples"]]
    cpu = sum(float(data["cpu_s"]) for data in gathered.values())
    health = {
        "workers": expected,
        "remote": args.remote_workers,
        "connected": connected,
        "finished": len(gathered),
    }
    if connected < expected:
        print(
            f"{PROG}: error: {connected} of {expected} workers connected within "
            f"{args.workers_wait:g} s",
            file=sys.stderr,
        )
    return samples, cpu, health


def slo_rules(profile: str, config: Path | None) -> Any:
    """The profile's SLOs (config.yaml slos:); a bad config is exit 2 before any load."""
    from perfkit.config import load_settings
    from perfkit.exitcodes import KitError
    from perfkit.names import KIT_ROOT

    try:
        return load_settings(KIT_ROOT, profile, {}, os.environ, config).slos
    except KitError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def watch_slos(
    args: argparse.Namespace,
    rules: Any,
    samples: list[Sample],
    started: float,
    aborted: dict[str, Any],
    stop: Any,
) -> None:
    """--abort-on-slo: every second after the warm-up and ABORT_AFTER_S measured seconds (a
    third of the run when that is shorter), the run so far against the profile's SLOs; the
    first breach ends it (`aborted` says when and which). A figure nothing measured yet is
    not a breach."""
    from perfkit.workflows.slo import check

    first = args.warmup + min(ABORT_AFTER_S, args.duration / 3)
    gevent.sleep(first)
    while True:
        measured = time.time() - started - args.warmup
        so_far = summarize(
            list(samples),
            workload=args.workload,
            url=args.url,
            users=args.users,
            warmup=args.warmup,
            duration=max(measured, 1e-9),
            driver_cpu_s=0.0,
        )
        breaches = [b for b in check(so_far, rules)[0] if b.value is not None]
        if breaches:
            aborted.update(
                at_s=round(measured, 1), breaches=[b.describe() for b in breaches]
            )
            stop()
            return
        gevent.sleep(1.0)


def tool_calls(
    samples: list[Sample], upstream: list[Any], warmup: float
) -> dict[str, Any] | None:
    """The tool calls answered to the users (warm-up included: the servers count those too)
    beside those the MCP servers say they served; None without --server."""
    if not upstream:
        return None
    answered = sum(1 for x in samples if x.ok and x.step in TOOL_CALL_STEPS)
    errors = [str(u["error"]) for u in upstream if u.get("error")]
    servers = None if errors else sum(int(u.get("tool_calls") or 0) for u in upstream)
    return {
        "answered": answered,
        "served": servers,
        "errors": errors,
        "servers": [u["url"] for u in upstream],
    }


# what utils/pins/requirements.txt pins: >=2.40,<3
LOCUST_MAJOR, LOCUST_MIN = 2, (2, 40)


def locust_problem(version: str) -> str | None:
    """Why this Locust is not the one the kit is built on, or None."""
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    if len(parts) == 2 and parts[0] == LOCUST_MAJOR and parts >= LOCUST_MIN:
        return None
    return (
        f"Locust {version} is not the kit's (>=2.40,<3): `make setup` installs it "
        "(utils/pins/requirements.txt)"
    )


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if problem := locust_problem(locust.__version__):
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return 3
    if args.worker_of:
        return worker(args)
    Roster.people = check(args)
    Roster.shares = sharings(Roster.people)
    Roster.teamwork = collaborations(Roster.people)
    Roster.ledger = Ledger(args.ledger) if args.ledger is not None else None
    Roster.prefix = args.prefix
    Roster.share_visibility = args.share_visibility
    Roster.protocol_version = args.protocol_version
    admin = os.environ.get(TOKEN_ENV, "")
    Roster.admin = Person(ADMIN, admin, ()) if admin else None
    Roster.bench_url = args.server[0] if args.server else ""
    env = Environment(
        user_classes=WORKLOADS[args.workload],
        events=locust.events,
        host=args.url.rstrip("/"),
    )
    rules = slo_rules(args.profile, args.config) if args.abort_on_slo else ()
    counts_before = [fetch_counts(url) for url in args.server]
    started = time.time()
    cpu_before = _cpu_seconds()
    interrupted: list[bool] = []
    aborted: dict[str, Any] = {}
    health: dict[str, Any] = {"workers": 0}
    if args.workers or args.remote_workers:
        samples, worker_cpu, health = master(args, env, started, interrupted)
    else:
        samples, worker_cpu = [], 0.0
        recorder(env, samples, started, args.verbose)
        local = env.create_local_runner()

        def stop() -> None:
            interrupted.append(True)
            local.quit()

        on_signals(stop)
        runner = local
        runner.start(args.users, spawn_rate=args.spawn_rate or args.users)
        gevent.spawn_later(args.warmup + args.duration, runner.quit)
        if args.abort_on_slo:
            gevent.spawn(
                watch_slos, args, rules, samples, started, aborted, runner.quit
            )
        runner.greenlet.join()
    elapsed = time.time() - started
    gevent.sleep(SETTLE_S)  # calls in flight at the end reach the servers' counts
    upstream = [served(b, fetch_counts(b["url"])) for b in counts_before]
    cpu_s = _cpu_seconds() - cpu_before + worker_cpu
    result = summarize(
        samples,
        workload=args.workload,
        url=args.url,
        users=args.users,
        warmup=args.warmup,
        duration=max(min(args.duration, elapsed - args.warmup), 1e-9),
        driver_cpu_s=cpu_s,
        interrupted=bool(interrupted),
        workers=health,
    )
    result["servers"] = tool_calls(samples, upstream, args.warmup)
    if aborted:
        result["aborted"] = aborted
    if args.keep_samples is not None:
        write_json_atomic(
            args.keep_samples,
            {
                "started": started,
                "elapsed_s": elapsed,
                "cpu_s": cpu_s,
                "samples": [asdict(x) for x in samples],
            },
        )
    write_json_atomic(args.out, result)
    print(render(result))
    if interrupted:
        return 130
    if aborted:
        return 1
    if health["workers"] and health["finished"] < health["workers"]:
        return 4  # a worker, here or on another machine, did not hand its samples over
    return 4 if result["errors"] else 0  # a failed request, wait, check or workflow


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
