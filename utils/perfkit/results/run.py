"""run.json: a run's target, environment fingerprint and the settings used. This module owns
the file: its name, its schema versions and its one loader.

`perfkit run-init RUN_DIR --kit-root DIR --profile NAME --settings-json FILE
--target-url URL [--gateway-version V] [--hey-bin PATH] [--db-backend B] [--gateway-info FILE]
[--gateway-record FILE] [--load-as JSON]` writes it, before any load is sent; an existing run.json is never
overwritten.

Schema versions of run.json:
  1 - profile, started_at, target (url, gateway_version, gateway_settings), environment, settings
      Added within version 1, optional (null or absent in older files): target.build (kind,
      key, label, version, path of the build the local stack ran) and target.env_overrides
      (NAME -> VALUE given on top of the stack's settings, secrets masked), both from the
      stack's gateway.json (perfkit.gateway.record); target.load_as (who the load ran as:
      kind benchmark-token | user-token | none, email, permissions, token_id, expires_at,
      note - never the token; perfkit.benchtoken.Identity), added 2026-12-06
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]  # no types-psutil in the venv

from perfkit.clock import now_iso
from perfkit.config import (
    PARSERS,
    RUN_JSON_KEYS,
    ArgumentParser,
    run_json_settings,
    usage,
)
from perfkit.gateway.record import load_record
from perfkit.jsonfile import load_versioned

RUN_FILE = "run.json"
SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)
COMMAND_TIMEOUT_S = 10


@dataclass(frozen=True)
class Fingerprint:
    """What the numbers depend on besides the gateway: compare it before comparing runs."""

    cpu_model: str | None
    logical_cores: int | None
    memory_total_bytes: int
    os: str
    kernel: str
    python_version: str
    hey_version: str | None  # the Debian package version; hey has no --version
    hey_path: str | None
    kit_commit: str | None  # short hash, "-dirty" with uncommitted changes
    hostname: str


@dataclass(frozen=True)
class Target:
    url: str
    gateway_version: str | None
    gateway_settings: dict[str, Any] | None = (
        None  # what the gateway's /version reports
    )
    # the local stack's build, and the settings given on top of its own (masked): gateway.json
    build: dict[str, str | None] | None = None
    env_overrides: dict[str, str] | None = None
    # who the load ran as (perfkit.benchtoken.Identity): never the token itself
    load_as: dict[str, Any] | None = None


# where the gateway listens, not how it performs: two stacks on other ports are like for like
LISTENING_ENV = ("HOST", "PORT")


def gateway_settings(version_answer: dict[str, Any]) -> dict[str, Any]:
    """The benchmark-relevant settings in a gateway's GET /version answer."""

    def block(name: str) -> dict[str, Any]:
        value = version_answer.get(name)
        return value if isinstance(value, dict) else {}

    runtime = block("mcp_runtime")
    return {
        "database": block("database").get("dialect"),
        "redis_reachable": block("redis").get("reachable"),
        **{f"settings.{k}": v for k, v in sorted(block("settings").items())},
        "mcp_runtime": runtime.get("effective_mode") or runtime.get("mode"),
        **{
            f"env.{k}": v
            for k, v in sorted(block("env").items())
            if k not in LISTENING_ENV
        },
        "python": block("platform").get("python"),
    }


def read_gateway_info(path: Path) -> tuple[str | None, dict[str, Any] | None]:
    """(version, settings) from a saved GET /version answer; (None, None) if unreadable."""
    try:
        answer = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    if not isinstance(answer, dict):
        return None, None
    app = answer.get("app") if isinstance(answer.get("app"), dict) else {}
    version = app.get("version") if isinstance(app, dict) else None
    return (str(version) if version else None), gateway_settings(answer)


@dataclass(frozen=True)
class RunInfo:
    schema_version: int
    profile: str
    started_at: str
    target: Target
    environment: Fingerprint
    settings: dict[str, Any]


