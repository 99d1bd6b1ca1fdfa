"""Statistics of measured rounds, computed from hey's `-o csv` output and GNU time's `.time` file.

One round is one hey run (`raw/<id>/round-<k>.csv` + `.time`), or for a group test all its
components' hey runs started together (`raw/<id>/round-<k>/<component>.csv` + `.time`).
Throughput counts 2xx responses only; latency percentiles are over 2xx responses, linear
interpolation, in milliseconds. hey's CSV leaves transport errors out, so they are
`expected_requests - rows` when the number of requests is known (request mode), else unknown.
`load_rounds` gives a test's rows round by round (the report's charts, perfkit.results.stalls).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from perfkit.clock import iso_utc
from perfkit.exitcodes import ExitCode, KitError

CSV_COLUMNS = (
    "response-time", "DNS+dialup", "DNS", "Request-write", "Response-delay", "Response-read",
    "status-code", "offset",
)  # fmt: skip
PERCENTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99}
_ROUND_NAME = re.compile(r"^round-(\d+)$")
_SIGNALLED = re.compile(r"^Command terminated by signal (\d+)")


@dataclass(frozen=True)
class TimeInfo:
    """A `.time` file: started_at=<epoch>, then GNU time's elapsed, user, sys and exit lines."""

    started_at: float | None = None
    elapsed: float | None = None
    user: float | None = None
    sys: float | None = None
    exit: int | None = None

    @property
    def cpu_s(self) -> float | None:
        if self.user is None or self.sys is None:
            return None
        return self.user + self.sys


@dataclass
class Latency:
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    mean: float | None = None
    min: float | None = None
    max: float | None = None


@dataclass
class Errors:
    non_2xx: int
    transport: int | None  # None: unknown (duration mode, or requests not given)


@dataclass
class Generator:
    cpu_s: float | None  # hey's user + sys CPU seconds
    cores: float | None  # cpu_s / elapsed: average cores hey kept busy


@dataclass
class RoundStats:
    index: int | None
    requests: int
    ok: int
    duration_s: float | None
    rps: float | None
    attempted_rps: float | None
    latency_ms: Latency
    status_codes: dict[str, int]
    errors: Errors
    generator: Generator
    started_at: str | None
    wall_s: float | None
    complete: bool
    components: dict[str, RoundStats] | None = None  # group rounds only

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.components is None:
            del data["components"]
        return data


def read_time_file(path: Path) -> TimeInfo:
    """Parse a `.time` file; a missing file means nothing is known. Lines without `=` (GNU
    time's "Command exited with non-zero status N") are ignored; a signal counts as exit 128+N."""
    if not path.is_file():
        return TimeInfo()
    values: dict[str, str] = {}
    signal: int | None = None
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep:
            values[key.strip()] = value.strip()
        elif match := _SIGNALLED.match(line.strip()):
            signal = int(match.group(1))
    exit_code = _time_value(values.get("exit"), path)
    if signal is not None:
        exit_code = 128 + signal
    return TimeInfo(
        started_at=_time_value(values.get("started_at"), path),
        elapsed=_time_value(values.get("elapsed"), path),
        user=_time_value(values.get("user"), path),
        sys=_time_value(values.get("sys"), path),
        exit=None if exit_code is None else int(exit_code),
    )


def _time_value(text: str | None, path: Path) -> float | None:
    if text is None or text == "":
        return None
    try:
        return float(text)
    except ValueError:
        raise KitError(
            f"{path}: '{text}' is not a number (expected key=value lines from GNU time)",
            ExitCode.BENCHMARK_FAILED,
        ) from None


def _csv_error(path: Path, problem: str) -> KitError:
    return KitError(
        f"{path}: {problem} (re-run the test, or delete the file to skip that round)",
        ExitCode.BENCHMARK_FAILED,
    )


