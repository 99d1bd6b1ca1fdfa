"""README's `make calibrate TRIALS=1`, as written: the kit's own detection check, through the
user's path. utils/calibrate.sh starts the calibrated server, runs ./run-configurable.sh against
it twice per trial (one A/A pair and one pair each at +10, +20 and +30%) and `perfkit compare`
on the pair. Identical pairs must never be called a regression; a +30% slowdown must be. No
gateway needed.
"""

from __future__ import annotations

import json
import re
import socket
import urllib.request
from pathlib import Path

from conftest import kit_env, readme_command, run

# not make calibrate's 18080, so a developer's `make calibrate` is not disturbed
PORT = 18090


def server_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
            return True
    except OSError:
        return False


def test_readme_calibrate_command() -> None:
    command = readme_command("make calibrate")
    result = run(["bash", "-c", command], kit_env(), timeout=600)
    assert result.code == 0, result.stderr[-3000:]
    found = re.search(r"calibrate: wrote (\S+)", result.stderr)
    assert found, result.stderr[-2000:]
    output = Path(found.group(1))
    kinds = {k["kind"]: k for k in json.loads(output.read_text())["kinds"]}
    output.unlink()  # the kit's results/calibration/: keep no file of the test's there
    assert sorted(kinds) == ["10", "20", "30", "aa"]
    assert all((k["trials"], k["errors"]) == (1, 0) for k in kinds.values()), kinds
    assert kinds["aa"]["reported"] == 0, f"A/A false alarm:\n{result.stderr}"
    assert kinds["30"]["reported"] == 1, f"+30% slowdown missed:\n{result.stderr}"
    assert "0% false alarm" in result.stdout
    assert not server_answers(18080), "calibrate.sh left its server running"


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
