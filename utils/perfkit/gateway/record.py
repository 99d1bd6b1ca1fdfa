"""gateway.json: what a local stack's gateway is - its build and the settings given on top of
the stack's own. `utils/local-stack.sh up` writes it into the stack's folder
(`.state/<stack>/gateway.json`, `perfkit gateway record`); `perfkit run-init --gateway-record
FILE` copies it into run.json's target (`build`, `env_overrides`). This module owns the file:
its name, its schema versions and its one loader.

Schema versions of gateway.json:
  1 - build (kind, key, label, version, path), env_overrides (NAME -> VALUE; the values of
      names holding SECRET, PASSWORD, TOKEN or KEY masked as ***)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.gateway.build import Build
from perfkit.jsonfile import load_versioned, malformed

RECORD_FILE = "gateway.json"
SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)
BUILD_KEYS = ("kind", "key", "label", "version", "path")


@dataclass(frozen=True)
class GatewayRecord:
    build: dict[str, str | None]  # BUILD_KEYS
    env_overrides: dict[str, str]  # masked


def build_block(build: Build) -> dict[str, str | None]:
    return {
        "kind": build.kind,
        "key": build.key,
        "label": build.label,
        "version": build.version,
        "path": build.path,
    }


def write_record(path: Path, build: Build, overrides: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(
        path,
        {
            "schema_version": SCHEMA_VERSION,
            "build": build_block(build),
            "env_overrides": overrides,
        },
    )


def load_record(path: Path) -> GatewayRecord:
    data = load_versioned(
        path, RECORD_FILE, READABLE_VERSIONS, "utils/local-stack.sh up writes it"
    )
    try:
        return GatewayRecord(
            build=checked_build(data["build"]),
            env_overrides=checked_overrides(data["env_overrides"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise malformed(path, RECORD_FILE, exc) from None


def build_text(build: Any) -> str | None:
    """How a page names a recorded build: `release 1.0.7`, `wheel NAME.whl (build-1a2b...)`."""
    if not isinstance(build, dict) or not build.get("label"):
        return None
    if build.get("kind") == "release":
        return f"release {build['label']}"
    return f"{build.get('kind')} {build['label']} ({build.get('key')})"


def overrides_text(overrides: Any) -> str | None:
    """`NAME=VALUE, ...` of recorded settings overrides (already masked); None for none."""
    if not isinstance(overrides, dict) or not overrides:
        return None
    return ", ".join(f"{name}={value}" for name, value in overrides.items())


def checked_build(block: Any) -> dict[str, str | None]:
    if not isinstance(block, dict):
        raise TypeError("build is not an object")
    for key in ("kind", "key", "label"):
        if not isinstance(block.get(key), str):
            raise TypeError(f"build.{key} is not a string")
    return {key: block.get(key) for key in BUILD_KEYS}


def checked_overrides(block: Any) -> dict[str, str]:
    if not isinstance(block, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in block.items()
    ):
        raise TypeError("env_overrides is not an object of strings")
    return dict(block)
