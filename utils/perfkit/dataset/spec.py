"""Dataset files (datasets/<NAME>.yaml): what `make populate DATASET=NAME` writes, and its
estimate (`--dry-run`).

A dataset names counts of entities and, optionally, the shape of the data (defaults in SHAPE):

  description: one line for people
  backends: [sqlite, postgresql]   # where it may be written without --force (first: recommended)
  counts: {users, login_users, teams, gateways, tools, servers, prompts, resources,
           tool_metrics, prompt_metrics, resource_metrics, server_metrics}
  shape: {visibility: {public, team, private}, members_per_team: [lo, hi],
          tools_per_server: [lo, hi], prompts_per_server: [lo, hi],
          resources_per_server: [lo, hi], gateway_skew: s, description_words: [lo, hi],
          metric_hours: h}

This module only reads and checks; it imports nothing outside the standard library and PyYAML's
absence is tolerated by the part the gateway's venv runs (plan.py takes a Dataset as JSON).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from perfkit.exitcodes import ExitCode, KitError

COUNT_KEYS = (
    "users",
    "login_users",
    "teams",
    "gateways",
    "tools",
    "servers",
    "prompts",
    "resources",
    "tool_metrics",
    "prompt_metrics",
    "resource_metrics",
    "server_metrics",
)
BACKENDS = ("sqlite", "postgresql")
# what a dataset leaves as it is: the shape of production data as far as the kit models it
SHAPE: dict[str, Any] = {
    # share of tools, servers, prompts and resources by visibility
    "visibility": {"public": 0.4, "team": 0.4, "private": 0.2},
    # members of a shared team, its owner included (capped by the users there are)
    "members_per_team": [3, 25],
    # tools, prompts and resources attached to a virtual server
    "tools_per_server": [5, 50],
    "prompts_per_server": [0, 10],
    "resources_per_server": [0, 10],
    # Zipf exponent of tools over gateways: a few gateways carry most tools
    "gateway_skew": 1.1,
    "description_words": [8, 40],
    # raw metric rows are spread over this many hours before now (1.0.7 rolls raw rows older
    # than an hour up into its *_hourly tables and deletes them: a day of raw rows does not last)
    "metric_hours": 1,
}
RANGE_KEYS = (
    "members_per_team",
    "tools_per_server",
    "prompts_per_server",
    "resources_per_server",
    "description_words",
)


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    backends: tuple[str, ...]
    counts: dict[str, int]
    shape: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["backends"] = list(self.backends)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dataset:
        return cls(
            name=data["name"],
            description=data["description"],
            backends=tuple(data["backends"]),
            counts=dict(data["counts"]),
            shape=dict(data["shape"]),
        )


def datasets_dir(kit_root: Path) -> Path:
    return kit_root / "datasets"


def available(kit_root: Path) -> list[str]:
    return sorted(p.stem for p in datasets_dir(kit_root).glob("*.yaml"))


def load(kit_root: Path, name: str) -> Dataset:
    """datasets/NAME.yaml, checked; exit 2 naming the problem and the fix."""
    import yaml  # the kit's venv only: the gateway's venv gets the Dataset as JSON

    path = datasets_dir(kit_root) / f"{name}.yaml"
    if not name or "/" in name or not path.is_file():
        have = ", ".join(available(kit_root)) or "none"
        raise KitError(
            f"dataset '{name}' not found (have: {have}); "
            f"a dataset is a file datasets/<NAME>.yaml",
            ExitCode.USAGE,
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise KitError(f"{path}: not valid YAML: {exc}", ExitCode.USAGE) from exc
    return parse(name, data, str(path))


def parse(name: str, data: Any, where: str) -> Dataset:
    if not isinstance(data, dict):
        raise KitError(f"{where}: expected a mapping at the top", ExitCode.USAGE)
    unknown = sorted(set(data) - {"description", "backends", "counts", "shape"})
    if unknown:
        raise KitError(
            f"{where}: unknown key(s) {', '.join(unknown)} "
            "(known: description, backends, counts, shape)",
            ExitCode.USAGE,
        )
    backends = data.get("backends", list(BACKENDS))
    if (
        not isinstance(backends, list)
        or not backends
        or any(b not in BACKENDS for b in backends)
    ):
        raise KitError(
            f"{where}: backends must list some of {', '.join(BACKENDS)}, got {backends!r}",
            ExitCode.USAGE,
        )
    return Dataset(
        name=name,
        description=str(data.get("description", "")),
        backends=tuple(backends),
        counts=parse_counts(data.get("counts"), where),
        shape=parse_shape(data.get("shape") or {}, where),
    )


def parse_counts(counts: Any, where: str) -> dict[str, int]:
    if not isinstance(counts, dict):
        raise KitError(
            f"{where}: counts must be a mapping of {', '.join(COUNT_KEYS)}",
            ExitCode.USAGE,
        )
    unknown = sorted(set(counts) - set(COUNT_KEYS))
    if unknown:
        raise KitError(
            f"{where}: unknown count(s) {', '.join(unknown)} (known: {', '.join(COUNT_KEYS)})",
            ExitCode.USAGE,
        )
    parsed = {}
    for key in COUNT_KEYS:
        value = counts.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise KitError(
                f"{where}: counts.{key} must be a whole number >= 0, got {value!r}",
                ExitCode.USAGE,
            )
        parsed[key] = value
    if parsed["login_users"] > parsed["users"]:
        raise KitError(
            f"{where}: counts.login_users ({parsed['login_users']}) is more than "
            f"counts.users ({parsed['users']})",
            ExitCode.USAGE,
        )
    owned = ("teams", "tools", "servers", "prompts", "resources", "gateways")
    if parsed["users"] == 0 and any(parsed[k] for k in owned):
        raise KitError(
            f"{where}: counts.users is 0 but teams, gateways, tools, servers, prompts or "
            "resources need owners; give it at least 1 user",
            ExitCode.USAGE,
        )
    if parsed["tools"] and not parsed["gateways"]:
        raise KitError(
            f"{where}: counts.tools needs at least 1 gateway to spread them over",
            ExitCode.USAGE,
        )
    for metric, owner in (
        ("tool_metrics", "tools"),
        ("prompt_metrics", "prompts"),
        ("resource_metrics", "resources"),
        ("server_metrics", "servers"),
    ):
        if parsed[metric] and not parsed[owner]:
            raise KitError(
                f"{where}: counts.{metric} needs counts.{owner} > 0 (metrics are of them)",
                ExitCode.USAGE,
            )
    return parsed


def parse_shape(shape: Any, where: str) -> dict[str, Any]:
    if not isinstance(shape, dict):
        raise KitError(f"{where}: shape must be a mapping", ExitCode.USAGE)
    unknown = sorted(set(shape) - set(SHAPE))
    if unknown:
        raise KitError(
            f"{where}: unknown shape key(s) {', '.join(unknown)} (known: {', '.join(SHAPE)})",
            ExitCode.USAGE,
        )
    merged = json.loads(json.dumps(SHAPE)) | shape
    for key in RANGE_KEYS:
        lo_hi = merged[key]
        if (
            not isinstance(lo_hi, list)
            or len(lo_hi) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in lo_hi)
            or not 0 <= lo_hi[0] <= lo_hi[1]
        ):
            raise KitError(
                f"{where}: shape.{key} must be [low, high] whole numbers, 0 <= low <= high, "
                f"got {lo_hi!r}",
                ExitCode.USAGE,
            )
    shares = merged["visibility"]
    if (
        not isinstance(shares, dict)
        or set(shares) - {"public", "team", "private"}
        or not all(isinstance(v, (int, float)) and v >= 0 for v in shares.values())
        or sum(shares.values()) <= 0
    ):
        raise KitError(
            f"{where}: shape.visibility must give shares >= 0 of public, team, private, "
            f"got {shares!r}",
            ExitCode.USAGE,
        )
    for key in ("gateway_skew", "metric_hours"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise KitError(
                f"{where}: shape.{key} must be a number >= 0, got {value!r}",
                ExitCode.USAGE,
            )
    return merged
