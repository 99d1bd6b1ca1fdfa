"""How cost grows with data (perfkit growth), on two recorded real runs in tests/fixtures/growth/:
`utils/growth.sh --datasets empty,tiny --profile smoke --tests 'rest_list_tools_limit_100,
rpc_tools_call_get_system_time,list_tools_admin_limit_100,tool_by_name'` - the local stack's
gateway 1.0.7 on SQLite, fresh with no dataset and with `tiny`, one round each."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from perfkit.cli import main
from perfkit.exitcodes import KitError
from perfkit.growth import analyse, growth_word, slope
from perfkit.results.summary import load_summary

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "growth"
RUNS = [FIXTURES / "empty", FIXTURES / "tiny"]


def copies(tmp_path: Path) -> list[Path]:
    out = []
    for run in RUNS:
        shutil.copytree(run, tmp_path / run.name)
        out.append(tmp_path / run.name)
    return out


def edit(run: Path, change: dict[str, object]) -> None:
    doc = json.loads((run / "summary.json").read_text())
    for dotted, value in change.items():
        *path, last = dotted.split(".")
        target = doc
        for key in path:
            target = target[int(key)] if key.isdigit() else target[key]
        target[last] = value
    (run / "summary.json").write_text(json.dumps(doc))


def test_a_power_law_is_fitted_exactly_and_named() -> None:
    for b in (0.0, 0.3, 1.0, 2.0):
        assert slope([(x, 5 * x**b) for x in (10, 100, 1000)]) == pytest.approx(b)
    assert slope([(10, 1.0), (10, 2.0)]) is None  # one size: nothing to fit
    assert [growth_word(b) for b in (None, 0.05, 0.3, 1.0, 1.5)] == [
        "not fitted", "flat", "sublinear", "about linear", "worse than linear",
    ]  # fmt: skip


def test_the_recorded_runs_rows_and_each_tests_growth() -> None:
    data = analyse([(run, load_summary(run)) for run in RUNS])
    assert [(r["dataset"], r["tools"]) for r in data["runs"]] == [
        ("empty", 3),
        ("tiny", 27),
    ]
    before = load_summary(RUNS[1]).database["before"]  # type: ignore[index]
    assert data["runs"][1]["rows"] == sum(before.values()) > data["runs"][0]["rows"]
    assert [t["id"] for t in data["tests"]] == [
        "tools/rest_list_tools_limit_100",
        "tools/rpc_tools_call_get_system_time",
        "database/list_tools_admin_limit_100",
        "database/tool_by_name",
    ]
    for t in data["tests"]:
        (r0, p0), (r1, p1) = [(p["rows"], p["p50_ms"]) for p in t["points"]]
        b = math.log(p1 / p0) / math.log(r1 / r0)
        assert t["slope"] == pytest.approx(b, abs=1e-3)
        assert t["growth"] == growth_word(b)
        assert t["slope_overall"] == t["slope"]  # two sizes: one line through both
        assert t["text"].startswith(
            f"{growth_word(b)} (p50 ~ rows^{b:.2f}): {p0:g} -> {p1:g} ms"
        )


def test_a_test_that_failed_at_one_size_is_left_out_of_the_fit(tmp_path: Path) -> None:
    empty, tiny = copies(tmp_path)
    edit(tiny, {"tests.3.status": "failed"})
    data = analyse([(run, load_summary(run)) for run in (empty, tiny)])
    by_name = data["tests"][3]
    assert by_name["growth"] == "not fitted" and len(by_name["points"]) == 1
    assert by_name["text"] == "too few sizes measured to fit; failed on tiny, left out"


def test_runs_on_different_databases_or_without_rows_are_refused(
    tmp_path: Path,
) -> None:
    empty, tiny = copies(tmp_path)
    edit(tiny, {"settings.db_backend": "postgresql"})
    with pytest.raises(KitError, match=r"differ in db_backend \(postgresql, sqlite\)"):
        analyse([(run, load_summary(run)) for run in (empty, tiny)])
    edit(tiny, {"settings.db_backend": "sqlite", "database": None})
    with pytest.raises(KitError, match="no database rows recorded") as raised:
        analyse([(run, load_summary(run)) for run in (empty, tiny)])
    assert raised.value.code == 2


def test_the_command_writes_the_json_and_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "growth"
    assert main(["growth", str(out), *map(str, RUNS)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Growth with data: empty (")
    assert "tools/rest_list_tools_limit_100" in text
    data = json.loads((out / "growth.json").read_text())
    assert data["schema_version"] == 1 and len(data["tests"]) == 4
    html = (out / "growth.html").read_text()
    assert html.count('data-chart="growth"') == 3  # p50, p95, req/s
    assert html.count("<tr data-growth=") == 4


def test_the_growth_is_the_largest_sizes_a_fixed_cost_hides_at_small_ones(
    tmp_path: Path,
) -> None:
    """40 ms + 0.004 ms a row: flat-looking from few rows, linear where the data is large
    (the shape the history datasets showed for GET /servers?include_metrics=true)."""
    empty, tiny = copies(tmp_path)
    third = tmp_path / "third"
    shutil.copytree(tiny, third)
    runs = [(run, load_summary(run)) for run in (empty, tiny, third)]
    for (_, summary), rows in zip(runs, [500, 16_000, 160_000], strict=True):
        summary.database = {"before": {"tools": 24, "tool_metrics": rows - 24}}
        summary.tests[0].aggregate = {"p50_ms": 40 + 0.004 * rows}
    [t, *_] = analyse(runs)["tests"]
    assert t["growth"] == "about linear" and 0.8 < t["slope"] < 1.0
    assert t["slope_overall"] < t["slope"]
    assert "; over every size 42 -> 680 ms (16.2x, rows^" in t["text"]
