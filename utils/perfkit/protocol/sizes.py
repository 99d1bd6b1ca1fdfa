"""Large answers by size: the mcp scenario's payload tests side by side.

The scenario reads the benchmark server's resources `payload://1KiB`, `100KiB` and `1MiB` and
calls its tool `get_payload` for the same sizes, all through the virtual server's
`/servers/<id>/mcp` (tests `server_resources_read_payload_<size>`,
`server_tools_call_payload_<size>`). Per operation and size: req/s, p50 and p95 (medians over
rounds), the payload's throughput (req/s x size), and p50 as a ratio to the smallest size's with
the per-round interval (perfkit.protocol.overhead.ratio) - what a larger answer costs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from perfkit.compare.verdict import median
from perfkit.protocol.overhead import Ratio, ok_tests, per_round, ratio
from perfkit.results.summary import Summary, TestResult

TEST_NAME = re.compile(r"^server_(resources_read|tools_call)_payload_(\d+)(kib|mib)$")
UNITS = {"kib": 1024, "mib": 1024 * 1024}


@dataclass(frozen=True)
class SizeFigures:
    size: str  # "100 KiB"
    size_bytes: int
    test_id: str
    rps: float | None
    p50_ms: float | None
    p95_ms: float | None
    mib_per_s: float | None  # payload bytes a second: req/s x size
    p50_ratio: Ratio | None  # to the smallest size's p50; None on the smallest


@dataclass(frozen=True)
class SizeRow:
    operation: str  # resources/read, tools/call
    sizes: list[SizeFigures]


def payload_sizes(summary: Summary) -> list[SizeRow]:
    """One row per operation with at least two sizes measured (ok tests), smallest first."""
    found: dict[str, list[tuple[int, str, TestResult]]] = {}
    for match, test in ok_tests(summary, TEST_NAME):
        kind, count, unit = match.groups()
        size = int(count) * UNITS[unit]
        label = f"{count} {'KiB' if unit == 'kib' else 'MiB'}"
        found.setdefault(kind.replace("_", "/", 1), []).append((size, label, test))
    rows = []
    for operation, tests in found.items():
        if len(tests) < 2:
            continue
        tests.sort(key=lambda item: item[0])
        smallest = tests[0][2]
        figures = []
        for index, (size, label, test) in enumerate(tests):
            rps = median(per_round(test, "rps"))
            figures.append(
                SizeFigures(
                    size=label,
                    size_bytes=size,
                    test_id=test.id,
                    rps=rps,
                    p50_ms=median(per_round(test, "p50")),
                    p95_ms=median(per_round(test, "p95")),
                    mib_per_s=None if rps is None else rps * size / (1024 * 1024),
                    p50_ratio=None
                    if index == 0
                    else ratio(per_round(smallest, "p50"), per_round(test, "p50")),
                )
            )
        rows.append(SizeRow(operation, figures))
    return rows
