"""gateway.json (perfkit.gateway.record): written and read back, refused when malformed, and
shown by the reports as the run's build and settings overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from compare_data import full_summary
from perfkit.exitcodes import KitError
from perfkit.gateway.build import identify
from perfkit.gateway.record import load_record, write_record
from perfkit.report.compare_page import run_meta
from perfkit.report.run_data import configuration
from perfkit.results.summary import Summary

BUILD = {
    "kind": "source",
    "key": "build-0123456789abcdef",
    "label": "v1.0.7-3-gabc1234-dirty",
    "version": "1.0.7",
    "path": "/src/gateway",
}


def test_a_record_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "stack" / "gateway.json"
    write_record(path, identify("1.0.6"), {"LOG_LEVEL": "DEBUG"})
    record = load_record(path)
    assert record.build == {
        "kind": "release",
        "key": "1.0.6",
        "label": "1.0.6",
        "version": "1.0.6",
        "path": None,
    }
    assert record.env_overrides == {"LOG_LEVEL": "DEBUG"}


@pytest.mark.parametrize(
    "document",
    [
        {"build": {"kind": "wheel", "key": "k"}, "env_overrides": {}},
        {"build": BUILD, "env_overrides": {"LOG_LEVEL": 3}},
        {"build": BUILD},
    ],
)
def test_a_malformed_record_is_exit_2(tmp_path: Path, document: dict) -> None:  # type: ignore[type-arg]
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps({"schema_version": 1} | document))
    with pytest.raises(KitError) as raised:
        load_record(path)
    assert raised.value.code == 2
    assert f"{path}: gateway.json has malformed content" in str(raised.value)


def summary(target: dict) -> Summary:  # type: ignore[type-arg]
    return Summary.from_dict(full_summary(target=target))


def test_the_reports_show_the_build_and_the_overrides() -> None:
    target = {
        "url": "http://127.0.0.1:4482",
        "gateway_version": "1.0.7",
        "build": BUILD,
        "env_overrides": {"LOG_LEVEL": "DEBUG", "JWT_SECRET_KEY": "***"},
    }
    shown = configuration(summary(target))
    assert shown["gateway build"] == (
        "source v1.0.7-3-gabc1234-dirty (build-0123456789abcdef)"
    )
    assert shown["gateway settings overrides"] == "LOG_LEVEL=DEBUG, JWT_SECRET_KEY=***"
    meta = run_meta(summary(target))
    assert meta["gateway build"] == shown["gateway build"]
    release = configuration(summary(target | {"build": BUILD | {"kind": "release"}}))
    assert release["gateway build"] == "release v1.0.7-3-gabc1234-dirty"


def test_a_run_without_a_record_shows_no_build_line() -> None:
    shown = configuration(summary({"url": "http://127.0.0.1:4444"}))
    assert "gateway build" not in shown
    assert "gateway settings overrides" not in shown
