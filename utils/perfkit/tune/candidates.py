"""The tuning advisor's candidates: gateway settings to try against the local stack's own, each
in an interleaved A/B of its own (utils/tune.sh runs utils/compare-versions.sh per candidate).

A candidate is one or more `NAME=VALUE` pairs, comma-separated (`CACHE_TYPE=redis`,
`LOG_LEVEL=DEBUG,LOG_REQUESTS=true`); config.yaml's `tune.candidates` lists the default sweep,
in the order it is run (a budget cuts it from the end), and `--candidate SPEC` replaces that list.
Every NAME must be one the installed release reads (perfkit.gateway.release: a field of its
Settings, a name it reads from the environment, or WEB_CONCURRENCY, the worker count of the
uvicorn server the `mcpgateway` command runs): an unknown name is exit 2 naming it and the
release - the gateway would ignore it without a word.

config.yaml's `tune.trade_offs` says what a setting gives up for speed, keyed by `NAME=VALUE`
(that value only) or `NAME` (any value); the advisor prints it beside the setting and in the
recommended .env fragment, so that nobody turns off an audit log for 3% without knowing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from perfkit.exitcodes import ExitCode, KitError
from perfkit.gateway.release import ReleaseSettings
from perfkit.gateway.settings import Setting, check_known, parse_pair

TUNE_KEY = "tune"
SECTION_KEYS = frozenset(
    {"profile", "scenarios", "tests", "budget_minutes", "candidates", "trade_offs"}
)
# a first guess of one round of one test, and of two stacks' start and stop, used only until
# an earlier tune of the same workload has measured how long an A/B takes
GUESS_ROUND_SECONDS = 3.0
GUESS_STACK_SECONDS = 60.0
SLUG = re.compile(r"[^A-Za-z0-9_.=-]+")


@dataclass(frozen=True)
class Candidate:
    settings: tuple[Setting, ...]

    @property
    def label(self) -> str:
        return ",".join(f"{s.name}={s.value}" for s in self.settings)

    @property
    def slug(self) -> str:
        """A folder name for the candidate's A/B (unique among a sweep's candidates)."""
        return SLUG.sub("_", self.label)[:120]

    def as_dict(self) -> dict[str, str]:
        return {s.name: s.value for s in self.settings}


@dataclass(frozen=True)
class TuneSection:
    """config.yaml's `tune` block (every key optional)."""

    profile: str | None = None
    scenarios: str | None = None
    tests: str | None = None
    budget_minutes: float | None = None
    candidates: tuple[str, ...] = ()
    trade_offs: tuple[tuple[str, str], ...] = ()


def usage(message: str) -> KitError:
    return KitError(message, ExitCode.USAGE)


def parse_candidate(spec: str, origin: str) -> Candidate:
    """`NAME=VALUE[,NAME=VALUE...]` (exit 2 naming ORIGIN for anything else, or a name twice)."""
    parts = [part.strip() for part in spec.split(",") if part.strip()]
    if not parts:
        raise usage(f"{origin}: an empty candidate; give NAME=VALUE[,NAME=VALUE...]")
    settings = tuple(parse_pair(part, origin) for part in parts)
    names = [s.name.upper() for s in settings]
    if len(set(names)) != len(names):
        raise usage(f"{origin}: {spec!r} names a setting twice")
    return Candidate(settings)


def parse_section(node: Any, where: str) -> TuneSection:
    """config.yaml's `tune` block, checked (exit 2 naming the key that is wrong)."""
    if node is None:
        return TuneSection()
    if not isinstance(node, dict) or set(node) - SECTION_KEYS:
        raise usage(
            f"{where}: 'tune' holds {', '.join(sorted(SECTION_KEYS))}; not {sorted(node) if isinstance(node, dict) else node!r}"
        )
    candidates = node.get("candidates") or []
    if not isinstance(candidates, list) or not all(
        isinstance(c, str) for c in candidates
    ):
        raise usage(
            f"{where}: tune.candidates must be a list of 'NAME=VALUE[,NAME=VALUE...]' strings"
        )
    for index, spec in enumerate(candidates):
        parse_candidate(spec, f"{where} tune.candidates[{index}]")
    trade_offs = node.get("trade_offs") or {}
    if not isinstance(trade_offs, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip()
        for k, v in trade_offs.items()
    ):
        raise usage(
            f"{where}: tune.trade_offs maps 'NAME' or 'NAME=VALUE' to what it gives up (text)"
        )
    budget = node.get("budget_minutes")
    if budget is not None and (
        isinstance(budget, bool) or not isinstance(budget, int | float) or budget <= 0
    ):
        raise usage(
            f"{where}: tune.budget_minutes must be a positive number of minutes"
        )
    return TuneSection(
        profile=_text(node.get("profile"), "profile", where),
        scenarios=_text(node.get("scenarios"), "scenarios", where),
        tests=_text(node.get("tests"), "tests", where),
        budget_minutes=float(budget) if budget is not None else None,
        candidates=tuple(candidates),
        trade_offs=tuple((k.strip(), v.strip()) for k, v in trade_offs.items()),
    )


def _text(value: Any, key: str, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str | int):
        raise usage(f"{where}: tune.{key} must be text, not {value!r}")
    return str(value)


def check_candidates(
    candidates: list[Candidate], release: ReleaseSettings, label: str
) -> None:
    """Exit 2 naming every setting the release does not read (before anything starts)."""
    check_known([s for c in candidates for s in c.settings], release, label)
    slugs = [c.slug for c in candidates]
    twice = sorted({s for s in slugs if slugs.count(s) > 1})
    if twice:
        raise usage(f"candidate {twice[0]!r} is given twice")


def trade_off(candidate: Candidate, trade_offs: dict[str, str]) -> str | None:
    """What the candidate's settings give up, from tune.trade_offs (None: nothing said)."""
    said = []
    for s in candidate.settings:
        text = trade_offs.get(f"{s.name}={s.value}") or trade_offs.get(s.name)
        if text:
            said.append(text)
    return "; ".join(said) or None


def estimate_ab_seconds(tests: int, rounds: int) -> float:
    """A first guess of one A/B's time: every test's rounds on both sides, and two stacks."""
    return tests * rounds * 2 * GUESS_ROUND_SECONDS + GUESS_STACK_SECONDS
