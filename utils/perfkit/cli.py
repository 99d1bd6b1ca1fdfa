"""One entry point for every computation the shell scripts need: `python -m perfkit COMMAND ...`.

Each command lives in its own module as `cli(argv) -> int`; modules are imported lazily so a
quick command (exit-codes, record) does not pay for pandas.
"""

from __future__ import annotations

import importlib
import sys
import traceback

from perfkit.exitcodes import ExitCode, KitError

COMMANDS: dict[str, tuple[str, str]] = {
    "config": (
        "perfkit.config",
        "resolve settings (defaults < config.yaml < profile < env < flags)",
    ),
    "run-init": (
        "perfkit.results.run",
        "create run.json with target, environment and settings",
    ),
    "validate": (
        "perfkit.probe",
        "validate one probe response (status, JSON, JSON-RPC error, content)",
    ),
    "mcp-prepare": (
        "perfkit.protocol.prepare",
        "resolve an mcp test's endpoint and build its request from what the gateway lists",
    ),
    "mcp-session": (
        "perfkit.protocol.session",
        "open (official MCP SDK client) or close a stateful MCP session for an mcp test",
    ),
    "mcp-setup-cost": (
        "perfkit.protocol.setup_cost",
        "time MCP sessions from initialize to the first call's answer (hey's CSV layout)",
    ),
    "record": (
        "perfkit.results.events",
        "record a test's outcome in a run's events.jsonl",
    ),
    "coverage": (
        "perfkit.coverage.report",
        "REST coverage: the gateway's OpenAPI operations against what runs exercised",
    ),
    "speed-reference": (
        "perfkit.results.speed",
        "time a fixed piece of CPU-bound Python work: the machine's speed in a run",
    ),
    "summarize": (
        "perfkit.results.summarize",
        "build summary.json from a run folder and print the table",
    ),
    "auth": ("perfkit.auth", "token cache: inspect, store, classify login answers"),
    "bench-token": (
        "perfkit.benchtoken",
        "issue and revoke the run's least-privilege benchmark token (what hey sends)",
    ),
    "services": ("perfkit.services", "interpret /health, /ready and /gateways answers"),
    "baseline": (
        "perfkit.baseline.cli",
        "save, show, list, delete, roll back, accept and promote baselines",
    ),
    "calibrate": (
        "perfkit.calibration.target",
        "plan, record and report make calibrate's detection check",
    ),
    "calibrate-jobs": (
        "perfkit.calibration.jobs",
        "record and report utils/calibrate-jobs.sh's whole jobs on the real gateway",
    ),
    "growth": (
        "perfkit.growth",
        "how each test's cost grows with the data: utils/growth.sh's runs side by side",
    ),
    "overhead": (
        "perfkit.overhead",
        "the kit's own cost: plain hey against the kit on the same request (utils/overhead.sh)",
    ),
    "tune": (
        "perfkit.tune.cli",
        "the tuning advisor's plan, records, ranking and recommendation (utils/tune.sh)",
    ),
    "migration": (
        "perfkit.migration",
        "what the schema migration costs with data: utils/migration-cost.sh's measurements",
    ),
    "trend": (
        "perfkit.trend",
        "per-test series of run medians over results/ and their change points",
    ),
    "compare": (
        "perfkit.compare.cli",
        "verdicts of a run against a baseline or another run; SLOs",
    ),
    "settled": (
        "perfkit.compare.sequential",
        "whether a test's rounds so far settle it, so its rounds may stop (--sequential)",
    ),
    "monitor": (
        "perfkit.monitor.sampler",
        "sample CPU, memory, threads and connections into RUN_DIR/resources.jsonl",
    ),
    "report": ("perfkit.report.run_page", "write a run's self-contained report.html"),
    "workflows-slo": (
        "perfkit.workflows.slo",
        "check a multi-user run's workflows.json against config.yaml's slos (workflows/...)",
    ),
    "workflows-rounds": (
        "perfkit.workflows.rounds",
        "a multi-user run cut into the kit's rounds (run-configurable.sh's scenario workflows)",
    ),
    "workflows-people": (
        "perfkit.workflows.people",
        "users and teams made on demand for multi-user runs, and removed again",
    ),
    "dataset": (
        "perfkit.dataset.cli",
        "datasets for make populate: list, plan and estimate, check through the API, show",
    ),
    "database-rows": (
        "perfkit.results.database",
        "count the rows of the gateway's database tables before or after a run",
    ),
    "servers-stats": (
        "perfkit.results.servers",
        "snapshot the benchmark MCP servers' own call counts (GET /stats)",
    ),
    "report-compare": (
        "perfkit.report.compare_page",
        "one HTML page comparing several runs",
    ),
    "advanced": (
        "perfkit.scale.cli",
        "run-advanced.sh's points file (init, add-point) and its scalability report",
    ),
    "report-master": (
        "perfkit.report.master_page",
        "run-all.sh's master report: profiles side by side, critical findings first",
    ),
    "run-all-record": ("perfkit.results.run_all", "write run-all.sh's runs.json"),
    "compose": (
        "perfkit.compose.cli",
        "generate or validate the Docker Compose stack (gateway, MCP servers, databases)",
    ),
    "gateway": (
        "perfkit.gateway.cli",
        "name a gateway build (release, wheel, sdist, source folder); check its settings",
    ),
    "exit-codes": (
        "perfkit.exitcodes",
        "the exit-code table as shell constants; worst, stops and meaning of codes",
    ),
}


def usage() -> str:
    lines = ["usage: perfkit COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<12} {text}" for name, (_, text) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in {"-h", "--help"}:
        print(usage())
        return 0 if args else int(ExitCode.USAGE)
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"perfkit: error: unknown command '{name}'\n{usage()}", file=sys.stderr)
        return int(ExitCode.USAGE)
    module = importlib.import_module(COMMANDS[name][0])
    try:
        return int(module.cli(rest))
    except KitError as exc:
        print(f"perfkit {name}: error: {exc}", file=sys.stderr)
        return int(exc.code)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    # a bug in the kit: never exit 1 (a traceback's code), which would read as a regression
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        print(
            f"perfkit {name}: error: internal error (the traceback above is a bug in the "
            f"kit; please report it); exit {int(ExitCode.BENCHMARK_FAILED)}",
            file=sys.stderr,
        )
        return int(ExitCode.BENCHMARK_FAILED)
