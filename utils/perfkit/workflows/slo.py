"""A multi-user run against the SLOs of config.yaml (`slos:`, the same limits as every run's:
p95_ms, p99_ms, min_rps, max_error_rate): `perfkit workflows-slo RESULT [--profile P]`.

A workflow, a step and the run's total are `workflows/<workflow>`,
`workflows/<workflow>.<step>` (e.g. `workflows/share.member_calls`: the test ids of the
scenario workflows, so one config serves both) and `workflows/all`; a pattern such as
`workflows/share*` matches them, and `workflows/share:member_calls` (the step's name in the
run's tables) is taken for `workflows/share.member_calls`. Checked on the run's single window (there are no rounds), each breach printed;
the breaches are written into the result (`slos`). Patterns of other tests are not this run's.
Exit 0 none broken, 1 a breach, 2 a bad result file or config.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.compare.slo import LIMITS, SloBreach, SloRule
from perfkit.config import load_settings
from perfkit.exitcodes import ExitCode, KitError
from perfkit.names import KIT_ROOT

PREFIX = "workflows/"


def entries(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """test id -> its figures: each workflow, each step, and the total."""
    found = {f"{PREFIX}{w['workflow']}": w for w in result.get("workflows") or []}
    found |= {
        f"{PREFIX}{s['step'].replace(':', '.', 1)}": s
        for s in result.get("steps") or []
    }
    found[f"{PREFIX}all"] = result["total"]
    return found


def check(
    result: dict[str, Any], rules: tuple[SloRule, ...]
) -> tuple[list[SloBreach], list[str]]:
    """The breaches, and the workflows/ patterns that matched nothing (typos)."""
    mine = [r for r in rules if r.pattern.startswith(PREFIX)]
    figures = entries(result)
    breaches = []

    def matches(rule: SloRule, test_id: str) -> bool:
        return fnmatchcase(test_id, rule.pattern.replace(":", "."))

    for rule in mine:
        for test_id, entry in sorted(figures.items()):
            if not matches(rule, test_id):
                continue
            for slo, limit in rule.limits:
                value = entry.get(LIMITS[slo][0])
                kind = LIMITS[slo][1]
                if value is None or (value > limit if kind == "max" else value < limit):
                    breaches.append(SloBreach(test_id, rule.pattern, slo, limit, value))
    unmatched = [r.pattern for r in mine if not any(matches(r, t) for t in figures)]
    return breaches, unmatched


def cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="perfkit workflows-slo")
    parser.add_argument("result", type=Path)
    parser.add_argument("--profile", default="light")
    parser.add_argument("--config", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        result = json.loads(args.result.read_text())
        entries(result)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KitError(
            f"{args.result}: not a workflows.json ({exc})", ExitCode.USAGE
        ) from exc
    settings = load_settings(KIT_ROOT, args.profile, {}, os.environ, args.config)
    breaches, unmatched = check(result, settings.slos)
    for pattern in unmatched:
        print(
            f"slos.{pattern}: matches no workflow or step of this run", file=sys.stderr
        )
    result["slos"] = {
        "breaches": [b.describe() for b in breaches],
        "unmatched": unmatched,
    }
    write_json_atomic(args.result, result)
    for breach in breaches:
        print(f"SLO breached: {breach.describe()}")
    return int(ExitCode.REGRESSION) if breaches else 0
