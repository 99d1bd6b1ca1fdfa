"""A multi-user run as the kit's rounds, so that run-configurable.sh's scenario `workflows` is
summarized, compared with its baseline and reported like any other (hey's) scenario.

  perfkit workflows-rounds tests --workload NAME
      the scenario's test names, one a line: each workflow of the workload (`share`) and its
      timed steps (`share.member_calls`)
  perfkit workflows-rounds write --samples FILE --raw DIR --workload NAME --rounds K
                                 --round-seconds W --warmup S
      cuts the samples `perfkit.workflows.drive --keep-samples` kept into K windows of W
      seconds after the warm-up: window k is round k of every test, written as hey's files -
      DIR/<test>/round-<k>.csv (one row a request: its time, status and start within the
      window) and round-<k>.time (the window's start and length; the driver's CPU over the
      window, its share of the whole run's)

A step that passed is written with its 2xx status, or 200 when what passed was a refusal the
workflow expects (a revoked token's 401, a plain member's 403) or a wait; a failed request
keeps its HTTP status, and one that failed with a 2xx answer (a JSON-RPC error, an unexpected
answer) or without an answer is written with status 0 - an error, never a success. A
workflow's row is the whole workflow (its time; 200 when every step of it passed, else 0).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from perfkit.atomic import write_text_atomic
from perfkit.exitcodes import ExitCode, KitError

PROG = "perfkit workflows-rounds"
HEADER = "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset"

# the steps each workflow times (perfkit/workflows/locustfile.py names them `<workflow>:<step>`);
# checks and one-off look-ups (a user's first list of tools, of servers) are left out
TIMED_STEPS: dict[str, tuple[str, ...]] = {
    "baseline": ("list_tools", "list_servers", "list_prompts", "get_tool", "call_tool"),
    "share": (
        "create_server", "member_lists", "visible_after", "member_calls", "outsider_lists",
        "delete_server",
    ),
    "collaborate": (
        "create_prompt", "member_reads", "owner_updates", "member_refused", "owner_verifies",
        "delete_prompt",
    ),
    "token": ("create", "use", "revoke", "use_revoked"),
    "agent": ("initialize", "initialized", "tools_list", "tools_call"),
    # the workload rest (perfkit/workflows/rest.py): every step one operation of the REST API
    "tools": (
        "create", "get", "list", "update", "deactivate", "activate", "tags", "tag_entities",
        "search", "bind", "bindings", "team_bindings", "unbind", "unbind_ref", "schemas",
        "delete",
    ),
    "resources": (
        "create", "read", "info", "read_uri", "templates", "list", "update", "deactivate",
        "activate", "complete", "delete",
    ),
    "prompts": (
        "create", "get", "render", "list", "update", "deactivate", "activate", "delete",
    ),
    "servers": (
        "tools_to_bundle", "create", "get", "list", "server_tools", "server_resources",
        "server_prompts", "update", "deactivate", "activate", "well_known_redirect",
        "protected_resource", "delete",
    ),
    "gateways": (
        "create", "get", "list", "update", "refresh", "deactivate", "activate", "delete",
    ),
    "agents": (
        "create", "get", "list", "update", "deactivate", "activate", "invoke_by_name",
        "invoke", "jsonrpc", "bind", "bindings", "team_bindings", "unbind", "unbind_ref",
        "delete",
    ),
    "teams": (
        "create", "get", "list", "update", "add_member", "members", "set_role", "leave",
        "invite", "invitations", "accept", "remove_member", "invite_again",
        "cancel_invitation", "discover", "join", "join_requests", "approve", "join_again",
        "reject", "delete",
    ),
    "tokens": (
        "create", "list", "get", "update", "usage", "whoami", "csrf", "team_create",
        "team_list", "admin_list", "admin_revoke", "revoke",
    ),
    "rbac": (
        "available", "my_roles", "my_permissions", "create", "list", "get", "update",
        "assign", "user_roles", "user_permissions", "check", "revoke", "delete",
    ),
    "users": (
        "create", "get", "list", "update", "replace", "unlock", "login", "email_login", "me",
        "events", "admin_events", "logout", "delete",
    ),
    "exports": (
        "export", "tools_to_pick", "export_selected", "import_dry_run", "import_status",
        "import_statuses", "import_cleanup",
    ),
    "roots": ("add", "list", "get", "rename", "export", "remove"),
    "observe": (
        "version", "health", "ready", "security_health", "root", "mcp_mode",
        "well_known", "metrics", "metrics_config", "metrics_stats", "catalog",
        "trace", "security_events", "audit_trails", "performance", "log_search",
    ),
    "compliance": ("frameworks", "report", "reports", "get_report", "export_report"),
    "protocol": (
        "initialize", "ping", "notify", "initialize_unversioned", "notify_unversioned",
        "rpc_ping", "cancel", "cancel_status",
    ),
}  # fmt: skip
MIXED = ("baseline", "share", "collaborate", "token", "agent")
# the workload rest's workflows, in the order a user runs them
REST = (
    "tools", "resources", "prompts", "servers", "gateways", "agents", "teams", "tokens",
    "rbac", "users", "exports", "roots", "observe", "compliance", "protocol",
)  # fmt: skip
WORKLOADS = {"mixed": MIXED, "rest": REST}  # workloads of several workflows


def tests(workload: str) -> list[str]:
    """The test names of a workload: each workflow, then its steps as `<workflow>.<step>`."""
    flows = WORKLOADS.get(workload, (workload,))
    if workload in REST or any(f not in TIMED_STEPS for f in flows):
        raise KitError(
            f"workload '{workload}': one of {', '.join(sorted(set(TIMED_STEPS) - set(REST)))},"
            " mixed or rest",
            ExitCode.USAGE,
        )
    return [name for f in flows for name in (f, *(f"{f}.{s}" for s in TIMED_STEPS[f]))]


def test_of(sample: dict[str, Any]) -> str | None:
    """The test a sample belongs to, or None (a check, a count, an untimed step)."""
    kind, step = sample.get("kind", "step"), str(sample.get("step", ""))
    if kind == "workflow":
        return step if step in TIMED_STEPS else None
    if kind not in ("step", "derived"):
        return None
    flow, _, name = step.partition(":")
    return f"{flow}.{name}" if name in TIMED_STEPS.get(flow, ()) else None


def status_of(sample: dict[str, Any]) -> int:
    """A passed step's 2xx status (200 for a refusal the workflow expects, a wait, a whole
    workflow); a failed one's status when it was not 2xx, else 0."""
    status = int(sample.get("status") or 0)
    if sample.get("ok"):
        return status if 200 <= status < 300 else 200
    return 0 if 200 <= status < 300 else status