def command_output(args: list[str], cwd: Path | None = None) -> str | None:
    """stdout of a quick command, stripped; None when it is missing or fails."""
    try:
        done = subprocess.run(
            args,
            check=False,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    try:
        lines = cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return value.strip()
    return platform.processor() or None


def os_name() -> str:
    try:
        return platform.freedesktop_os_release()["PRETTY_NAME"]
    except (OSError, KeyError):
        return platform.system()


def hey_version(hey_path: str | None) -> str | None:
    """The dpkg version of hey, only when dpkg owns the hey that will run."""
    if hey_path is None:
        return None
    owner = command_output(["dpkg-query", "-S", os.path.realpath(hey_path)])
    if owner is None or not owner.startswith("hey:"):
        return None
    return command_output(["dpkg-query", "-W", "-f", "${Version}", "hey"]) or None


def kit_commit(kit_root: Path) -> str | None:
    commit = command_output(["git", "rev-parse", "--short", "HEAD"], cwd=kit_root)
    if not commit:
        return None
    dirty = command_output(["git", "status", "--porcelain"], cwd=kit_root)
    return f"{commit}-dirty" if dirty else commit


def collect_fingerprint(kit_root: Path, hey_bin: str) -> Fingerprint:
    hey_path = shutil.which(hey_bin)
    return Fingerprint(
        cpu_model=cpu_model(),
        logical_cores=os.cpu_count(),
        memory_total_bytes=psutil.virtual_memory().total,
        os=os_name(),
        kernel=platform.release(),
        python_version=platform.python_version(),
        hey_version=hey_version(hey_path),
        hey_path=os.path.abspath(hey_path) if hey_path else None,
        kit_commit=kit_commit(kit_root),
        hostname=socket.gethostname(),
    )


def fingerprint(kit_root: Path, hey_bin: str) -> dict[str, Any]:
    """The run.json `environment` block, as a plain dict."""
    return asdict(collect_fingerprint(kit_root, hey_bin))


def read_settings(path: Path) -> dict[str, Any]:
    """Read and check `perfkit config --format json` output (PERF_ names)."""
    fix = "write it with `perfkit config --format json`"
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise usage(f"cannot read settings {path}: {exc.strerror}; {fix}") from None
    except ValueError as exc:
        raise usage(f"settings {path} is not valid JSON ({exc}); {fix}") from None
    missing = [
        n
        for n in RUN_JSON_KEYS.values()
        if not isinstance(values, dict) or n not in values
    ]
    if missing:
        raise usage(f"settings {path} lack {', '.join(missing)}; {fix}")
    return dict(values)


def build_run_info(args: argparse.Namespace) -> RunInfo:
    values = read_settings(args.settings_json)
    settings = run_json_settings(values)
    hey_bin = args.hey_bin or values.get("PERF_HEY_BIN") or "hey"
    if args.db_backend is not None:
        settings["db_backend"] = parse_arg("--db-backend", args.db_backend, "db")
    return RunInfo(
        schema_version=SCHEMA_VERSION,
        profile=args.profile,
        started_at=now_iso(),
        target=build_target(args),
        environment=collect_fingerprint(args.kit_root, str(hey_bin)),
        settings=settings,
    )


def build_target(args: argparse.Namespace) -> Target:
    url = parse_arg("--target-url", args.target_url, "url")
    version, settings = args.gateway_version, None
    if args.gateway_info is not None:
        reported, settings = read_gateway_info(args.gateway_info)
        version = version or reported
    load_as = parse_load_as(args.load_as)
    if args.gateway_record is None:
        return Target(url, version, settings, load_as=load_as)
    record = load_record(args.gateway_record)
    return Target(url, version, settings, record.build, record.env_overrides, load_as)


def parse_load_as(text: str | None) -> dict[str, Any] | None:
    """--load-as: perfkit bench-token's identity JSON (empty: not known)."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
        raise usage(
            f"--load-as {text[:80]!r} is not an identity object (perfkit bench-token)"
        )
    return value


def parse_arg(flag: str, text: str, kind: str) -> Any:
    try:
        return PARSERS[kind](text)
    except ValueError as exc:
        raise usage(f"{flag} {text!r} {exc}") from None


def write_run_json(run_dir: Path, info: RunInfo) -> Path:
    """Write run.json, refusing to replace one: each run gets a fresh folder."""
    path = run_dir / RUN_FILE
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(info), indent=2) + "\n")
    except FileExistsError:
        raise usage(
            f"{path} already exists: start a new run folder, or remove it"
        ) from None
    return path


def load_run(run_dir: Path) -> dict[str, Any]:
    """run.json, refused unless its schema version is known and the settings we need are set."""
    path = run_dir / RUN_FILE
    data = load_versioned(path, RUN_FILE, READABLE_VERSIONS, "not a run folder?")
    settings = data.get("settings") or {}
    for name in ("error_threshold", "generator_cpu_warning"):
        if not isinstance(settings.get(name), int | float):
            raise usage(f"{path}: settings.{name} missing or not a number")
    return data


def cli(argv: list[str]) -> int:
    parser = ArgumentParser(prog="perfkit run-init", description=__doc__)
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--kit-root", type=Path, required=True)
    parser.add_argument("--profile", required=True)
    parser.add_argument("--settings-json", type=Path, required=True)
    parser.add_argument("--target-url", required=True)
    parser.add_argument(
        "--gateway-version", help="the target's version (null if unknown)"
    )
    parser.add_argument(
        "--hey-bin", help="the hey to fingerprint (default: PERF_HEY_BIN)"
    )
    parser.add_argument("--db-backend", help="overrides the settings' db_backend")
    parser.add_argument(
        "--gateway-info",
        type=Path,
        help="the gateway's GET /version answer: its version and benchmark settings",
    )
    parser.add_argument(
        "--load-as",
        help="who the load runs as: perfkit bench-token's identity JSON (never the token)",
    )
    parser.add_argument(
        "--gateway-record",
        type=Path,
        help="the local stack's gateway.json: the build it runs and its settings overrides",
    )
    args = parser.parse_args(argv)
    write_run_json(args.run_dir, build_run_info(args))
    return 0
