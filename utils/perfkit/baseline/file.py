"""The baseline file: `baselines/baseline_<name>.json`, read and built (docs/internals.md, "Baselines").

A baseline holds a run's per-round samples (a `SampleSet`), their medians per test and metric,
the environment fingerprint and where it came from. Reading refuses anything it does not fully
understand - corrupt JSON, another kind of file, a missing key, an unknown schema version - with
a message naming the file, the problem and the fix; nothing here writes. `perfkit.baseline.manager`
keeps the files and their history.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfkit.exitcodes import ExitCode, KitError
from perfkit.names import SCENARIOS
from perfkit.results.samples import SampleSet, from_summary

SCHEMA_VERSION = 1
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


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
    version = data.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:
        newer = type(version) is int and version > SCHEMA_VERSION
        why = " (written by a newer kit: update this kit)" if newer else ""
        raise _refuse(
            path,
            f"schema_version {version!r} unknown{why} (have: {SCHEMA_VERSION})",
            name,
        )
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


def load_summary(summary_path: Path) -> dict[str, Any]:
    """A run's summary.json, whatever its outcome (for naming its baseline)."""
    try:
        data = json.loads(summary_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KitError(
            f"{summary_path} not found: is this a run folder? "
            "(run `perfkit summarize RUN_DIR` first)",
            ExitCode.USAGE,
        ) from None
    except (OSError, ValueError) as exc:
        raise KitError(f"{summary_path}: cannot read ({exc})", ExitCode.USAGE) from None
    if not isinstance(data, dict) or data.get("schema_version") != 1:
        version = data.get("schema_version") if isinstance(data, dict) else None
        raise KitError(
            f"{summary_path}: summary schema_version {version!r} unknown (have: 1)",
            ExitCode.USAGE,
        )
    return data


def planned_summary(run_dir: Path) -> dict[str, Any]:
    """What naming a run's baseline needs, before the run has a summary.json: its profile and
    settings (run.json) and its test ids (plan.tsv), as run-configurable.sh wrote them before
    sending any load."""
    try:
        run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        with (run_dir / "plan.tsv").open(encoding="utf-8", newline="") as plan:
            ids = [row["id"] for row in csv.DictReader(plan, delimiter="\t")]
    except (OSError, ValueError, KeyError) as exc:
        raise KitError(
            f"{run_dir}: no summary.json, and run.json / plan.tsv cannot be read ({exc})",
            ExitCode.USAGE,
        ) from None
    if not isinstance(run, dict):
        raise KitError(f"{run_dir / 'run.json'}: not a JSON object", ExitCode.USAGE)
    return {
        "profile": run.get("profile"),
        "settings": run.get("settings") or {},
        "tests": [{"id": test_id} for test_id in ids],
    }


def read_summary(summary_path: Path) -> dict[str, Any]:
    """A run's summary.json, refused as a baseline unless complete and with measured rounds."""
    data = load_summary(summary_path)
    status = data.get("status")
    if status != "complete":
        raise KitError(
            f"{summary_path}: status is {status!r}, not 'complete': an interrupted run "
            "cannot be a baseline (run the tests again to the end)",
            ExitCode.USAGE,
        )
    samples = from_summary(data, str(summary_path.parent))
    if not any(test.n() for test in samples.tests.values()):
        raise KitError(
            f"{summary_path}: no test has a measured round "
            f"({len(samples.tests)} tests, all failed or skipped): nothing to keep as a baseline",
            ExitCode.USAGE,
        )
    return data


def default_name(summary: dict[str, Any], profile: str | None = None) -> str:
    """The run's profile (or `profile`, to compare against another profile's baseline),
    suffixed with its scenarios when it ran only some of them (`light_tools-prompts`: a run
    of one scenario is never judged against the whole suite's baseline), or
    `adhoc_<test name>` for an ad-hoc `--endpoint` run."""
    ids = [str(test.get("id", "")) for test in summary.get("tests", [])]
    if ids and all(test_id.startswith(ADHOC_PREFIX) for test_id in ids):
        names = sorted({test_id[len(ADHOC_PREFIX) :] for test_id in ids})
        if len(names) != 1:
            raise KitError(
                f"ad-hoc run with several tests ({', '.join(names)}): pass --name NAME",
                ExitCode.USAGE,
            )
        return check_name("adhoc_" + re.sub(r"[^A-Za-z0-9_.-]", "_", names[0]))
    profile = profile or summary.get("profile")
    if not isinstance(profile, str) or not profile:
        raise KitError(
            "summary.json names no profile: pass --name NAME", ExitCode.USAGE
        )
    scenarios = (summary.get("settings") or {}).get("scenarios") or []
    if isinstance(scenarios, list) and scenarios and set(scenarios) != set(SCENARIOS):
        profile = f"{profile}_{'-'.join(str(s) for s in scenarios)}"
    return check_name(profile)


def source_of(summary: dict[str, Any], run_dir: str, how: str) -> Source:
    """Where a baseline saved from one run comes from."""
    if how not in HOWS:
        raise KitError(f"how '{how}' invalid (have: {', '.join(HOWS)})", ExitCode.USAGE)
    environment = summary.get("environment") or {}
    return Source(
        run_dir=run_dir,
        kit_commit=environment.get("kit_commit"),
        started_at=summary.get("started_at"),
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
