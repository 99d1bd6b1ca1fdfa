"""Periodic stalls of the whole target, found in a test's hey rows (summary.json's per-test `stalls`).

A stall is a moment when the target answers nothing while many requests wait, and then answers
them together. hey's rows give each request's start (`offset`, seconds after the round began) and
its `response-time`, so its completion is offset + response-time. The rule, per round:

1. The round's typical latency L is the median response time of its rows.
2. A *silence* is a gap between two consecutive completions of at least
   max(SILENCE_FACTOR x L, MIN_SILENCE_S): for three typical latencies nothing was answered.
   (A closed-loop generator keeps `concurrency` requests in flight, so in normal service some
   request completes within about one typical latency.)
3. The requests *held* by a silence are those in flight through all of it (started before it
   began, completed after it ended). A silence is a stall when it held at least
   max(2, HELD_FRACTION x concurrency) requests: half the clients or more waited at once. At
   concurrency 1 no stall can be told from one slow request, so none is reported.

Over the test's rounds: `share` is held requests / all requests, `pause_ms` the median silence,
`held_ms` the median over stalls of the held requests' median latency (what a caught request
saw), `period_s` the median interval between consecutive stalls of a round. Stalls are `found`
when there are at least MIN_STALLS of them holding at least MIN_SHARE of the requests; they are
`periodic` when at least MIN_INTERVALS intervals exist and at least REGULAR_FRACTION of them lie
within PERIOD_TOLERANCE of the median interval.

Calibrated on the recorded runs of tests/fixtures/stalls/ (3 rounds of 1000 requests each): the
gateway 1.0.7 on /health at concurrency 10, as released, stalls about once a second (CPython's
full garbage collections), every stall's silence 5.3-8.8 x L with 9-10 requests held; the same
gateway with its heap frozen (gc.freeze), on a machine busy with other work (L 3 x longer), has
one silence of 3.0 x L and none other above 1.9 x L.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from perfkit.results.csvstats import load_rounds

SILENCE_FACTOR = 3.0
MIN_SILENCE_S = 0.05
HELD_FRACTION = 0.5
MIN_STALLS = 3
MIN_SHARE = 0.01
MIN_INTERVALS = 3
PERIOD_TOLERANCE = 0.35
REGULAR_FRACTION = 0.75


@dataclass(frozen=True)
class Stall:
    """One stall of a round: when its silence began (s after the round began), how long
    nothing was answered, how many requests it held and their median latency."""

    round: int
    at_s: float
    silence_s: float
    held: int
    held_latency_s: float


@dataclass
class Stalls:
    """A test's stalls over its rounds, as summary.json keeps them (`to_dict`)."""

    found: bool
    periodic: bool
    stalls: int
    rounds: int
    requests: int
    held: int
    share: float | None
    pause_ms: float | None
    held_ms: float | None
    period_s: float | None
    text: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def min_held(concurrency: int) -> int:
    """The requests a silence must hold to be a stall at this concurrency."""
    return max(2, math.ceil(HELD_FRACTION * concurrency))


def round_stalls(index: int, frame: pd.DataFrame, concurrency: int) -> list[Stall]:
    """The stalls of one round's hey rows (every status: a stalled answer is late whatever it says)."""
    if len(frame) < 2:
        return []
    starts = frame["offset"].to_numpy(dtype=float)
    latency = frame["response-time"].to_numpy(dtype=float)
    ends = starts + latency
    typical = float(np.median(latency))
    order = np.sort(ends)
    gaps = np.diff(order)
    silence = max(SILENCE_FACTOR * typical, MIN_SILENCE_S)
    found = []
    for i in np.flatnonzero(gaps >= silence):
        began, ended = float(order[i]), float(order[i + 1])
        held = (starts <= began) & (ends >= ended)
        if int(held.sum()) >= min_held(concurrency):
            found.append(
                Stall(
                    round=index,
                    at_s=round(began, 4),
                    silence_s=round(ended - began, 4),
                    held=int(held.sum()),
                    held_latency_s=round(float(np.median(latency[held])), 4),
                )
            )
    return found


def intervals(found: list[Stall]) -> list[float]:
    """Seconds between consecutive stalls of the same round."""
    gaps = []
    for first, second in pairwise(found):
        if first.round == second.round:
            gaps.append(second.at_s - first.at_s)
    return gaps


def is_regular(gaps: list[float]) -> bool:
    if len(gaps) < MIN_INTERVALS:
        return False
    period = statistics.median(gaps)
    near = [g for g in gaps if abs(g - period) <= PERIOD_TOLERANCE * period]
    return len(near) >= REGULAR_FRACTION * len(gaps)


def describe(result: Stalls) -> str:
    """'9.6% of requests in periodic 0.45 s stalls every ~1.3 s (...)'."""
    kind = "periodic " if result.periodic else ""
    text = f"{result.share:.1%} of requests in {kind}{(result.held_ms or 0) / 1000:.2f} s stalls"
    if result.periodic and result.period_s is not None:
        text += f" every ~{result.period_s:.2g} s"
    rounds = f"{result.rounds} round{'s' if result.rounds != 1 else ''}"
    text += (
        f" ({result.stalls} stalls in {rounds}: nothing answered for"
        f" ~{(result.pause_ms or 0) / 1000:.2f} s while {result.held / result.stalls:.0f}"
        " requests waited"
    )
    return text + ("" if result.periodic else "; not periodic") + ")"


def _median_ms(values: list[float]) -> float | None:
    return round(1000.0 * statistics.median(values), 1) if values else None


def detect(frames: dict[int, pd.DataFrame], concurrency: int) -> Stalls:
    """The stalls of a test's rounds (round index -> its hey rows) at its concurrency."""
    found = [
        stall
        for index in sorted(frames)
        for stall in round_stalls(index, frames[index], concurrency)
    ]
    requests = sum(len(frame) for frame in frames.values())
    held = sum(s.held for s in found)
    gaps = intervals(found)
    share = round(held / requests, 4) if requests else None
    result = Stalls(
        found=len(found) >= MIN_STALLS and (share or 0.0) >= MIN_SHARE,
        periodic=False,
        stalls=len(found),
        rounds=len(frames),
        requests=requests,
        held=held,
        share=share,
        pause_ms=_median_ms([s.silence_s for s in found]),
        held_ms=_median_ms([s.held_latency_s for s in found]),
        period_s=round(statistics.median(gaps), 2) if gaps else None,
        text=None,
    )
    result.periodic = result.found and is_regular(gaps)
    if result.found:
        result.text = describe(result)
    return result


def for_test(
    test_dir: Path, indexes: list[int], concurrency: int
) -> dict[str, Any] | None:
    """summary.json's `stalls` of a test: its rounds `indexes` (the complete ones) read from
    raw/<id>/; None when none of them has a row."""
    frames = {i: f for i, f in load_rounds(test_dir, indexes).items() if not f.empty}
    if not frames:
        return None
    return detect(frames, concurrency).to_dict()
