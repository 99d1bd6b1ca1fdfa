"""perfkit overhead on a recorded real run of utils/overhead.sh --parts (2 blocks of 50 requests
at concurrency 5 on a real gateway's /health): each variant's req/s read as the kit reads it,
the ratios to plain hey, and the runs that cannot be judged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import HEY_FIXTURES
from perfkit import overhead
from perfkit.exitcodes import KitError
from perfkit.results.csvstats import round_stats

RECORDED = HEY_FIXTURES.parent / "overhead"
VARIANTS = "plain,csv,time,sampler,kit"


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    return Path(shutil.copytree(RECORDED, tmp_path / "work"))


def judge(work: Path) -> dict:  # type: ignore[type-arg]
    argv = [str(work), "--variants", VARIANTS, "--blocks", "2", "--setting", "requests=50",
            "--setting", "concurrency=5", "--setting", "url=http://127.0.0.1:4486/health"]  # fmt: skip
    assert overhead.cli(argv) == 0
    return dict(json.loads((work / overhead.OVERHEAD_FILE).read_text()))


def test_each_variant_is_read_as_the_kit_reads_it_and_set_against_plain_hey(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = judge(work)
    variants = data["variants"]
    assert list(variants) == VARIANTS.split(",")
    # plain: hey's own Requests/sec; csv: the CSV's 2xx answers over its span, as a round's
    assert variants["plain"]["rps"][0] == 46.0246
    csv = round_stats(work / "1-csv.csv", work / "1-csv.time", 50)
    assert variants["csv"]["rps"][0] == csv.rps
    kit = json.loads(
        next((work / "1-kit.runs").glob("adhoc_*/summary.json")).read_text()
    )
    assert variants["kit"]["rps"][0] == kit["tests"][0]["aggregate"]["rps"]
    assert variants["plain"]["ratio"] == 1.0
    for name, found in variants.items():
        block = [
            v / p for v, p in zip(found["rps"], variants["plain"]["rps"], strict=True)
        ]
        assert min(block) - 1e-3 <= found["ratio"] <= max(block) + 1e-3, name
        low, high = found["ratio_ci"]
        assert low <= found["ratio"] <= high
    table = capsys.readouterr().out
    assert "at concurrency 5, 50 requests a run, 2 interleaved blocks" in table
    assert "The kit measures" in table and "than plain hey on the same request" in table


def test_a_plain_run_with_errors_cannot_be_judged(work: Path) -> None:
    text = (
        (work / "2-plain.txt")
        .read_text()
        .replace("[200]\t50 responses", "[200]\t45 responses\n  [503]\t5 responses")
    )
    (work / "2-plain.txt").write_text(text)
    with pytest.raises(KitError) as error:
        judge(work)
    assert error.value.code == 4 and "2-plain.txt: not every answer was 2xx" in str(
        error.value
    )


def test_a_kit_run_that_left_nothing_cannot_be_judged(work: Path) -> None:
    shutil.rmtree(work / "1-kit.runs")
    (work / "1-kit.runs").mkdir()
    with pytest.raises(KitError, match="left no run folder") as error:
        judge(work)
    assert error.value.code == 4


def test_variants_must_name_plain_and_known_parts(work: Path) -> None:
    for variants in ("csv,kit", "plain,gnu"):
        with pytest.raises(KitError) as error:
            overhead.cli([str(work), "--variants", variants, "--blocks", "2"])
        assert error.value.code == 2
