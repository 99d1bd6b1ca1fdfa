"""The rendered report.html, gold-file style, plus what must hold for any report: no external
URL, every chart present, the resource note, the CLI and report-compare.

The gold file is the report of tests/fixtures/runs/smoke_tools_regression with the volatile
parts normalised: generated-at time, the run folder's path, and each SVG chart reduced to its
text (so SVG ids and matplotlib's geometry, which moves between versions, are left out). After an intended change
to the report, regenerate it and review the diff:

    PERFKIT_REGEN_GOLD=1 .state/venv/bin/python -m pytest tests/unit/test_report_html.py
    git diff tests/fixtures/report/gold.html
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from compare_data import full_summary
from perfkit.report import compare_page as report_multi
from perfkit.report import page
from perfkit.report import run_page as report_html
from perfkit.report.run_data import build_report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REGRESSION = FIXTURES / "runs" / "smoke_tools_regression"
ALL = FIXTURES / "runs" / "smoke_all"
GOLD = FIXTURES / "report" / "gold.html"
URL_ATTRIBUTE = re.compile(
    r"""(?:src|href|action|data|poster)\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE
)
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")


def svg_texts(match: re.Match[str]) -> str:
    """A chart reduced to its words and numbers (titles, axis labels, ticks, legend): they come
    from the data; the geometry depends on matplotlib's version and is checked elsewhere."""
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", match.group(0))
    return "<svg>" + " | ".join(t.strip() for t in texts) + "</svg>"


def normalise(html: str, run_dir: Path) -> str:
    html = html.replace(str(run_dir), "RUN_DIR")
    html = re.sub(r'(<span class="generated-at">)[^<]*', r"\1GENERATED_AT", html)
    return re.sub(r"<svg\b.*?</svg>", svg_texts, html, flags=re.DOTALL)


def external_urls(html: str) -> list[str]:
    urls = URL_ATTRIBUTE.findall(html) + CSS_URL.findall(html)
    return [u for u in urls if re.match(r"(?i)^(https?:)?//|^(ftp|ws|wss):", u)]


def test_report_matches_gold_file() -> None:
    html = normalise(report_html.render(build_report(REGRESSION), "T"), REGRESSION)
    if os.environ.get("PERFKIT_REGEN_GOLD"):
        GOLD.write_text(html, encoding="utf-8")
    assert html == GOLD.read_text(encoding="utf-8"), (
        "report.html changed; if intended, regenerate (see this module's docstring)"
    )


@pytest.mark.parametrize("run", [REGRESSION, ALL], ids=["regression", "all"])
def test_no_external_url_and_every_chart(run: Path) -> None:
    report = build_report(run)
    html = report_html.render(report)
    assert external_urls(html) == []
    assert "<script" not in html.lower() and "@import" not in html
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html
    tests = len(report.details)
    for kind in ("latency", "throughput"):
        figures = re.findall(
            rf'<figure class="chart" data-chart="{kind}">(.*?)</figure>',
            html,
            re.DOTALL,
        )
        assert len(figures) == tests, kind
        assert all("<svg" in f and "<path" in f for f in figures)
    # clip-path ids are unique across the page (two charts must not share one)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_url_check_catches_external_references() -> None:
    bad = '<img src="https://cdn.example/x.png"><a href="//x.org">x</a><i style="background:url(http://x)">'
    assert external_urls(bad) == ["https://cdn.example/x.png", "//x.org", "http://x"]
    assert external_urls('<a href="summary.json">s</a><a href="#verdict">v</a>') == []


def test_banner_and_tables_in_html() -> None:
    html = report_html.render(build_report(REGRESSION))
    assert 'class="banner banner-regression"' in html
    # 8 attention rows, 2 verdicts in the scenario table, 2 in the per-test headings
    assert html.count('<span class="tag bad">regression</span>') == 12
    assert "No resource samples were recorded for this run" in html
    assert '<a href="summary.json">summary.json</a>' in html


def test_resource_charts_when_samples_exist(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(ALL, run)
    samples = [
        {"schema_version": 1, "t": 1000.0 + i, "host": {"cpu_percent": 60.0},
         "processes": {"gateway": {"cpu_percent": 40.0 + i, "rss_bytes": 2**27},
                       "generator": {"cpu_percent": 10.0}}}
        for i in range(5)
    ]  # fmt: skip
    (run / "resources.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    html = report_html.render(build_report(run))
    assert "No resource samples" not in html
    assert html.count('data-chart="resources"') == 2  # CPU and memory
    assert external_urls(html) == []


def test_cli_writes_report_and_never_opens_when_not_interactive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    shutil.copytree(REGRESSION, run)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(page.webbrowser, "open", lambda url: pytest.fail("opened"))
    assert report_html.cli([str(run), "--open"]) == 0
    assert (run / "report.html").is_file()
    out = capsys.readouterr()
    assert out.out.strip() == str(run / "report.html")
    assert "not opening a browser" in out.err


def test_interactive_needs_tty_display_and_no_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(page.sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    assert page.interactive()
    monkeypatch.delenv("DISPLAY")
    assert not page.interactive()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.setenv("CI", "1")
    assert not page.interactive()


def test_report_compare_changes_relative_to_first_run() -> None:
    runs, lines = report_multi.build([ALL, REGRESSION])
    assert [r.label for r in runs] == ["smoke_all", "smoke_tools_regression"]
    summaries = [
        json.loads((d / "summary.json").read_text()) for d in (ALL, REGRESSION)
    ]
    first, second = ({t["id"]: t["aggregate"] for t in s["tests"]} for s in summaries)
    line = next(x for x in lines if x.id == "tools/rpc_tools_call_convert_time")
    base, cand = first[line.id]["p50_ms"], second[line.id]["p50_ms"]
    assert line.cells[1]["p50"].change_pct == round(100 * (base - cand) / base, 1)
    base, cand = first[line.id]["rps"], second[line.id]["rps"]
    assert line.cells[1]["rps"].change_pct == round(100 * (cand - base) / base, 1)
    assert line.cells[0]["p50"].change_pct is None
    only_first = next(x for x in lines if x.id == "gateway-core/health")
    assert only_first.cells[1]["p50"].value is None
    html = report_multi.render([ALL, REGRESSION])
    assert external_urls(html) == [] and html.count('data-chart="compare"') == 2


def test_report_compare_picks_the_newest_complete_run_of_each_profile(
    tmp_path: Path,
) -> None:
    from perfkit.exitcodes import KitError
    from perfkit.report.compare_page import newest_per_profile

    def run(name: str, profile: str, status: str = "complete") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "summary.json").write_text(
            json.dumps(full_summary(profile=profile, status=status))
        )
        return folder

    run("light_20260101-000000", "light")
    newest_light = run("light_20260102-000000", "light")
    run("light_20260103-000000", "light", status="partial")
    smoke = run("smoke_20260101-000000", "smoke")
    run("adhoc_20260104-000000", "smoke")
    assert newest_per_profile(tmp_path) == [smoke, newest_light]
    (tmp_path / "light_20260102-000000" / "summary.json").unlink()
    (tmp_path / "light_20260101-000000" / "summary.json").unlink()
    with pytest.raises(KitError, match="at least two profiles"):
        newest_per_profile(tmp_path)


def test_report_generator_script_is_the_report_command(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "utils" / "report_generator.py"
    output = tmp_path / "report.html"
    done = subprocess.run(
        [sys.executable, str(script), str(REGRESSION), "--output", str(output)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "tools/rpc_tools_call_get_system_time" in output.read_text()
    missing = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2 and "nope" in missing.stderr
