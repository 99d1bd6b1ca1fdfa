"""Names the whole kit shares: where it lives, its scenarios and the metrics it reports and judges.

File names are not here: each file format's name lives with the one module that writes and
loads it (docs/internals.md, "Who reads and writes what").
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
KIT_ROOT = PACKAGE_DIR.parents[1]  # the repository: utils/perfkit/../..
TEMPLATES_DIR = PACKAGE_DIR / "templates"
SCHEMAS_DIR = PACKAGE_DIR / "schemas"

# the environment variable that hands a command the login token (never its command line)
TOKEN_ENV = "PERFKIT_TOKEN"
# the plain user the load runs as (perfkit.benchtoken makes it); not one of the gateway's own
# users: the database scenario never picks it as "a member"
BENCH_USER_EMAIL = "perfkit-benchmark@perfkit.example.com"

# The scenarios `all` means, in order; each is declared by one scenarios/*.sh that defines the
# shell function scenario_<name with - as _> (run-configurable.sh finds it there).
SCENARIOS = (
    "tools",
    "resources",
    "prompts",
    "gateway-core",
    "mcp",
    "mixed",
    "database",
)
# what `all` meant in earlier versions of the kit: a run of one of these sets is still a run of
# all scenarios (its baseline keeps the profile's own name; the newer scenarios' tests are new)
EARLIER_ALL = (
    frozenset({"tools", "resources", "prompts", "gateway-core", "mixed"}),
    frozenset({"tools", "resources", "prompts", "gateway-core", "mcp", "mixed"}),
)
# run-advanced.sh's workloads: chosen by name, never part of "all"
ADVANCED_SCENARIOS = ("scale", "sweep")
# scenarios run by name only, not part of "all": history (the lists with their recorded
# metrics: a question for make growth over the history datasets), workflows (several users
# at once on Locust: users made and removed on the gateway, a minute or more of its own)
NAMED_SCENARIOS = ("history", "workflows")
PAYLOAD_VARS = {
    "tools": "PERF_PAYLOAD_DIR_TOOLS",
    "resources": "PERF_PAYLOAD_DIR_RESOURCES",
    "prompts": "PERF_PAYLOAD_DIR_PROMPTS",
    "gateway-core": "PERF_PAYLOAD_DIR_CORE",
    "mcp": "PERF_PAYLOAD_DIR_MCP",
    "mixed": "PERF_PAYLOAD_DIR_MIXED",
}

# What a run reports per test (performance.metrics may name any of these)
REPORTED_METRICS = (
    "p50",
    "p90",
    "p95",
    "p99",
    "min",
    "max",
    "mean",
    "rps",
    "error_rate",
)
# What a comparison judges, per round, and which way is better
JUDGED_METRICS: dict[str, str] = {
    "p50": "lower",
    "p95": "lower",
    "p99": "lower",
    "rps": "higher",
    "error_rate": "lower",
    "total_time": "lower",
}