def read_hey_csv(path: Path) -> pd.DataFrame:
    """Load one `hey -o csv` file; a header-only file is a valid round with 0 responses."""
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise _csv_error(path, "hey CSV not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise _csv_error(path, f"not a hey -o csv file ({exc})") from None
    missing = [name for name in CSV_COLUMNS if name not in frame.columns]
    if missing:
        raise _csv_error(
            path, f"not a hey -o csv file (missing columns: {', '.join(missing)})"
        )
    try:
        frame = frame.astype({name: float for name in CSV_COLUMNS})
        return frame.astype({"status-code": int})
    except (ValueError, TypeError) as exc:
        raise _csv_error(path, f"unreadable value in hey CSV ({exc})") from None


def round_index(path: Path) -> int | None:
    """k of `round-<k>.csv` or of a group's `round-<k>/` directory."""
    name = path.stem if path.suffix else path.name
    match = _ROUND_NAME.match(name)
    return int(match.group(1)) if match else None


def round_csvs(test_dir: Path, index: int) -> list[Path]:
    """The hey CSVs of round `index`: round-<k>.csv, or every component's CSV of a group."""
    single = test_dir / f"round-{index}.csv"
    if single.is_file():
        return [single]
    group = test_dir / f"round-{index}"
    return sorted(group.glob("*.csv")) if group.is_dir() else []


def load_rounds(test_dir: Path, indexes: list[int]) -> dict[int, pd.DataFrame]:
    """Each round's rows (components of a group round concatenated); missing rounds left out."""
    frames: dict[int, pd.DataFrame] = {}
    for index in indexes:
        parts = [read_hey_csv(path) for path in round_csvs(test_dir, index)]
        if parts:
            frames[index] = pd.concat(parts, ignore_index=True)
    return frames


def _is_2xx(codes: pd.Series) -> pd.Series:
    return (codes >= 200) & (codes < 300)


def _span(frame: pd.DataFrame) -> float:
    if frame.empty:
        return 0.0
    return float((frame["offset"] + frame["response-time"]).max())


def _duration(
    frame: pd.DataFrame, timing: TimeInfo, transport: int | None
) -> float | None:
    """The CSV's span when every request answered; otherwise failed requests may have taken
    longer than the last response, so the wall time counts too."""
    span = _span(frame)
    if not frame.empty and transport == 0:
        return span
    if timing.elapsed is None:
        return span if not frame.empty else None
    return max(span, timing.elapsed)


def latency_ms(frame: pd.DataFrame) -> Latency:
    """Latency of the 2xx responses in `frame`, ms, linear interpolation, 2 decimals."""
    times = frame.loc[_is_2xx(frame["status-code"]), "response-time"] * 1000.0
    if times.empty:
        return Latency()
    values = {name: times.quantile(q) for name, q in PERCENTILES.items()}
    values |= {"mean": times.mean(), "min": times.min(), "max": times.max()}
    return Latency(**{name: round(float(value), 2) for name, value in values.items()})


def _rate(count: int, duration: float | None) -> float | None:
    if duration is None or duration <= 0:
        return None
    return round(count / duration, 2)


def _cores(cpu_s: float | None, elapsed: float | None) -> float | None:
    if cpu_s is None or not elapsed:
        return None
    return round(cpu_s / elapsed, 3)


def _assemble(
    frame: pd.DataFrame, transport: int | None, duration: float | None, timing: TimeInfo
) -> RoundStats:
    codes = frame["status-code"]
    ok = int(_is_2xx(codes).sum())
    counts = codes.value_counts().sort_index()
    cpu_s = timing.cpu_s
    return RoundStats(
        index=None,
        requests=len(frame) + (transport or 0),
        ok=ok,
        duration_s=None if duration is None else round(duration, 4),
        rps=_rate(ok, duration),
        attempted_rps=_rate(len(frame), duration),
        latency_ms=latency_ms(frame),
        status_codes={str(code): int(n) for code, n in counts.items()},
        errors=Errors(non_2xx=len(frame) - ok, transport=transport),
        generator=Generator(
            cpu_s=None if cpu_s is None else round(cpu_s, 2),
            cores=_cores(cpu_s, timing.elapsed),
        ),
        started_at=None if timing.started_at is None else iso_utc(timing.started_at),
        wall_s=timing.elapsed,
        complete=timing.exit == 0,
    )


def _measure(
    csv_path: Path, time_path: Path, expected_requests: int | None
) -> tuple[pd.DataFrame, TimeInfo, RoundStats]:
    frame = read_hey_csv(csv_path)
    timing = read_time_file(time_path)
    transport = (
        None if expected_requests is None else max(0, expected_requests - len(frame))
    )
    stats = _assemble(frame, transport, _duration(frame, timing, transport), timing)
    stats.index = round_index(csv_path)
    return frame, timing, stats


def round_stats(
    csv_path: Path, time_path: Path, expected_requests: int | None
) -> RoundStats:
    """Statistics of one hey run. `expected_requests`: hey -n, or None in duration mode.
    `complete` is False when hey's exit status is unknown (no .time) or not 0."""
    return _measure(csv_path, time_path, expected_requests)[2]


def _sum_or_none(values: list[float | None]) -> float | None:
    return (
        None
        if any(v is None for v in values)
        else sum(v for v in values if v is not None)
    )


def _max_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _group_timing(timings: list[TimeInfo]) -> TimeInfo:
    started = [t.started_at for t in timings if t.started_at is not None]
    failed = [t.exit for t in timings if t.exit != 0]
    return TimeInfo(
        started_at=min(started) if started else None,
        elapsed=_max_or_none([t.elapsed for t in timings]),
        user=_sum_or_none([t.user for t in timings]),
        sys=_sum_or_none([t.sys for t in timings]),
        exit=failed[0] if failed else 0,
    )


def group_round_stats(
    round_dir: Path, expected_per_component: dict[str, int | None]
) -> RoundStats:
    """Statistics of a group round: counts summed, duration the longest component's, latency
    over the pooled 2xx responses, generator CPU summed; per-component stats in `components`."""
    names = sorted(
        set(expected_per_component) | {p.stem for p in round_dir.glob("*.csv")}
    )
    if not names:
        raise KitError(
            f"{round_dir}: no component CSV files", ExitCode.BENCHMARK_FAILED
        )
    frames, timings, components = [], [], {}
    for name in names:
        csv_path, time_path = round_dir / f"{name}.csv", round_dir / f"{name}.time"
        frame, timing, stats = _measure(
            csv_path, time_path, expected_per_component.get(name)
        )
        stats.index = round_index(round_dir)
        frames.append(frame)
        timings.append(timing)
        components[name] = stats
    transports = [c.errors.transport for c in components.values()]
    transport = None if None in transports else sum(t or 0 for t in transports)
    duration = _max_or_none([c.duration_s for c in components.values()])
    stats = _assemble(
        pd.concat(frames, ignore_index=True),
        transport,
        duration,
        _group_timing(timings),
    )
    stats.index = round_index(round_dir)
    stats.components = components
    return stats
