"""`perfkit overhead WORK --variants LIST --blocks K [--setting NAME=VALUE]...`: what the kit's
own measuring costs the gateway - utils/overhead.sh's interleaved runs of the same request by
plain hey and by the kit (and, with --parts, by plain hey plus one part of the kit), judged.

Each variant's req/s per block: plain hey's own `Requests/sec` (every answer must be 2xx);
`csv`, `time`, `sampler`: the 2xx answers of hey's CSV over its span, as the kit counts a round
(perfkit.results.csvstats); `kit`: the run's summary.json. A block runs every variant once, in
an order that reverses every block (ABBA), so a drift of the machine falls on all of them alike.
Per variant: the median req/s, and the ratio to plain - the geometric mean over the blocks of
variant/plain of the same block, with a 95% Student's t interval over the blocks.

Writes WORK/overhead.json (schema 1: {"schema_version", "settings", "blocks", "variants":
{NAME: {"rps": [per block], "median_rps", "ratio", "ratio_ci"}}}) and prints the table.
Exit 0; 4 when a run's output cannot be read or holds errors.
"""

from __future__ import annotations

import argparse
import re
import statistics
from pathlib import Path
from typing import Any

from perfkit.atomic import write_json_atomic
from perfkit.compare.geomean import geometric_mean
from perfkit.exitcodes import ExitCode, KitError

OVERHEAD_FILE = "overhead.json"
SCHEMA_VERSION = 1
VARIANTS = ("plain", "csv", "time", "sampler", "kit")
WHAT = {
    "plain": "hey -n N -c C URL",
    "csv": "plain + CSV output (-o csv)",
    "time": "plain + CSV + GNU time around hey",
    "sampler": "plain + CSV + the resource sampler running",
    "kit": "the kit's run (run-configurable.sh --endpoint): all of it",
}
HEY_RPS = re.compile(r"^\s*Requests/sec:\s*([0-9.]+)", re.MULTILINE)
HEY_CODES = re.compile(r"^\s*\[(\d{3})\]\s+(\d+) responses", re.MULTILINE)
CONFIDENCE = 0.95


def failed(message: str) -> KitError:
    return KitError(message, ExitCode.BENCHMARK_FAILED)


def plain_rps(path: Path) -> float:
    text = path.read_text(encoding="utf-8", errors="replace")
    found = HEY_RPS.search(text)
    if found is None:
        raise failed(f"{path}: no 'Requests/sec' in hey's output")
    codes = {int(code): int(count) for code, count in HEY_CODES.findall(text)}
    bad = {code: count for code, count in codes.items() if not 200 <= code < 300}
    if bad or not codes or "Error distribution" in text:
        raise failed(
            f"{path}: not every answer was 2xx ({codes or 'none'}); see the file"
        )
    return float(found.group(1))


def csv_rps(path: Path, requests: int) -> float:
    from perfkit.results.csvstats import round_stats

    stats = round_stats(path, path.with_suffix(".time"), requests)
    if stats.rps is None or stats.ok != requests:
        raise failed(f"{path}: {stats.ok} of {requests} answers were 2xx")
    return float(stats.rps)


def kit_rps(runs: Path) -> float:
    from perfkit.results.summary import load_summary

    found = sorted(p for p in runs.glob("adhoc_*") if p.is_dir())
    if not found:
        raise failed(f"{runs}: the kit's run left no run folder")
    summary = load_summary(found[-1])
    [test] = summary.tests
    rps = (test.aggregate or {}).get("rps")
    if rps is None or test.status != "ok" or test.error_rate:
        raise failed(
            f"{found[-1]}: the kit's run measured no clean req/s ({test.status})"
        )
    return float(rps)


def rps_of(work: Path, variant: str, block: int, requests: int) -> float:
    base = work / f"{block}-{variant}"
    if variant == "plain":
        return plain_rps(base.with_suffix(".txt"))
    if variant == "kit":
        return kit_rps(Path(f"{base}.runs"))
    return csv_rps(base.with_suffix(".csv"), requests)


def ratio(values: list[float], plain: list[float]) -> tuple[float, list[float] | None]:
    found = geometric_mean(
        [v / p for v, p in zip(values, plain, strict=True)], CONFIDENCE
    )
    if found is None:
        raise failed("no positive req/s to compare")
    mean, interval = found
    return mean, list(interval) if interval else None


def analyse(
    work: Path, variants: list[str], blocks: int, requests: int
) -> dict[str, Any]:
    rps = {
        v: [rps_of(work, v, block, requests) for block in range(1, blocks + 1)]
        for v in variants
    }
    out: dict[str, Any] = {}
    for variant, values in rps.items():
        r, ci = ratio(values, rps["plain"])
        out[variant] = {
            "rps": values,
            "median_rps": round(statistics.median(values), 2),
            "ratio": round(r, 4),
            "ratio_ci": [round(v, 4) for v in ci] if ci else None,
        }
    return out


def render(data: dict[str, Any]) -> str:
    s = data["settings"]
    lines = [
        (
            f"The kit's own cost: {s.get('url')} at concurrency {s.get('concurrency')}, "
            f"{s.get('requests')} requests a run, {data['blocks']} interleaved blocks"
        ),
        f"{'variant':<9} {'median req/s':>12}  {'/ plain [95% CI]':<24} what runs",
    ]
    for name, v in data["variants"].items():
        ci = v["ratio_ci"]
        interval = (
            f"{v['ratio']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"
            if ci
            else f"{v['ratio']:.3f}"
        )
        lines.append(f"{name:<9} {v['median_rps']:>12.1f}  {interval:<24} {WHAT[name]}")
    kit = data["variants"].get("kit")
    if kit:
        cost = (1 - kit["ratio"]) * 100
        lines.append(
            f"The kit measures {abs(cost):.1f}% {'less' if cost >= 0 else 'more'} req/s than plain hey "
            "on the same request (the ratio's interval says how sure)."
        )
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="perfkit overhead", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("work", type=Path)
    parser.add_argument("--variants", required=True)
    parser.add_argument("--blocks", type=int, required=True)
    parser.add_argument("--setting", action="append", default=[])
    return parser.parse_args(argv)


def cli(argv: list[str]) -> int:
    args = parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown or "plain" not in variants:
        raise KitError(
            f"--variants {args.variants}: give plain and any of {', '.join(VARIANTS)}",
            ExitCode.USAGE,
        )
    settings = dict(item.split("=", 1) for item in args.setting if "=" in item)
    requests = int(settings.get("requests", "0"))
    data = {
        "schema_version": SCHEMA_VERSION,
        "settings": settings,
        "blocks": args.blocks,
        "variants": analyse(args.work, variants, args.blocks, requests),
    }
    write_json_atomic(args.work / OVERHEAD_FILE, data)
    print(render(data))
    return 0
