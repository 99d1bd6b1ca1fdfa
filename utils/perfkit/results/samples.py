"""Per-round samples of a run, the unit of evidence for every comparison.

A round (one hey run after warm-up) is one sample: pooling single requests would make tiny,
meaningless differences "significant" (docs/verdicts.md). A `SampleSet` is
built from a run's summary.json, stored inside a baseline, and compared with another one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from perfkit.names import JUDGED_METRICS
from perfkit.results.summary import Summary, database_state

# profile settings that must match for two runs to be comparable
SETTINGS_KEYS = (
    "requests",
    "concurrency",
    "duration",
    "timeout",
    "warmup_requests",
    "db_backend",
    "servers_count",
    "cache",
    "mcp_sessions",
    "mcp_peer",
    "dataset",
)
# what a run recorded before the kit had the setting meant (a baseline saved earlier)
SETTINGS_BEFORE = {"mcp_sessions": "stateless", "mcp_peer": "", "dataset": ""}
ENVIRONMENT_KEYS = ("cpu_model", "logical_cores", "hey_version")
# database states a run did not choose (perfkit.results.database): the gateway's database was
# as the run found it, whether or not the kit could count its rows
UNSET_DB_STATES = {"as-found", "unknown"}


@dataclass
class TestSamples:
    id: str
    status: str  # the run's verdict for the test: ok | failed | skipped
    reason: str | None
    error_rate: float | None  # over all measured rounds
    rounds: dict[str, list[float]] = field(
        default_factory=dict
    )  # metric -> per-round values

    def n(self) -> int:
        return len(self.rounds.get("p50", []))


@dataclass
class SampleSet:
    source: str  # where the samples come from: a run folder, or a baseline file
    profile: str
    fingerprint: dict[str, Any]
    tests: dict[str, TestSamples]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SampleSet:
        tests = {
            key: TestSamples(
                id=str(value["id"]),
                status=str(value["status"]),
                reason=value.get("reason"),
                error_rate=value.get("error_rate"),
                rounds={
                    m: [float(v) for v in vs]
                    for m, vs in value.get("rounds", {}).items()
                },
            )
            for key, value in data["tests"].items()
        }
        return cls(
            str(data["source"]), str(data["profile"]), dict(data["fingerprint"]), tests
        )


def round_metrics(measured: dict[str, Any]) -> dict[str, float] | None:
    """The comparable metrics of one complete round of summary.json, or None if unusable."""
    if not measured.get("complete", False):
        return None
    latency = measured.get("latency_ms") or {}
    errors = measured.get("errors") or {}
    requests = measured.get("requests") or 0
    failed = (errors.get("non_2xx") or 0) + (errors.get("transport") or 0)
    values = {
        "p50": latency.get("p50"),
        "p95": latency.get("p95"),
        "p99": latency.get("p99"),
        "rps": measured.get("rps"),
        "error_rate": failed / requests if requests else None,
        "total_time": measured.get("duration_s"),
    }
    if any(v is None for v in values.values()):
        return None
    return {k: float(v) for k, v in values.items() if v is not None}


def fingerprint(summary: Summary) -> dict[str, Any]:
    """What must match for two runs to be compared as like for like."""
    environment, settings, target = (
        summary.environment,
        summary.settings,
        summary.target,
    )
    return {
        "profile": summary.profile,
        "db_state": database_state(summary),
        **{key: environment.get(key) for key in ENVIRONMENT_KEYS},
        "gateway_version": target.get("gateway_version"),
        "gateway_settings": target.get("gateway_settings"),
        "settings": {key: settings.get(key) for key in SETTINGS_KEYS},
        "load_as": load_as_key(target.get("load_as")),
    }


def load_as_key(load_as: Any) -> str | None:
    """Who the load ran as, as far as it changes what the gateway does: the kind of token, whose,
    and its permissions - not the token's id or expiry, which every run has its own of. The
    gateway takes a login (session) token and a scoped API token through different checks: on
    the local stack the lists' p50 was ~20% higher on the admin's login than on the benchmark
    token (README.md, "Secrets"), so runs as different identities are not like for like."""
    if not isinstance(load_as, dict):
        return None
    kind = load_as.get("kind")
    if kind == "none":
        return "no token"
    permissions = load_as.get("permissions")
    scope = (
        "all the user's permissions"
        if permissions is None
        else "permissions " + ", ".join(sorted(str(p) for p in permissions))
    )
    return f"{kind} of {load_as.get('email')} ({scope})"


def from_summary(summary: Summary, source: str) -> SampleSet:
    tests: dict[str, TestSamples] = {}
    for test in summary.tests:
        rounds: dict[str, list[float]] = {metric: [] for metric in JUDGED_METRICS}
        for measured in test.rounds:
            values = round_metrics(measured)
            if values is None:
                continue
            for metric, value in values.items():
                rounds[metric].append(value)
        tests[test.id] = TestSamples(
            id=test.id,
            status=test.status,
            reason=test.reason,
            error_rate=test.error_rate,
            rounds=rounds,
        )
    return SampleSet(source, summary.profile, fingerprint(summary), tests)


def selected(test_id: str, globs: tuple[str, ...] | list[str]) -> bool:
    """Whether --tests' globs name `test_id` (scenario/name) or its name alone, as
    bench-lib.sh's perf_selected does (a glob's * matches '/' too); no globs: every test."""
    name = test_id.partition("/")[2]
    return not globs or any(
        fnmatchcase(test_id, glob) or fnmatchcase(name, glob) for glob in globs
    )


def select_tests(samples: SampleSet, globs: tuple[str, ...] | list[str]) -> SampleSet:
    """`samples` with only the tests --tests' globs name."""
    tests = {k: v for k, v in samples.tests.items() if selected(k, globs)}
    return replace(samples, tests=tests)


def fingerprint_differences(base: dict[str, Any], other: dict[str, Any]) -> list[str]:
    """Human-readable differences between two fingerprints ("gateway_version: 1.0.6 -> 1.0.7")."""
    differences = []
    for key in sorted(set(base) | set(other)):
        if key == "settings":
            for name in SETTINGS_KEYS:
                old = (base.get("settings") or {}).get(name, SETTINGS_BEFORE.get(name))
                new = (other.get("settings") or {}).get(name, SETTINGS_BEFORE.get(name))
                if old != new:
                    differences.append(f"settings.{name}: {old} -> {new}")
        elif key == "db_state" and (
            base.get(key) is None or {base.get(key), other.get(key)} <= UNSET_DB_STATES
        ):
            # a baseline from before the kit recorded it, or two runs neither of which set
            # the database's starting state: not held against the run
            continue
        elif key == "load_as" and None in (base.get(key), other.get(key)):
            # a run from before the kit recorded who the load ran as: not held against the run
            continue
        elif base.get(key) != other.get(key):
            differences.append(f"{key}: {base.get(key)} -> {other.get(key)}")
    return differences
