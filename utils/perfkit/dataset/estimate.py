"""What a dataset will make before it is made (`--dry-run`): its expected rows per table from its
counts and shape, and its size and time from rates the kit measured writing `medium`.

The rows are expectations (ranges drawn at random average out); the size and time scale the
measured figures by rows, and say which measurement they come from.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfkit.dataset.spec import Dataset

# `make populate DATASET=medium` (226,874 rows) on this kit's development machine (2 shared
# cores, Debian, ContextForge 1.0.7.post20260921, 2026-12-03): rows written per second (the
# writing alone; the checks afterwards add 10-15 s at medium) and bytes the database grew by per
# row (SQLite: the file after a checkpoint; PostgreSQL: pg_database_size after VACUUM FULL)
MEASURED: dict[str, tuple[float, float]] = {
    "sqlite": (21_900.0, 435.0),
    "postgresql": (20_300.0, 496.0),
}
MEASURED_ON = "medium, a 2-core machine, 2026-12-03"


@dataclass(frozen=True)
class Estimate:
    rows: dict[str, int]
    megabytes: float
    seconds: float
    basis: str

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def mean(lo_hi: list[int], cap: int) -> float:
    lo, hi = lo_hi
    return float(min((lo + hi) / 2, cap))


def expected_rows(dataset: Dataset) -> dict[str, int]:
    c, shape = dataset.counts, dataset.shape
    users, teams = c["users"], c["teams"]
    members = teams * max(1.0, mean(shape["members_per_team"], users)) if users else 0
    rows = {
        "email_users": users,
        "email_teams": users + teams,
        "email_team_members": users + members,
        "user_roles": 2 * users + members,
        "gateways": c["gateways"],
        "tools": c["tools"],
        "prompts": c["prompts"],
        "resources": c["resources"],
        "servers": c["servers"],
        "server_tool_association": c["servers"]
        * mean(shape["tools_per_server"], c["tools"]),
        "server_prompt_association": c["servers"]
        * mean(shape["prompts_per_server"], c["prompts"]),
        "server_resource_association": c["servers"]
        * mean(shape["resources_per_server"], c["resources"]),
    }
    for table in (
        "tool_metrics",
        "prompt_metrics",
        "resource_metrics",
        "server_metrics",
    ):
        rows[table] = c[table]
    return {table: round(n) for table, n in rows.items()}


def estimate(dataset: Dataset, backend: str) -> Estimate:
    rows = expected_rows(dataset)
    total = sum(rows.values())
    rate, per_row = MEASURED[backend]
    return Estimate(
        rows=rows,
        megabytes=total * per_row / 1e6,
        seconds=total / rate if rate else 0.0,
        basis=f"writing only, scaled from {rate:,.0f} rows/s and {per_row:,.0f} bytes a row "
        f"measured on {backend} with {MEASURED_ON}",
    )
