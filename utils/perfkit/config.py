"""Resolve the kit's settings, validate them all, print them for bash or as JSON.

Precedence: built-in defaults < config.yaml < profiles/<NAME>.env < environment < --set.
Profiles are read here as KEY=VALUE lines, never sourced; empty environment variables
count as unset; paths are resolved against the kit root. Thresholds take a fraction
(0.10) or a percentage (10%); the error threshold may be 0 (no errors tolerated).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from perfkit.compare.slo import SloRule, parse_slos
from perfkit.config_checks import (
    NAME,
    PARSERS,
    Raw,
    check_cache,
    check_dataset,
    check_payloads,
    expand_scenarios,
    load_notes,
    parse_raw,
    usage,
    warmup_notes,
    words,
)
from perfkit.coverage.exclusions import Exclusion, parse_exclusions
from perfkit.names import JUDGED_METRICS, PAYLOAD_VARS, SCENARIOS

ALIASES = {"GATEWAY_VERSION": "PERF_GATEWAY_VERSION"}
RUN_JSON_KEYS = {  # run.json "settings" key -> settings name (used by perfkit.results.run)
    "requests": "PERF_REQUESTS",
    "concurrency": "PERF_CONCURRENCY",
    "duration": "PERF_DURATION",
    "timeout": "PERF_TIMEOUT",
    "iterations": "PERF_ITERATIONS",
    "warmup_requests": "PERF_WARMUP",
    "sequential": "PERF_SEQUENTIAL",
    "error_threshold": "PERF_ERROR_THRESHOLD",
    "regression_threshold": "PERF_REGRESSION_THRESHOLD",
    "improvement_threshold": "PERF_IMPROVEMENT_THRESHOLD",
    "generator_cpu_warning": "PERF_GENERATOR_CPU_WARNING",
    "scenarios": "PERF_SCENARIOS",
    "tests": "PERF_TESTS",
    "db_backend": "PERF_DB_BACKEND",
    "servers_count": "PERF_SERVERS_COUNT",
    "cache": "PERF_CACHE",
    "mcp_sessions": "PERF_MCP_SESSIONS",
    "mcp_protocol_version": "PERF_MCP_PROTOCOL_VERSION",
    "mcp_peer": "PERF_MCP_PEER",
    "dataset": "PERF_DATASET",
}

# name, config.yaml key ("-": none), built-in default ("-": empty), parser
TABLE = """
PERF_BASE_URL               service.base_url                   http://127.0.0.1:4444 url
PERF_HEALTH_TIMEOUT         service.health_check_timeout       90          int1
PERF_MANAGE                 service.manage                     auto        manage
PERF_GATEWAY_VERSION        service.gateway_version            1.0.7       name
PERF_SERVERS_COUNT          service.servers_count              1           int1
PERF_DB_BACKEND             service.database                   sqlite      db
PERF_DB_STATE               service.db_state                   fresh       db_state
PERF_DATASET                service.dataset                    -           name?
PERF_CACHE                  service.cache                      memory      cache
PERF_DB_POOL_SIZE           service.db_pool_size               20          int1
PERF_DB_MAX_OVERFLOW        service.db_max_overflow            10          int0
PERF_DB_SLOW_MS             database.slow_query_ms             100         float
PERF_DB_POOL_LEVELS         database.pool_levels               auto        pool_levels
PERF_DB_POOL_SECONDS        database.pool_seconds              1           float
PERF_POSTGRES_URL           service.postgres_url     postgresql://postgres@127.0.0.1:5432/postgres pg_url
PERF_REDIS_URL              service.redis_url        redis://127.0.0.1:6379/0 redis
PERF_AUTH_EMAIL             auth.email                         admin@example.com text
PERF_AUTH_PASSWORD          auth.password                      changeme    any
PERF_TOKEN_CACHE            auth.token_cache                   .state/auth/token.json text
PERF_TOKEN_REFRESH_MARGIN   auth.refresh_margin_seconds        120         int0
PERF_HEY_BIN                performance.hey_binary             hey         text
PERF_REQUESTS               performance.requests               200         int0
PERF_CONCURRENCY            performance.concurrency            10          int1
PERF_DURATION               performance.duration               -           duration
PERF_TIMEOUT                performance.timeout                20          int1
PERF_ITERATIONS             performance.iterations             3           int1
PERF_WARMUP                 performance.warmup_requests        20          warmup
PERF_SEQUENTIAL             performance.sequential             false       bool
PERF_ERROR_THRESHOLD        performance.error_threshold        0.01        fraction0
PERF_REGRESSION_THRESHOLD   performance.regression_threshold   0.10        fraction
PERF_IMPROVEMENT_THRESHOLD  performance.improvement_threshold  0.05        fraction
PERF_GENERATOR_CPU_WARNING  performance.generator_cpu_warning  0.8         float
PERF_METRICS                performance.metrics      p50,p95,p99,rps,error_rate metrics
PERF_SCENARIOS              -                                  all         words
PERF_TESTS                  -                                  -           tests
PERF_LIST_LIMITS            scenarios.list_limits              10,50,100   ints
PERF_PAYLOAD_DIR_TOOLS      scenarios.tools.payload_dir        payloads/tools text
PERF_PAYLOAD_DIR_RESOURCES  scenarios.resources.payload_dir    payloads/resources text
PERF_PAYLOAD_DIR_PROMPTS    scenarios.prompts.payload_dir      payloads/prompts text
PERF_PAYLOAD_DIR_CORE       scenarios.gateway-core.payload_dir payloads/core text
PERF_PAYLOAD_DIR_MIXED      scenarios.mixed.payload_dir        payloads/tools text
PERF_PAYLOAD_DIR_MCP        scenarios.mcp.payload_dir          payloads/mcp text
PERF_MCP_PROTOCOL_VERSION   mcp.protocol_version               2025-06-18  protocol_version
PERF_MCP_SESSIONS           mcp.sessions                       stateless   mcp_sessions
PERF_MCP_PEER               mcp.peer                           -           name?
PERF_BASELINES_DIR          baselines.dir                      baselines   text
PERF_BASELINE_PROFILE       baselines.profile                  -           name?
PERF_BASELINE_MODE          baselines.mode                     compare     baseline_mode
PERF_CRITICAL_METRICS       baselines.critical_metrics         p50,rps     compare_metrics
PERF_THRESHOLD_P50          baselines.thresholds.p50           -           fraction?
PERF_THRESHOLD_P95          baselines.thresholds.p95           -           fraction?
PERF_THRESHOLD_P99          baselines.thresholds.p99           -           fraction?
PERF_THRESHOLD_RPS          baselines.thresholds.rps           -           fraction?
PERF_THRESHOLD_TOTAL_TIME   baselines.thresholds.total_time    -           fraction?
PERF_ALPHA                  baselines.alpha                    0.05        fraction
PERF_SIZE_GATE_FACTOR       baselines.size_gate_factor         0.7         gate_factor
PERF_MIN_ROUNDS             baselines.min_rounds               3           int1
PERF_ERROR_RATE_TOLERANCE   baselines.error_rate_tolerance     0           fraction0
PERF_DRIFT_BOUND            baselines.drift_bound              0.35        fraction
PERF_HISTORY_JOBS           baselines.history_jobs             30          int1
PERF_PROMOTE_AFTER          baselines.promote_after            3           int1
PERF_SWEEP_LEVELS           advanced.concurrency_sweep         -           ints?
PERF_SWEEP_P95_MS           advanced.sweep_p95_slo_ms          1000        int1
PERF_SCALE_PROTOCOL         advanced.protocol                  mcp         scale_protocol
PERF_WF_USERS               workflows.users                    3           int1
PERF_WF_DURATION            workflows.duration                 30          float
PERF_WF_WARMUP              workflows.warmup                   5           float0
PERF_WF_SPAWN_RATE          workflows.spawn_rate               0           float0
PERF_WF_ROUND_SECONDS       workflows.round_seconds            10          float
PERF_WF_WORKLOAD            workflows.workload                 mixed       workload
PERF_RESULTS_DIR            reporting.output_dir               results     text
PERF_GENERATE_REPORT        reporting.generate_report          true        bool
"""


@dataclass(frozen=True)
class Var:
    name: str
    yaml_key: str | None
    default: str
    parse: Callable[[str], Any]


VARS = {
    n: Var(n, None if k == "-" else k, "" if d == "-" else d, PARSERS[p])
    for n, k, d, p in (line.split() for line in TABLE.strip().splitlines())
}
PATH_VARS = ("PERF_TOKEN_CACHE", "PERF_BASELINES_DIR", "PERF_RESULTS_DIR")
YAML_ONLY = {"scenarios.all", *(f"scenarios.{s}.endpoints" for s in SCENARIOS)}
# a free-form top-level section: test id or glob -> limits (perfkit.compare.slo)
SLOS_KEY = "slos"
# operations left out of REST coverage on purpose, with reasons (perfkit.coverage.exclusions)
COVERAGE_KEY = "coverage"
YAML_LEAVES = {var.yaml_key for var in VARS.values() if var.yaml_key} | YAML_ONLY


def field_name(var_name: str) -> str:
    return var_name.removeprefix("PERF_").lower()


@dataclass(frozen=True)
class Settings:
    """Resolved, validated settings; field names are the PERF_ names in lower case."""

    profile: str
    base_url: str
    health_timeout: int
    manage: str
    gateway_version: str
    servers_count: int
    db_backend: str
    db_state: str  # fresh | keep
    # datasets/NAME.yaml written into the local stack's database when `up` starts it ("": none)
    dataset: str
    cache: str
    db_pool_size: int
    db_max_overflow: int
    # the database scenario: a statement this slow (ms, run alone) is explained (perfkit.dbbench.plans)
    db_slow_ms: float
    db_pool_levels: str
    db_pool_seconds: float
    postgres_url: str
    redis_url: str
    auth_email: str
    auth_password: str = field(repr=False)
    token_cache: Path
    token_refresh_margin: int
    hey_bin: str
    requests: int  # already a multiple of concurrency; 0 in duration mode
    concurrency: int
    duration: str | None  # hey -z value; None in request mode
    timeout: int
    iterations: int
    warmup: int  # warm-up requests, 0 = off
    sequential: bool  # a test's rounds stop once settled (perfkit.compare.sequential)
    error_threshold: float
    regression_threshold: float
    improvement_threshold: float
    generator_cpu_warning: float
    metrics: tuple[str, ...]
    scenarios: tuple[str, ...]
    # --tests: only the tests these globs name (test id or name); empty = every test
    tests: tuple[str, ...]
    list_limits: tuple[int, ...]
    payload_dir_tools: Path
    payload_dir_resources: Path
    payload_dir_prompts: Path
    payload_dir_core: Path
    payload_dir_mixed: Path
    payload_dir_mcp: Path
    # sent as MCP-Protocol-Version by the mcp scenario ("" = none)
    mcp_protocol_version: str
    # stateless | stateful: each of the mcp scenario's MCP tests in one session
    mcp_sessions: str
    # a federated peer gateway's name ("" = none): the mcp scenario calls a tool through it
    mcp_peer: str
    baselines_dir: Path
    baseline_profile: str
    baseline_mode: str  # compare | save | skip
    critical_metrics: tuple[str, ...]  # the metrics whose regressions fail a run
    # per-metric regression thresholds; None = performance.regression_threshold
    threshold_p50: float | None
    threshold_p95: float | None
    threshold_p99: float | None
    threshold_rps: float | None
    threshold_total_time: float | None
    alpha: float  # false discovery rate of the Benjamini-Hochberg family
    size_gate_factor: float  # a regression needs a change >= threshold x this
    min_rounds: int
    error_rate_tolerance: float  # allowed rise of the error rate over the baseline's
    drift_bound: float  # with no run-to-run history yet, a change must exceed this
    history_jobs: int  # earlier jobs a stored baseline's history keeps for verdicts
    promote_after: int  # consecutive improved runs before the baseline is promoted
    sweep_levels: tuple[int, ...]  # run-advanced.sh's concurrency sweep; () = none
    sweep_p95_ms: int  # the sweep's p95 limit (the knee)
    scale_protocol: str  # mcp | rpc: how run-advanced.sh's tool calls reach the gateway
    wf_users: int  # several users at once (utils/workflows.sh, scenario workflows)
    wf_duration: float
    wf_warmup: float
    wf_spawn_rate: float  # users started a second; 0: all at once
    wf_round_seconds: float
    wf_workload: str
    results_dir: Path
    generate_report: bool
    notes: tuple[str, ...]
    slos: tuple[SloRule, ...] = ()  # config.yaml `slos:` (not exported to the shell)
    # config.yaml `coverage.exclude` (not exported to the shell either)
    coverage_exclude: tuple[Exclusion, ...] = ()

    def regression_thresholds(self) -> dict[str, float]:
        """Metric -> regression threshold: baselines.thresholds, else the general one."""
        return {
            metric: getattr(self, f"threshold_{metric}", None)
            or self.regression_threshold
            for metric in JUDGED_METRICS
            if metric != "error_rate"
        }

    def payload_dir(self, scenario: str) -> Path:
        return Path(getattr(self, field_name(PAYLOAD_VARS[scenario])))

    def to_json(self) -> dict[str, Any]:
        """Every setting under its PERF_ name (paths as strings, tuples as lists)."""
        names = ["PERF_PROFILE", *VARS, "PERF_NOTES"]
        return {n: jsonable(getattr(self, field_name(n))) for n in names}

    def to_shell(self) -> str:
        """`export NAME=VALUE` lines for bash eval; lists comma-joined, notes by "; "."""
        values = self.to_json() | {"PERF_NOTES": "; ".join(self.notes)}
        return "".join(
            f"export {k}={shlex.quote(shell_text(v))}\n" for k, v in values.items()
        )

    def for_run_json(self) -> dict[str, Any]:
        return run_json_settings(self.to_json())


def run_json_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """The run.json `settings` block from `perfkit config --format json` output."""
    return {key: values[var_name] for key, var_name in RUN_JSON_KEYS.items()}


def jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    return list(value) if isinstance(value, tuple) else value


def shell_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return "" if value is None else str(value)


# --- layers: settings name -> raw text and where it came from ---


def canonical(key: str, where: str) -> str:
    var_name = ALIASES.get(key, key)
    if var_name in VARS:
        return var_name
    close = difflib.get_close_matches(var_name, list(VARS), n=1)
    hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(VARS)}"
    raise usage(f"{where}: unknown setting {key!r} ({hint})")


def read_yaml(path: Path) -> dict[Any, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise usage(f"cannot read {path}: {exc.strerror}; pass a config file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or exc
        raise usage(f"{path}{where}: invalid YAML ({problem}); fix it there") from None
    if not isinstance(document, dict | None):
        raise usage(f"{path}: expected sections (service, auth, ...), got {document!r}")
    return document or {}


def flatten(node: dict[Any, Any], prefix: str, path: Path, out: dict[str, Any]) -> None:
    """Collect known leaves of the YAML tree; refuse any unknown key."""
    for key, value in node.items():
        dotted = f"{prefix}{key}"
        if dotted in YAML_LEAVES:
            out[dotted] = value
        elif any(leaf.startswith(f"{dotted}.") for leaf in YAML_LEAVES):
            if not isinstance(value, dict | None):
                raise usage(f"{path}: {dotted!r} must be a mapping, not {value!r}")
            flatten(value or {}, f"{dotted}.", path, out)
        else:
            known = {
                x[len(prefix) :].split(".")[0]
                for x in YAML_LEAVES
                if x.startswith(prefix)
            }
            raise usage(
                f"{path}: unknown key {dotted!r} (known here: {', '.join(sorted(known))});"
                " fix the spelling or remove it"
            )


def yaml_text(value: Any, key: str, path: Path) -> str:
    if isinstance(value, dict):
        raise usage(f"{path}: {key!r} must be a value or a list, not a mapping")
    if isinstance(value, list):
        return ",".join(yaml_text(item, key, path) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def yaml_slos(path: Path, document: dict[Any, Any]) -> tuple[SloRule, ...]:
    try:
        return parse_slos(document.pop(SLOS_KEY, None))
    except (TypeError, ValueError) as exc:
        raise usage(f"{path}: {exc}") from None


def yaml_coverage(path: Path, document: dict[Any, Any]) -> tuple[Exclusion, ...]:
    section = document.pop(COVERAGE_KEY, None)
    if section is None:
        return ()
    if not isinstance(section, dict) or set(section) - {"exclude"}:
        raise usage(
            f"{path}: 'coverage' holds one key, 'exclude' (a list), not {section!r}"
        )
    return parse_exclusions(section.get("exclude"), str(path))


def yaml_tune(path: Path, document: dict[Any, Any]) -> None:
    """config.yaml's `tune` block (make tune), checked here so that a mistake in it is found
    by every command, not only by the sweep that needs it."""
    from perfkit.tune.candidates import TUNE_KEY, parse_section

    parse_section(document.pop(TUNE_KEY, None), str(path))


def yaml_layer(
    path: Path,
) -> tuple[dict[str, Raw], dict[str, str], tuple[SloRule, ...]]:
    """Settings from config.yaml, its YAML-only keys (scenarios.all, endpoints), its SLOs
    (its coverage exclusions are read, and checked, by yaml_coverage)."""
    document = read_yaml(path)
    slos = yaml_slos(path, document)
    yaml_coverage(path, document)
    yaml_tune(path, document)
    leaves: dict[str, Any] = {}
    flatten(document, "", path, leaves)
    texts = {key: yaml_text(value, key, path) for key, value in leaves.items()}
    by_key = {var.yaml_key: var.name for var in VARS.values()}
    layer = {by_key[k]: Raw(t, f"{path} {k}") for k, t in texts.items() if k in by_key}
    return layer, {k: t for k, t in texts.items() if k in YAML_ONLY}, slos


def profile_layer(path: Path, label: str) -> dict[str, Raw]:
    layer: dict[str, Raw] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{label} line {number}"
        key, sep, value = stripped.removeprefix("export ").partition("=")
        if not sep:
            raise usage(f"{where}: expected NAME=VALUE, got {stripped!r}; fix it")
        var_name = canonical(key.strip(), where)
        if var_name in layer:
            raise usage(f"{where}: {var_name} is set twice in {label}; keep one")
        layer[var_name] = Raw(unquote(value.strip()), where)
    return layer


def unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def env_layer(environ: Mapping[str, str]) -> dict[str, Raw]:
    layer: dict[str, Raw] = {}
    for key in [*ALIASES, *VARS]:  # a PERF_ name wins over its alias
        if environ.get(key, "").strip():
            layer[ALIASES.get(key, key)] = Raw(environ[key], f"environment {key}")
    return layer


def flag_layer(overrides: Mapping[str, str]) -> dict[str, Raw]:
    return {canonical(k, "--set"): Raw(v, f"--set {k}") for k, v in overrides.items()}


def find_profile(root: Path, profile: str) -> Path:
    path = root / "profiles" / f"{profile}.env"
    if NAME.fullmatch(profile) and path.is_file():
        return path
    have = ", ".join(sorted(p.stem for p in (root / "profiles").glob("*.env")))
    raise usage(f"profile {profile!r} not found (have: {have or 'none'})")


def read_layers(
    root: Path,
    profile: str,
    overrides: Mapping[str, str],
    environ: Mapping[str, str],
    config_path: Path | None,
) -> tuple[dict[str, Raw], tuple[str, ...], tuple[SloRule, ...]]:
    """All layers merged in precedence order, the names PERF_SCENARIOS=all means, the SLOs.

    Every value is checked, also one a higher layer overrides: a typo stays an error.
    """
    profile_path = find_profile(root, profile)
    path = config_path or root / "config.yaml"
    from_yaml, yaml_only, slos = (
        yaml_layer(path) if config_path or path.exists() else ({}, {}, ())
    )
    from_profile = profile_layer(profile_path, f"profiles/{profile}.env")
    raws = {var.name: Raw(var.default, "built-in default") for var in VARS.values()}
    for layer in (from_yaml, from_profile, env_layer(environ), flag_layer(overrides)):
        for var_name, raw in layer.items():
            parse_raw(var_name, raw, VARS[var_name].parse)
        raws |= layer
    all_raw = Raw(
        yaml_only.get("scenarios.all", ",".join(SCENARIOS)), f"{path} scenarios.all"
    )
    all_names = parse_raw("scenarios.all", all_raw, lambda t: words(t, SCENARIOS))
    return raws, all_names, slos


# --- resolution and cross-checks ---


def make_absolute(values: dict[str, Any], root: Path) -> None:
    for var_name in (*PATH_VARS, *PAYLOAD_VARS.values()):
        path = Path(values[var_name]).expanduser()
        values[var_name] = path if path.is_absolute() else root / path
    if "/" in values["PERF_HEY_BIN"]:  # a path, not a name looked up on PATH
        values["PERF_HEY_BIN"] = str(root / Path(values["PERF_HEY_BIN"]).expanduser())


def load_settings(
    kit_root: Path,
    profile: str,
    overrides: Mapping[str, str],
    environ: Mapping[str, str],
    config_path: Path | None = None,
) -> Settings:
    """Merge defaults < config.yaml < profile < environ < overrides and validate.

    Raises KitError(ExitCode.USAGE) naming the problem, the value and the fix.
    """
    root = kit_root.expanduser().resolve()
    if not root.is_dir():
        raise usage(
            f"kit root {str(kit_root)!r} is not a folder: pass the kit's folder"
        )
    raws, all_names, slos = read_layers(root, profile, overrides, environ, config_path)
    values = {n: parse_raw(n, raw, VARS[n].parse) for n, raw in raws.items()}
    values["PERF_SCENARIOS"] = expand_scenarios(raws["PERF_SCENARIOS"], all_names)
    make_absolute(values, root)
    check_cache(values)
    check_dataset(values, root)
    notes = load_notes(values) + warmup_notes(values)
    check_payloads(values, raws)
    fields = {field_name(n): value for n, value in values.items()}
    path = config_path or root / "config.yaml"
    exclude = yaml_coverage(path, read_yaml(path)) if path.exists() else ()
    return Settings(
        profile=profile,
        notes=tuple(notes),
        slos=slos,
        coverage_exclude=exclude,
        **fields,
    )


# --- command line ---


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # report through cli.main, exit code 2
        raise usage(f"{message} (see {self.prog} --help)")


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise usage(f"--set expects NAME=VALUE, got {pair!r}; e.g. PERF_TIMEOUT=30")
        overrides[key] = value
    return overrides


def cli(argv: list[str]) -> int:
    parser = ArgumentParser(prog="perfkit config", description=__doc__)
    parser.add_argument("--kit-root", type=Path, required=True, help="the kit's folder")
    parser.add_argument("--profile", required=True, help="profiles/<NAME>.env")
    parser.add_argument("--config", type=Path, help="default: KIT_ROOT/config.yaml")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--format", choices=("shell", "json"), default="shell")
    args = parser.parse_args(argv)
    overrides = parse_overrides(args.set)
    settings = load_settings(
        args.kit_root, args.profile, overrides, os.environ, args.config
    )
    if args.format == "json":
        print(json.dumps(settings.to_json(), indent=2))
    else:
        print(settings.to_shell(), end="")
    return 0
