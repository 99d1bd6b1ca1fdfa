"""What a tune sweep recommends, as settings files: recommended.env (the fragment: only what
measured better beyond noise) and .env.example (the stack's benchmarking settings and every
measured candidate with its effect, the date and the release it was measured on).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfkit.gateway.settings import effective, is_secret, read_file
from perfkit.tune.text import change_text

# names whose stack value is this machine's own (a path, a login): shown, commented out
LOCAL_VALUES = frozenset({"DATABASE_URL", "PLATFORM_ADMIN_EMAIL", "REDIS_URL"})


def is_recommended(row: dict[str, Any], data: dict[str, Any]) -> bool:
    chosen = data["recommended"]
    return row["verdict"] == "better" and all(
        chosen.get(name) == value for name, value in row["settings"].items()
    )


def measured_line(row: dict[str, Any]) -> str:
    effects = row.get("effects") or {}
    found = [
        f"{name} {change_text(effects.get(key))}"
        for key, name in (("rps", "req/s"), ("p50", "p50"), ("p95", "p95"))
        if effects.get(key)
    ]
    tests = effects.get("rps", {}).get("tests")
    over = f" over {tests} tests" if tests else ""
    return f"{row['verdict']}" + (f": {', '.join(found)}{over}" if found else "")


def provenance(data: dict[str, Any]) -> str:
    workload = data["workload"]
    cores = data["measured_on"]["cores"]
    return (
        f"measured {data['finished_at'][:10]} on release {data['release']}, "
        f"{workload['profile']} over {workload['scenarios']}"
        f"{' (' + workload['tests'] + ')' if workload['tests'] else ''}, "
        f"{cores} cores, each against the kit's local stack in an interleaved A/B"
    )


def env_fragment(data: dict[str, Any]) -> str:
    lines = [f"# make tune: {provenance(data)}"]
    if data.get("partial"):
        lines.append(f"# PARTIAL sweep: {data['partial']}")
    if not data["recommended"]:
        lines.append("# no setting measured better beyond noise: keep the defaults")
    for row in data["candidates"]:
        if not is_recommended(row, data):
            continue
        lines.append(f"# {row['label']}: {measured_line(row)}")
        if row.get("trade_off"):
            lines.append(f"#   gives up: {row['trade_off']}")
    if (combination := data.get("combination")) is not None:
        lines.append(f"# all of them together: {measured_line(combination)}")
    lines += [f"{name}={value}" for name, value in data["recommended"].items()]
    return "\n".join(lines) + "\n"


def stack_lines(stack_env: Path | None) -> list[str]:
    if stack_env is None or not stack_env.is_file():
        return ["# (the local stack's settings file was not found: run make up once)"]
    lines = []
    for setting in effective(read_file(stack_env)):
        # a number is a lifetime or a limit (TOKEN_EXPIRY=120), not one of the stack's secrets
        if is_secret(setting.name) and not setting.value.isdigit():
            lines.append(
                f"{setting.name}=  # a secret: set your own (the kit makes a random one)"
            )
        elif setting.name in LOCAL_VALUES:
            lines.append(
                f"# {setting.name}={setting.value}  # this machine's own: set yours"
            )
        else:
            lines.append(f"{setting.name}={setting.value}")
    return lines


def env_example(data: dict[str, Any], stack_env: Path | None) -> str:
    lines = [
        "# Gateway settings for ContextForge MCP Gateway, from the MCP Gateway Performance Kit.",
        "# Written by `make tune ENV_EXAMPLE=1` (utils/tune.sh --write-env-example); run it",
        "# again to measure them on your machine. Copy what you need into the gateway's .env.",
        "#",
        "# --- For benchmarking: the settings the kit's local stack (make up) starts the gateway",
        "# with - no rate limiter or UI in the way, errors-only logging, loopback MCP servers allowed.",
        *stack_lines(stack_env),
        "#",
        "# --- For production throughput: what make tune measured",
        f"# ({provenance(data)}).",
        "# Uncommented: measured better beyond noise. Commented: measured, and not better.",
    ]
    if data.get("partial"):
        lines.append(f"# PARTIAL sweep: {data['partial']}")
    for row in data["candidates"]:
        better = is_recommended(row, data)
        lines.append(f"# {row['label']}: {measured_line(row)}")
        if row.get("trade_off"):
            lines.append(f"#   gives up: {row['trade_off']}")
        for name, value in row["settings"].items():
            lines.append(f"{'' if better else '# '}{name}={value}")
    if (combination := data.get("combination")) is not None:
        lines.append(
            f"# the recommended settings together: {measured_line(combination)}"
        )
    return "\n".join(lines) + "\n"
