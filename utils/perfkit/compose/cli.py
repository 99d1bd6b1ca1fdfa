"""`perfkit compose generate|validate`: the Docker Compose stack of the benchmark.

  perfkit compose generate --servers N [--database sqlite|postgresql|both] --output FILE
      [--gateway-version V] [--gateway-workers W] [--gateway-instances K] [--gateway-port P]
      [--server-base-port P] [--gateway-cpus C] [--gateway-memory M] [--server-cpus C]
      [--server-memory M] [--force]
  perfkit compose validate FILE [--schema PATH]

generate prints the Compose file's path (what goes in it: perfkit.compose.plan; how it is written:
perfkit.compose.render); validate prints one OK line, or exits 2 naming every problem
(perfkit.compose.validate). The gateway version and the admin login default to the kit's
settings (service.gateway_version, GATEWAY_VERSION; auth.email, auth.password).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from perfkit.compose.plan import RANGES, ComposeOptions, flag, whole_number
from perfkit.compose.render import write_compose
from perfkit.compose.validate import DEFAULT_SCHEMA, validate_file
from perfkit.config import ArgumentParser, load_settings
from perfkit.config_checks import usage
from perfkit.names import KIT_ROOT

PROG = "perfkit compose"
SHOWN_PROBLEMS = 20
# generate's options with a default (ComposeOptions'), as ComposeOptions names them
OPTIONS = {
    "database": "sqlite, postgresql (gateway on PostgreSQL) or both (one of each)",
    "gateway_workers": "workers per gateway",
    "gateway_instances": "gateway replicas on one PostgreSQL database",
    "gateway_port": "the first gateway's host port (the next ones count up)",
    "server_base_port": "MCP server i listens on this + i",
    "gateway_cpus": "CPU limit per gateway",
    "gateway_memory": "memory limit per gateway",
    "server_cpus": "CPU limit per MCP server",
    "server_memory": "memory limit per MCP server",
}


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    gen = sub.add_parser("generate", prog=f"{PROG} generate", help="write the file")
    gen.add_argument(
        "--servers",
        required=True,
        help="benchmark MCP servers ({}-{})".format(*RANGES["servers"]),
    )
    gen.add_argument("--output", type=Path, required=True, help="the Compose file")
    gen.add_argument("--gateway-version", help="default: service.gateway_version")
    for name, text in OPTIONS.items():
        default = str(getattr(ComposeOptions, name))
        limits = "{}-{}, ".format(*RANGES[name]) if name in RANGES else ""
        gen.add_argument(
            flag(name), default=default, help=f"{text} ({limits}{default})"
        )
    gen.add_argument("--force", action="store_true", help="replace a foreign file")
    check = sub.add_parser("validate", prog=f"{PROG} validate", help="check a file")
    check.add_argument("file", type=Path, metavar="FILE")
    check.add_argument(
        "--schema",
        type=Path,
        default=DEFAULT_SCHEMA,
        help="JSON schema (default: the vendored Compose Specification)",
    )
    return parser


def do_generate(args: argparse.Namespace) -> int:
    # the kit's settings as every command resolves them (config.yaml < environment); the
    # default profile, as gateway_version and auth are not per-profile settings
    settings = load_settings(KIT_ROOT, "light", {}, os.environ)
    values: dict[str, Any] = {name: getattr(args, name) for name in OPTIONS}
    for name, (low, high) in RANGES.items():
        values[name] = whole_number(flag(name), getattr(args, name), low, high)
    options = ComposeOptions(
        output=args.output,
        gateway_version=args.gateway_version or settings.gateway_version,
        cache=settings.cache,
        **values,
    )
    path = write_compose(
        options, settings.auth_email, settings.auth_password, args.force
    )
    print(path)
    return 0


def do_validate(args: argparse.Namespace) -> int:
    problems = validate_file(args.file, args.schema)
    if problems:
        shown = "\n  ".join(problems[:SHOWN_PROBLEMS])
        more = len(problems) - SHOWN_PROBLEMS
        tail = f"\n  ... and {more} more" if more > 0 else ""
        raise usage(
            f"{args.file}: {len(problems)} problem(s); generate it again"
            f" (make compose-generate):\n  {shown}{tail}"
        )
    print(f"{args.file}: OK (Compose Specification schema and the kit's checks)")
    return 0


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    return do_generate(args) if args.action == "generate" else do_validate(args)
