"""`perfkit gateway describe|settings|record`: the gateway build and settings, for the shell.

  perfkit gateway describe SPEC [--state-dir DIR] [--format shell|json] [--prefix GW_]
      the build SPEC names (a release, a wheel or sdist, a source folder): kind, key, label,
      version, path, its venv and what pip installs (REQUIREMENT, REQUIREMENT_POSTGRES with
      the [postgres] extra); `shell` prints PREFIX-named assignments for bash to eval
  perfkit gateway settings [--file FILE]... [--set NAME=VALUE]... [--set-flag FLAG]
      [--venv DIR [--release LABEL]] [--output FILE] [--shell-output FILE]
      parses the settings (exit 2 naming FILE:LINE for a malformed line); with --venv checks
      every name against the release installed there (exit 2 naming an unknown one); prints
      the effective settings, secrets masked; --output writes them in the settings file
      format, --shell-output as NAME='VALUE' lines for bash (both 0600)
  perfkit gateway record OUT SPEC [--settings FILE]
      writes gateway.json (perfkit.gateway.record): SPEC's build and FILE's settings, masked

Formats and rules: perfkit.gateway.build (builds), perfkit.gateway.settings (settings files),
perfkit.gateway.release (which names a release reads).
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from perfkit.config import ArgumentParser
from perfkit.gateway.build import Build, identify
from perfkit.gateway.record import build_block, write_record
from perfkit.gateway.release import package_dir, read_release
from perfkit.gateway.settings import (
    check_known,
    effective,
    gather,
    masked,
    read_file,
    settings_text,
    shell_text,
    write_private,
)
from perfkit.names import KIT_ROOT

PROG = "perfkit gateway"


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    describe = sub.add_parser("describe", prog=f"{PROG} describe", help="name a build")
    describe.add_argument("spec", metavar="SPEC")
    describe.add_argument("--state-dir", type=Path, default=KIT_ROOT / ".state")
    describe.add_argument("--format", choices=("shell", "json"), default="shell")
    describe.add_argument("--prefix", default="GW_", help="shell names' prefix")
    settings = sub.add_parser(
        "settings", prog=f"{PROG} settings", help="check settings"
    )
    settings.add_argument("--file", type=Path, action="append", default=[])
    settings.add_argument("--set", dest="pairs", action="append", default=[])
    settings.add_argument(
        "--set-flag", default="--set", help="the flag named in messages"
    )
    settings.add_argument(
        "--venv", type=Path, help="check the names against this release"
    )
    settings.add_argument("--release", help="the release's label in messages")
    settings.add_argument("--output", type=Path)
    settings.add_argument("--shell-output", type=Path)
    record = sub.add_parser("record", prog=f"{PROG} record", help="write gateway.json")
    record.add_argument("output", type=Path, metavar="OUT")
    record.add_argument("spec", metavar="SPEC")
    record.add_argument("--settings", type=Path, help="a checked settings file")
    return parser


def describe_fields(build: Build, state_dir: Path) -> dict[str, str]:
    block = build_block(build)
    return {
        **{key: value or "" for key, value in block.items()},
        "venv": str(build.venv(state_dir)),
        "requirement": build.requirement(),
        "requirement_postgres": build.requirement("postgres"),
    }


def do_describe(args: argparse.Namespace) -> int:
    fields = describe_fields(identify(args.spec), args.state_dir.resolve())
    if args.format == "json":
        print(json.dumps(fields, indent=2))
        return 0
    for key, value in fields.items():
        print(f"{args.prefix}{key.upper()}={shlex.quote(value)}")
    return 0


def do_settings(args: argparse.Namespace) -> int:
    settings = gather(args.file, args.pairs, args.set_flag)
    if args.venv is not None:
        release = read_release(package_dir(args.venv))
        check_known(settings, release, args.release or str(args.venv))
    if args.output is not None:
        write_private(args.output, settings_text(settings))
    if args.shell_output is not None:
        write_private(args.shell_output, shell_text(settings))
    for name, value in masked(effective(settings)).items():
        print(f"{name}={value}")
    return 0


def do_record(args: argparse.Namespace) -> int:
    overrides = masked(read_file(args.settings)) if args.settings else {}
    write_record(args.output, identify(args.spec), overrides)
    return 0


def cli(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    actions = {"describe": do_describe, "settings": do_settings, "record": do_record}
    return actions[args.action](args)
