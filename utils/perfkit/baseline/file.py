"""The baseline file: `baselines/baseline_<name>.json`, read and built (docs/internals.md, "Baselines").
This module owns the format: its model, its schema versions and its one loader.

Schema versions of a baseline file:
  1 - kind, name, created_at, source (run_dir, kit_commit, started_at, how, runs, restored_from,
      picked), fingerprint, samples (a SampleSet), aggregates

A baseline holds a run's per-round samples (a `SampleSet`), their medians per test and metric,
the environment fingerprint and where it came from. Reading refuses anything it does not fully
understand - corrupt JSON, another kind of file, a missing key, an unknown schema version - with
a message naming the file, the problem and the fix; nothing here writes. `perfkit.baseline.manager`
keeps the files and their history.
"""

from __future__ import annotations

import json
import re
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from perfkit.clock import now_iso
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import UnknownVersion, version_problem
from perfkit.names import EARLIER_ALL, SCENARIOS
from perfkit.results.plan import read_plan
from perfkit.results.run import load_run
from perfkit.results.samples import SampleSet, from_summary
from perfkit.results.summary import Summary, has_summary, load_summary, summary_path

SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)
KIND = "perfkit-baseline"
HOWS = ("initial", "save", "accept", "promotion", "rollback")
NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")
ADHOC_PREFIX = "adhoc/"
FILE_PREFIX, FILE_SUFFIX = "baseline_", ".json"
KEYS = ("name", "created_at", "source", "fingerprint", "samples", "aggregates")
SOURCE_KEYS = ("run_dir", "kit_commit", "started_at", "how", "runs")


@dataclass
class Source:
    run_dir: str  # the run the baseline was saved from (the newest one for a promotion)
    kit_commit: str | None
    started_at: str | None  # when that run started
    how: str  # one of HOWS
    runs: list[str] = field(default_factory=list)  # every run it was built from
    restored_from: str | None = None  # rollback: the history file it was restored from
    picked: dict[str, str] = field(
        default_factory=dict
    )  # promotion: test id -> its run


@dataclass
class Baseline:
    name: str
    created_at: str
    source: Source
    fingerprint: dict[str, Any]
    samples: SampleSet
    aggregates: dict[str, dict[str, float]]  # test id -> metric -> median over rounds

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": KIND,
            "name": self.name,
            "created_at": self.created_at,
            "source": asdict(self.source),
            "fingerprint": self.fingerprint,
            "samples": self.samples.to_dict(),
            "aggregates": self.aggregates,
        }


def check_name(name: str) -> str:
    """A baseline name is a file-name part: letters, digits, `_`, `.`, `-`, no leading dot."""
    if not NAME_PATTERN.fullmatch(name) or name.startswith("."):
        raise KitError(
            f"baseline name '{name}' invalid: use letters, digits, '_', '.' and '-' "
            "(not starting with '.'), e.g. light or adhoc_get_health",
            ExitCode.USAGE,
        )
    return name


def name_from_path(path: Path) -> str:
    """The name in `baseline_<name>.json`, or the file's stem for any other file."""
    stem = path.name
    if stem.startswith(FILE_PREFIX) and stem.endswith(FILE_SUFFIX):
        return stem[len(FILE_PREFIX) : -len(FILE_SUFFIX)]
    return path.stem


def fix_hint(name: str) -> str:
    return (
        f"restore one with `make baseline-rollback PROFILE={name}`, "
        f"or delete it with `make baseline-delete PROFILE={name}`"
    )


def _refuse(path: Path, problem: str, name: str | None = None) -> KitError:
    hint = fix_hint(name or name_from_path(path))
    return KitError(f"baseline {path}: {problem}; {hint}", ExitCode.USAGE)


