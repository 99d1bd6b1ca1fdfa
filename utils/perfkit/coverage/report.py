"""Coverage of the gateway's operations by what runs exercised: `perfkit coverage`, and the
file it writes, coverage.json (this module owns its name, schema versions and loader).

Per group and overall: the document's operations, those excluded on purpose (config.yaml
`coverage.exclude`, each with its reason), those the runs covered, and the coverage of the
rest - `covered / (operations - excluded)`; the coverage of all operations is given beside it,
so an exclusion never hides an operation. An excluded operation that a run exercised anyway
counts as covered (its exclusion is noted as no longer needed). Requests that match no
operation of the document (the streamable-HTTP `/mcp` mounts, `/health` on some releases) are
listed apart as `outside`.

Schema versions of coverage.json:
  1 - source, generated_at, runs, operations, excluded, covered, percent, percent_of_all,
      groups [{group, operations, excluded, covered, percent}], covered_operations
      [{operation, group, by, legacy_alias}], uncovered [{operation, group}], excluded_operations
      [{operation, group, reason}], outside [{request, by}], notes
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.clock import now_iso
from perfkit.coverage.exclusions import Exclusion, reason_for, unused
from perfkit.coverage.exercised import Request, exercised
from perfkit.coverage.openapi import Matcher, Operation, operations
from perfkit.exitcodes import ExitCode, KitError
from perfkit.jsonfile import check_version, read_object

COVERAGE_FILE = "coverage.json"
SCHEMA_VERSION = 1
READABLE_VERSIONS = (1,)


@dataclass
class GroupCoverage:
    group: str
    operations: int = 0
    excluded: int = 0
    covered: int = 0

    @property
    def counted(self) -> int:
        return self.operations - self.excluded

    @property
    def percent(self) -> float | None:
        return round(100 * self.covered / self.counted, 1) if self.counted else None


@dataclass
class Coverage:
    source: str
    runs: list[str]
    groups: list[GroupCoverage]
    covered_operations: list[dict[str, Any]] = field(default_factory=list)
    uncovered: list[dict[str, str]] = field(default_factory=list)
    excluded_operations: list[dict[str, str]] = field(default_factory=list)
    outside: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    generated_at: str = field(default_factory=now_iso)

    @property
    def total(self) -> GroupCoverage:
        total = GroupCoverage("all")
        for g in self.groups:
            total.operations += g.operations
            total.excluded += g.excluded
            total.covered += g.covered
        return total

    def to_dict(self) -> dict[str, Any]:
        total = self.total
        return {
            "schema_version": SCHEMA_VERSION,
            "source": self.source,
            "generated_at": self.generated_at,
            "runs": self.runs,
            "operations": total.operations,
            "excluded": total.excluded,
            "covered": total.covered,
            "percent": total.percent,
            "percent_of_all": round(100 * total.covered / total.operations, 1)
            if total.operations
            else None,
            "groups": [asdict(g) | {"percent": g.percent} for g in self.groups],
            "covered_operations": self.covered_operations,
            "uncovered": self.uncovered,
            "excluded_operations": self.excluded_operations,
            "outside": self.outside,
            "notes": self.notes,
        }


_ID = re.compile(r"[0-9a-fA-F]{16,}|[0-9a-fA-F-]{36}|\d+")


def shape(path: str) -> str:
    """A path with its ids as `{id}` (the workflows' concrete server ids), so that requests
    outside the document are listed once per endpoint."""
    return "/".join("{id}" if _ID.fullmatch(part) else part for part in path.split("/"))


def compute(
    ops: list[Operation],
    requests: list[Request],
    exclusions: tuple[Exclusion, ...],
    source: str,
    runs: list[str],
) -> Coverage:
    matcher = Matcher(ops)
    by: dict[str, set[str]] = {}
    outside: dict[str, set[str]] = {}
    legacy: set[str] = set()
    for request in requests:
        op = matcher.match(request.method, request.path)
        if op is None:
            outside.setdefault(f"{request.method} {shape(request.path)}", set()).add(
                request.source
            )
            continue
        by.setdefault(op.key, set()).add(request.source)
        if matcher.legacy(request.method, request.path):
            legacy.add(op.key)
    groups: dict[str, GroupCoverage] = {}
    result = Coverage(source, runs, [])
    for op in ops:
        group = groups.setdefault(op.group, GroupCoverage(op.group))
        group.operations += 1
        reason = reason_for(op, exclusions)
        if op.key in by:
            group.covered += 1
            result.covered_operations.append(
                {
                    "operation": op.key,
                    "group": op.group,
                    "by": sorted(by[op.key]),
                    "legacy_alias": op.key in legacy,
                }
            )
            if reason:
                result.notes.append(
                    f"{op.key} is excluded ({reason}) but was exercised: counted as "
                    "covered; its exclusion can go"
                )
        elif reason:
            group.excluded += 1
            result.excluded_operations.append(
                {"operation": op.key, "group": op.group, "reason": reason}
            )
        else:
            result.uncovered.append({"operation": op.key, "group": op.group})
    result.groups = sorted(groups.values(), key=lambda g: g.group)
    result.outside = [
        {"request": key, "by": sorted(sources)}
        for key, sources in sorted(outside.items())
    ]
    if legacy:
        result.notes.append(
            f"{len(legacy)} operation(s) were reached through the deprecated unversioned "
            "paths (/tools for /v1/tools), which the gateway still serves with Deprecation "
            "headers; they count for their /v1 operation"
        )
    result.notes += [
        f"coverage.exclude entry {match!r} matches no operation of the document"
        for match in unused(exclusions, ops)
    ]
    return result


def percent_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def render(coverage: Coverage, show_uncovered: int = 40) -> str:
    width = max([len(g.group) for g in coverage.groups] + [5]) + 2
    head = f"{'group':<{width}}{'operations':>11}{'excluded':>10}{'covered':>9}{'coverage':>10}"
    lines = [f"REST coverage of {coverage.source}", "", head]
    for g in [*coverage.groups, coverage.total]:
        if g.group == "all":
            lines.append("-" * len(head))
        lines.append(
            f"{g.group:<{width}}{g.operations:>11}{g.excluded:>10}{g.covered:>9}"
            f"{percent_text(g.percent):>10}"
        )
    total = coverage.total
    of_all = 100 * total.covered / total.operations if total.operations else 0.0
    lines.append(
        f"\n{total.covered} of {total.counted} operations not excluded are covered "
        f"({percent_text(total.percent)}); of all {total.operations}: {of_all:.1f}%; "
        f"{total.excluded} excluded with a reason"
    )
    if coverage.uncovered:
        shown = coverage.uncovered[:show_uncovered]
        lines.append(f"\nuncovered ({len(coverage.uncovered)}):")
        lines += [f"  {u['operation']}  [{u['group']}]" for u in shown]
        if len(coverage.uncovered) > len(shown):
            lines.append(
                f"  ... {len(coverage.uncovered) - len(shown)} more in coverage.json"
            )
    reasons: dict[str, int] = {}
    for e in coverage.excluded_operations:
        reasons[e["reason"]] = reasons.get(e["reason"], 0) + 1
    if reasons:
        lines.append("\nexcluded:")
        lines += [f"  {n:>4}  {reason}" for reason, n in sorted(reasons.items())]
    if coverage.outside:
        lines.append("\nrequests outside the document (not counted):")
        lines += [f"  {o['request']}" for o in coverage.outside]
    lines += [f"note: {note}" for note in coverage.notes]
    return "\n".join(lines)


def load_coverage(run_dir: Path) -> dict[str, Any] | None:
    """A run's coverage.json (None if it has none); unknown versions are refused."""
    path = run_dir / COVERAGE_FILE
    if not path.is_file():
        return None
    data = read_object(path, "coverage")
    check_version(path, data, READABLE_VERSIONS)
    return data


def read_document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KitError(
            f"cannot read the OpenAPI document {path}: {exc.strerror}",
            ExitCode.ENV_NOT_READY,
        ) from None
    except json.JSONDecodeError as exc:
        raise KitError(
            f"{path} is not JSON ({exc.msg} at line {exc.lineno}): the gateway did not "
            "answer /openapi.json with its document",
            ExitCode.ENV_NOT_READY,
        ) from None
    if not isinstance(document, dict):
        raise KitError(f"{path} is not an OpenAPI document", ExitCode.ENV_NOT_READY)
    return document


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="perfkit coverage", description=__doc__)
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    parser.add_argument(
        "--openapi", type=Path, required=True, help="the document (JSON)"
    )
    parser.add_argument("--source", default="", help="where it came from (a URL)")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"write here (default: the first run's {COVERAGE_FILE})",
    )
    parser.add_argument(
        "--all", action="store_true", help="list every uncovered operation"
    )
    parser.add_argument("--quiet", action="store_true", help="do not print the table")
    parser.add_argument("--profile", default="light", help="whose settings are checked")
    parser.add_argument("--config", type=Path, help="default: KIT_ROOT/config.yaml")
    return parser


def cli(argv: list[str]) -> int:
    from perfkit.config import load_settings
    from perfkit.names import KIT_ROOT

    args = build_parser().parse_args(argv)
    # every setting is checked as for a run; the exclusions are config.yaml's
    settings = load_settings(KIT_ROOT, args.profile, {}, os.environ, args.config)
    for run in args.runs:
        if not (run / "plan.tsv").is_file():
            raise KitError(
                f"'{run}' is not a run folder (no plan.tsv); pass one under results/",
                ExitCode.USAGE,
            )
    ops = operations(read_document(args.openapi))
    if not ops:
        raise KitError(
            f"{args.openapi} lists no operation: coverage cannot be computed from it",
            ExitCode.ENV_NOT_READY,
        )
    requests = [r for run in args.runs for r in exercised(run)]
    coverage = compute(
        ops,
        requests,
        settings.coverage_exclude,
        args.source or str(args.openapi),
        [str(run) for run in args.runs],
    )
    output = args.output or args.runs[0] / COVERAGE_FILE
    write_json_atomic(output, coverage.to_dict())
    if not args.quiet:
        print(render(coverage, 10**6 if args.all else 40))
        print(f"perfkit coverage: wrote {output}", file=sys.stderr)
    return 0