def write(
    kept: dict[str, Any],
    raw: Path,
    workload: str,
    rounds: int,
    round_s: float,
    warmup: float,
) -> dict[str, list[int]]:
    """Every test's rounds under `raw`; test -> its requests in each round."""
    names = tests(workload)
    started = float(kept["started"])
    whole = max(float(kept.get("elapsed_s") or 0.0), warmup + rounds * round_s)
    cpu_share = float(kept.get("cpu_s") or 0.0) * round_s / whole if whole else 0.0
    rows: dict[tuple[str, int], list[str]] = defaultdict(list)
    for sample in kept["samples"]:
        name = test_of(sample)
        ends = float(sample["at"])
        seconds = float(sample["ms"]) / 1000.0
        begins = ends - seconds
        k = int((begins - warmup) // round_s) + 1 if begins >= warmup else 0
        if name is None or not 1 <= k <= rounds:
            continue
        offset = begins - warmup - (k - 1) * round_s
        rows[(name, k)].append(
            f"{seconds:.4f},0,0,0,0,0,{status_of(sample)},{offset:.4f}"
        )
    counts: dict[str, list[int]] = {}
    for name in names:
        folder = raw / name
        folder.mkdir(parents=True, exist_ok=True)
        counts[name] = []
        for k in range(1, rounds + 1):
            lines = rows.get((name, k), [])
            write_text_atomic(
                folder / f"round-{k}.csv", "\n".join([HEADER, *lines]) + "\n"
            )
            window = started + warmup + (k - 1) * round_s
            write_text_atomic(
                folder / f"round-{k}.time",
                f"started_at={window:.6f}\nelapsed={round_s:.2f}\n"
                f"user={cpu_share:.2f}\nsys=0.00\nexit=0\n",
            )
            counts[name].append(len(lines))
    return counts


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG)
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("tests", help="the scenario's test names")
    listing.add_argument("--workload", default="mixed")
    cut = sub.add_parser("write", help="a run's samples as rounds of hey's files")
    cut.add_argument("--samples", type=Path, required=True)
    cut.add_argument("--raw", type=Path, required=True)
    cut.add_argument("--workload", default="mixed")
    cut.add_argument("--rounds", type=int, required=True)
    cut.add_argument("--round-seconds", type=float, required=True)
    cut.add_argument("--warmup", type=float, default=0.0)
    return parser


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.action == "tests":
            print("\n".join(tests(args.workload)))
            return 0
        if args.rounds < 1 or args.round_seconds <= 0:
            raise KitError("--rounds and --round-seconds: over 0", ExitCode.USAGE)
        try:
            kept = json.loads(args.samples.read_text())
            float(kept["started"]) + len(kept["samples"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KitError(
                f"{args.samples}: not the samples of a workflows run ({exc})",
                ExitCode.BENCHMARK_FAILED,
            ) from None
        counts = write(
            kept, args.raw, args.workload, args.rounds, args.round_seconds, args.warmup
        )
    except KitError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return int(exc.code)
    for name, per_round in counts.items():
        print(f"{name} {' '.join(str(n) for n in per_round)}")
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
