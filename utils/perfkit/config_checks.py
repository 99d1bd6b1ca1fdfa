"""Value validation for perfkit config: parse each setting's text into its typed value, and the
checks across settings (requests vs concurrency, warm-up, payload folders).

Every failure names the setting, the value, where it came from and the fix; perfkit.config
loads and merges the layers and calls these.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from perfkit.exitcodes import ExitCode, KitError
from perfkit.names import (
    ADVANCED_SCENARIOS,
    JUDGED_METRICS,
    NAMED_SCENARIOS,
    PAYLOAD_VARS,
    REPORTED_METRICS,
    SCENARIOS,
)

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
WARMUP_WHEN_TRUE = 20


def usage(message: str) -> KitError:
    return KitError(message, ExitCode.USAGE)


# --- value parsers: text -> typed value, or ValueError("<problem>: <fix>") ---


def integer(text: str, minimum: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(
            f"is not a whole number: use an integer >= {minimum}"
        ) from None
    if value < minimum:
        raise ValueError(f"is too small: use an integer >= {minimum}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError("is not a positive number: use e.g. 0.8")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError("is not a number of 0 or more: use e.g. 5 or 2.5")
    return value


def fraction(text: str, allow_zero: bool) -> float:
    body = text.strip()
    percent = body.endswith("%")
    try:
        value = float(body.removesuffix("%")) / (100 if percent else 1)
    except ValueError:
        raise ValueError(
            "is not a number: use a fraction such as 0.10 or 10%"
        ) from None
    if 0 < value < 1 or (allow_zero and value == 0):
        return value
    hint = f" (did you mean {value:g}%?)" if not percent and 1 <= value < 100 else ""
    low = "0 <=" if allow_zero else "0 <"
    raise ValueError(f"is not a fraction {low} x < 1{hint}: use e.g. 0.10 or 10%")


def optional_fraction(text: str) -> float | None:
    return fraction(text, False) if text.strip() else None


def gate_factor(text: str) -> float:
    value = positive_float(text)
    if value > 1:
        raise ValueError("is above 1: use e.g. 0.7 (gate at 70% of the threshold) or 1")
    return value


def choice(text: str, choices: tuple[str, ...]) -> str:
    if text.strip() not in choices:
        raise ValueError(f"is not one of {', '.join(choices)}: pick one of those")
    return text.strip()


def boolean(text: str) -> bool:
    word = text.strip().lower()
    if word not in {"true", "yes", "on", "1", "false", "no", "off", "0"}:
        raise ValueError("is not a boolean: use true or false")
    return word in {"true", "yes", "on", "1"}


def warmup(text: str) -> int:
    word = text.strip().lower()
    if word in {"true", "false"}:
        return WARMUP_WHEN_TRUE if word == "true" else 0
    return integer(text, 0)


def duration(text: str) -> str | None:
    body = text.strip()
    parts = DURATION_PART.findall(body)
    if not body:
        return None
    if not parts or "".join(n + u for n, u in parts) != body:
        raise ValueError(
            "is not a hey -z duration: use e.g. 30s, 10m, 1h (empty = off)"
        )
    if sum(float(n) * UNIT_SECONDS[u] for n, u in parts) <= 0:
        raise ValueError("is zero: use e.g. 30s, or leave it empty for request mode")
    return body


def http_url(text: str) -> str:
    body = text.strip().rstrip("/")
    try:
        parts = urlsplit(body)
        valid = parts.scheme in {"http", "https"} and bool(parts.hostname)
        valid = valid and (parts.port or 0) >= 0  # .port raises on a bad port
    except ValueError:
        valid = False
    if not valid:
        raise ValueError("is not an http(s) URL: use e.g. http://127.0.0.1:4444")
    return body


def redis_url(text: str) -> str:
    if text.strip() and urlsplit(text.strip()).scheme not in {
        "redis",
        "rediss",
        "unix",
    }:
        raise ValueError("is not a redis:// URL: use e.g. redis://127.0.0.1:6379/0")
    return text.strip()


def name(text: str, allow_empty: bool) -> str:
    if (allow_empty and not text.strip()) or NAME.fullmatch(text.strip()):
        return text.strip()
    raise ValueError("is not a name: use letters, digits and . _ + - only")


def words(text: str, choices: tuple[str, ...] = ()) -> tuple[str, ...]:
    items = tuple(dict.fromkeys(i.strip() for i in text.split(",") if i.strip()))
    if not items:
        raise ValueError("is empty: give a comma-separated list")
    unknown = [item for item in items if choices and item not in choices]
    if unknown:
        raise ValueError(
            f"has unknown {unknown[0]!r}: use some of {', '.join(choices)}"
        )
    return items


TEST_GLOB = re.compile(r"[A-Za-z0-9_.*?\[\]/-]+")


def test_globs(text: str) -> tuple[str, ...]:
    """--tests: a comma list of shell globs over test ids (scenario/name) or names; none = all."""
    if not text.strip():
        return ()
    items = words(text)
    bad = [item for item in items if not TEST_GLOB.fullmatch(item)]
    if bad:
        raise ValueError(
            f"has {bad[0]!r}: a test glob holds letters, digits, _ . - / and * ? [ ] only"
        )
    return items


def int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(integer(item, 1) for item in words(text))
    except ValueError:
        raise ValueError(
            "is not a list of positive integers: use e.g. 10,50,100"
        ) from None


def pool_levels(text: str) -> str:
    """auto (powers of two up to the pool's capacity, then 1.5 times it), off, or levels."""
    word = text.strip()
    if word in ("auto", "off"):
        return word
    try:
        return ",".join(str(n) for n in int_list(word))
    except ValueError:
        raise ValueError(
            "is not auto, off or a list of positive integers: use e.g. 1,2,4,8"
        ) from None


def postgres_url(text: str) -> str:
    if not re.fullmatch(r"postgres(ql)?://[^/\s]+/[A-Za-z0-9_]+", text.strip()):
        raise ValueError(
            "is not a PostgreSQL URL: use e.g. postgresql://postgres@127.0.0.1:5432/postgres"
        )
    return text.strip()


def text_value(text: str) -> str:
    if not text.strip():
        raise ValueError("is empty: give a value")
    return text.strip()


def protocol_version(text: str) -> str:
    """An MCP protocol revision (its date, 2025-06-18), or empty: none is sent."""
    version = text.strip()
    if version and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", version):
        raise ValueError(
            "is not an MCP protocol version: give its date, e.g. 2025-06-18, or leave it empty"
        )
    return version


PARSERS: dict[str, Callable[[str], Any]] = {
    "int0": lambda t: integer(t, 0),
    "int1": lambda t: integer(t, 1),
    "float": positive_float,
    "float0": non_negative_float,
    "workload": lambda t: choice(
        t, ("mixed", "baseline", "share", "collaborate", "token", "agent", "rest")
    ),
    "fraction": lambda t: fraction(t, False),
    "fraction0": lambda t: fraction(t, True),
    "manage": lambda t: choice(t, ("auto", "never", "always")),
    "db": lambda t: choice(t, ("sqlite", "postgresql")),
    "db_state": lambda t: choice(t, ("fresh", "keep")),
    "cache": lambda t: choice(t, ("memory", "database", "redis")),
    "bool": boolean,
    "warmup": warmup,
    "duration": duration,
    "url": http_url,
    "redis": redis_url,
    "name": lambda t: name(t, False),
    "name?": lambda t: name(t, True),
    "words": words,
    "metrics": lambda t: words(t, REPORTED_METRICS),
    "compare_metrics": lambda t: words(t, tuple(JUDGED_METRICS)),
    "baseline_mode": lambda t: choice(t, ("compare", "save", "skip")),
    "fraction?": optional_fraction,
    "gate_factor": gate_factor,
    "ints": int_list,
    "ints?": lambda t: int_list(t) if t.strip() else (),
    "pg_url": postgres_url,
    "text": text_value,
    "any": str,
    "protocol_version": protocol_version,
    "scale_protocol": lambda t: choice(t, ("mcp", "rpc")),
    "mcp_sessions": lambda t: choice(t, ("stateless", "stateful")),
    "tests": test_globs,
    "pool_levels": pool_levels,
}


@dataclass(frozen=True)
class Raw:
    """A setting's text as one layer gives it, and where it came from (for messages)."""

    text: str
    source: str


def parse_raw(var_name: str, raw: Raw, parse: Callable[[str], Any]) -> Any:
    try:
        return parse(raw.text)
    except ValueError as exc:
        raise usage(f"{var_name}={raw.text!r} (from {raw.source}) {exc}") from None


def expand_scenarios(raw: Raw, all_names: tuple[str, ...]) -> tuple[str, ...]:
    items = parse_raw(
        "PERF_SCENARIOS",
        raw,
        lambda t: words(t, ("all", *SCENARIOS, *NAMED_SCENARIOS, *ADVANCED_SCENARIOS)),
    )
    return tuple(
        dict.fromkeys(n for i in items for n in (all_names if i == "all" else [i]))
    )


def check_cache(values: Mapping[str, Any]) -> None:
    if values["PERF_CACHE"] == "redis" and not values["PERF_REDIS_URL"]:
        raise usage(
            "PERF_CACHE=redis needs PERF_REDIS_URL: set e.g. redis://127.0.0.1:6379/0"
        )


def check_dataset(values: Mapping[str, Any], root: Path) -> None:
    """service.dataset names a file datasets/NAME.yaml (make datasets lists them)."""
    name = values["PERF_DATASET"]
    if name and not (root / "datasets" / f"{name}.yaml").is_file():
        have = ", ".join(sorted(p.stem for p in (root / "datasets").glob("*.yaml")))
        raise usage(
            f"PERF_DATASET '{name}' not found (have: {have or 'none'}); "
            "a dataset is a file datasets/<NAME>.yaml"
        )


def load_notes(values: dict[str, Any]) -> list[str]:
    """Check requests against concurrency; round down, or zero them in duration mode."""
    requests, concurrency = values["PERF_REQUESTS"], values["PERF_CONCURRENCY"]
    if values["PERF_DURATION"]:
        values["PERF_REQUESTS"] = 0
        return [
            f"duration mode: rounds run {values['PERF_DURATION']} (hey -z), requests unused"
        ]
    if (
        requests == 0
    ):  # what a run exports in duration mode, read again without a duration
        raise usage(
            "PERF_REQUESTS='0' is too small: use an integer >= 1 (0 stands for duration mode"
            " alone, with PERF_DURATION)"
        )
    if requests < concurrency:
        raise usage(
            f"PERF_REQUESTS={requests} is smaller than PERF_CONCURRENCY={concurrency}: hey"
            " needs at least one request per worker; raise requests or lower concurrency"
        )
    values["PERF_REQUESTS"] = requests - requests % concurrency
    if requests == values["PERF_REQUESTS"]:
        return []
    rounded = values["PERF_REQUESTS"]
    note = f"PERF_REQUESTS={requests} rounded down to {rounded}, a multiple of"
    return [f"{note} PERF_CONCURRENCY={concurrency} (hey drops the remainder)"]


def warmup_notes(values: dict[str, Any]) -> list[str]:
    """The warm-up runs at the test's concurrency: make it a multiple of it (0 = off)."""
    warm, concurrency = values["PERF_WARMUP"], values["PERF_CONCURRENCY"]
    if warm % concurrency == 0:
        return []
    values["PERF_WARMUP"] = max(concurrency, warm - warm % concurrency)
    how = "raised" if warm < concurrency else "rounded down"
    note = f"PERF_WARMUP={warm} {how} to {values['PERF_WARMUP']}, a multiple of"
    return [f"{note} PERF_CONCURRENCY={concurrency} (one request per hey worker)"]


def check_json_file(path: Path) -> None:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise usage(f"payload {path} is unreadable ({exc.strerror}); fix it") from None
    except UnicodeDecodeError:
        raise usage(f"payload {path} is not UTF-8 text; save it as UTF-8") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
        raise usage(f"payload {path} is not valid JSON ({where}); fix it") from None


def check_payloads(values: Mapping[str, Any], raws: Mapping[str, Raw]) -> None:
    """Every payload folder must exist and hold valid *.json only (mixed uses several)."""
    for scenario, var_name in PAYLOAD_VARS.items():
        folder = values[var_name]
        if not folder.is_dir():
            raise usage(
                f"{var_name}={str(folder)!r} (from {raws[var_name].source}) is not a"
                f" folder: create it or set scenarios.{scenario}.payload_dir"
            )
        for path in sorted(folder.glob("*.json")):
            check_json_file(path)