def _read_json(path: Path, name: str | None) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KitError(
            f"baseline {path} not found (save one with `make baseline-save`)",
            ExitCode.USAGE,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _refuse(path, f"cannot be read ({exc})", name) from None
    except ValueError as exc:
        raise _refuse(path, f"is not valid JSON ({exc})", name) from None
    if not isinstance(data, dict):
        raise _refuse(path, f"holds a JSON {type(data).__name__}, not an object", name)
    return data


def _check_header(path: Path, data: dict[str, Any], name: str | None) -> None:
    if data.get("kind") != KIND:
        raise _refuse(path, f"kind is {data.get('kind')!r}, not '{KIND}'", name)
    problem = version_problem(data, READABLE_VERSIONS)
    if problem is not None:
        hint = fix_hint(name or name_from_path(path))
        raise UnknownVersion(f"baseline {path}: {problem}; {hint}")
    missing = [key for key in KEYS if key not in data]
    source = data.get("source")
    if isinstance(source, dict):
        missing += [f"source.{key}" for key in SOURCE_KEYS if key not in source]
    else:
        missing.append("source (an object)")
    if missing:
        raise _refuse(path, f"missing keys: {', '.join(missing)}", name)


def _parse(path: Path, data: dict[str, Any]) -> Baseline:
    source = data["source"]
    samples = SampleSet.from_dict(data["samples"])
    samples.source = str(path)
    aggregates = {
        str(test): {str(m): float(v) for m, v in metrics.items()}
        for test, metrics in data["aggregates"].items()
    }
    return Baseline(
        name=str(data["name"]),
        created_at=str(data["created_at"]),
        source=Source(
            run_dir=str(source["run_dir"]),
            kit_commit=source["kit_commit"],
            started_at=source["started_at"],
            how=str(source["how"]),
            runs=[str(run) for run in source["runs"]],
            restored_from=source.get("restored_from"),
            picked={str(k): str(v) for k, v in (source.get("picked") or {}).items()},
        ),
        fingerprint=dict(data["fingerprint"]),
        samples=samples,
        aggregates=aggregates,
    )


def load_baseline(path: Path, name: str | None = None) -> Baseline:
    """The baseline in `path`; a file this kit cannot fully read raises KitError (exit 2).

    `name` is the baseline the file belongs to, for the fix in the message (default: the name
    in `baseline_<name>.json`)."""
    data = _read_json(path, name)
    _check_header(path, data, name)
    try:
        return _parse(path, data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problem = f"malformed content ({type(exc).__name__}: {exc})"
        raise _refuse(path, problem, name) from None


def aggregates_of(samples: SampleSet) -> dict[str, dict[str, float]]:
    """Per test, the median of each metric over its measured rounds."""
    return {
        test_id: {
            metric: statistics.median(values)
            for metric, values in test.rounds.items()
            if values
        }
        for test_id, test in samples.tests.items()
    }


@dataclass(frozen=True)
class RunNaming:
    """What names a run's baseline: its profile, the scenarios it ran and its test ids."""

    profile: str
    scenarios: list[str]
    test_ids: list[str]


def naming_of(summary: Summary) -> RunNaming:
    return RunNaming(summary.profile, summary.scenarios, [t.id for t in summary.tests])


def planned_naming(run_dir: Path) -> RunNaming:
    """A run's naming before it has a summary.json: its profile and scenarios (run.json) and
    its test ids (plan.tsv), as run-configurable.sh wrote them before sending any load."""
    run = load_run(run_dir)
    scenarios = (run.get("settings") or {}).get("scenarios") or []
    return RunNaming(
        profile=str(run.get("profile") or ""),
        scenarios=[str(s) for s in scenarios] if isinstance(scenarios, list) else [],
        test_ids=[row.id for row in read_plan(run_dir)],
    )


def run_naming(run_dir: Path) -> RunNaming:
    """Naming from the run's summary.json, or from its plan when it has none yet."""
    return (
        naming_of(load_summary(run_dir))
        if has_summary(run_dir)
        else planned_naming(run_dir)
    )


def summary_for_baseline(run_dir: Path) -> Summary:
    """A run's summary, refused as a baseline unless complete and with measured rounds."""
    summary = load_summary(run_dir)
    path = summary_path(run_dir)
    if summary.status != "complete":
        raise KitError(
            f"{path}: status is {summary.status!r}, not 'complete': an interrupted run "
            "cannot be a baseline (run the tests again to the end)",
            ExitCode.USAGE,
        )
    samples = from_summary(summary, str(run_dir))
    if not any(test.n() for test in samples.tests.values()):
        raise KitError(
            f"{path}: no test has a measured round "
            f"({len(samples.tests)} tests, all failed or skipped): nothing to keep as a baseline",
            ExitCode.USAGE,
        )
    return summary


def default_name(naming: RunNaming, profile: str | None = None) -> str:
    """The run's profile (or `profile`, to compare against another profile's baseline),
    suffixed with its scenarios when it ran only some of them (`light_tools-prompts`: a run
    of one scenario is never judged against the whole suite's baseline), or
    `adhoc_<test name>` for an ad-hoc `--endpoint` run."""
    ids = naming.test_ids
    if ids and all(test_id.startswith(ADHOC_PREFIX) for test_id in ids):
        names = sorted({test_id[len(ADHOC_PREFIX) :] for test_id in ids})
        if len(names) != 1:
            raise KitError(
                f"ad-hoc run with several tests ({', '.join(names)}): pass --name NAME",
                ExitCode.USAGE,
            )
        return check_name("adhoc_" + re.sub(r"[^A-Za-z0-9_.-]", "_", names[0]))
    profile = profile or naming.profile
    if not profile:
        raise KitError("the run names no profile: pass --name NAME", ExitCode.USAGE)
    scenarios = naming.scenarios
    if (
        scenarios
        and set(scenarios) != set(SCENARIOS)
        and set(scenarios) not in EARLIER_ALL
    ):
        profile = f"{profile}_{'-'.join(scenarios)}"
    return check_name(profile)


def source_of(summary: Summary, run_dir: str, how: str) -> Source:
    """Where a baseline saved from one run comes from."""
    if how not in HOWS:
        raise KitError(f"how '{how}' invalid (have: {', '.join(HOWS)})", ExitCode.USAGE)
    return Source(
        run_dir=run_dir,
        kit_commit=summary.environment.get("kit_commit"),
        started_at=summary.started_at,
        how=how,
        runs=[run_dir],
    )


def build_baseline(name: str, samples: SampleSet, source: Source) -> Baseline:
    return Baseline(
        name=check_name(name),
        created_at=now_iso(),
        source=source,
        fingerprint=samples.fingerprint,
        samples=samples,
        aggregates=aggregates_of(samples),
    )
