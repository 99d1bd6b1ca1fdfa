"""The reduced `make calibrate`: the kit's own detection check, through the user's path.

utils/calibrate.sh starts the calibrated server, runs ./run-configurable.sh against it twice per
trial and `perfkit compare` on the pair. Identical pairs must never be called a regression; a
+30% slowdown must always be. No gateway needed.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

from conftest import kit_env, run

# not the default 18080, so a developer's `make calibrate` is not disturbed
PORT = 18090


def server_answers() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=2):
            return True
    except OSError:
        return False


def test_reduced_calibration(tmp_path: Path) -> None:
    output = tmp_path / "calibration.json"
    args = ["utils/calibrate.sh", "--trials", "2", "--kinds", "aa,30", "--rounds", "5"]
    args += ["--requests", "200", "--concurrency", "10", "--port", str(PORT)]
    result = run([*args, "--output", str(output)], kit_env(), timeout=300)
    assert result.code == 0, result.stderr
    kinds = {k["kind"]: k for k in json.loads(output.read_text())["kinds"]}
    assert kinds["aa"]["trials"] == 2 and kinds["aa"]["errors"] == 0
    assert kinds["aa"]["reported"] == 0, f"A/A false alarm:\n{result.stderr}"
    assert kinds["30"]["trials"] == 2 and kinds["30"]["errors"] == 0
    assert kinds["30"]["reported"] == 2, f"+30% slowdown missed:\n{result.stderr}"
    assert "0% false alarm" in result.stdout and "100% detected" in result.stdout
    assert not server_answers(), "calibrate.sh left its server running"


def test_port_in_use_is_refused_before_any_work(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", PORT))
        busy.listen()
        args = [
            "utils/calibrate.sh",
            "--trials",
            "1",
            "--kinds",
            "aa",
            "--port",
            str(PORT),
        ]
        result = run(
            [*args, "--output", str(tmp_path / "c.json")], kit_env(), timeout=60
        )
    assert result.code == 3
    assert f"127.0.0.1:{PORT}" in result.stderr
    assert not (tmp_path / "c.json").exists()
