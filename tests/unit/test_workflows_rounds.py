"""A multi-user run cut into the kit's rounds (perfkit.workflows.rounds): which test a sample
belongs to, its window, the status written, and that the kit's own round statistics read
the files back."""

from __future__ import annotations

from pathlib import Path

import pytest
from perfkit.exitcodes import KitError
from perfkit.results.csvstats import round_stats
from perfkit.workflows import rounds

A = "a@perfkit.example.com"


def sample(at: float, step: str, ms: float, ok: bool = True, **more: object) -> dict:
    return {"at": at, "step": step, "user": A, "ms": ms, "ok": ok, **more}


def test_the_tests_are_each_workflow_and_its_timed_steps() -> None:
    assert rounds.tests("token") == [
        "token",
        "token.create",
        "token.use",
        "token.revoke",
        "token.use_revoked",
    ]
    mixed = rounds.tests("mixed")
    assert [t for t in mixed if "." not in t] == list(rounds.MIXED)
    assert "collaborate.member_refused" in mixed and "share.visible_after" in mixed
    with pytest.raises(KitError, match="workload 'chat'"):
        rounds.tests("chat")


def test_the_workload_rest_is_its_workflows_each_step_an_operation() -> None:
    rest = rounds.tests("rest")
    assert [t for t in rest if "." not in t] == list(rounds.REST)
    assert len(rest) == len(set(rest))
    assert {
        "tools.create",
        "teams.approve",
        "users.logout",
        "protocol.cancel_status",
    } <= set(rest)
    # a rest workflow is a part of the workload, not a workload of its own
    with pytest.raises(KitError, match="mixed or rest"):
        rounds.tests("teams")


def test_samples_fall_into_their_windows_with_the_status_they_earned(
    tmp_path: Path,
) -> None:
    kept = {
        "started": 1000.0,
        "elapsed_s": 12.0,
        "cpu_s": 6.0,
        "samples": [
            sample(
                1.5, "token:use", 100.0, status=200
            ),  # began in the warm-up: left out
            sample(2.5, "token:use", 100.0, status=200),  # round 1, offset 0.4
            sample(3.0, "token:use_revoked", 50.0, status=401),  # expected refusal: 200
            sample(
                4.0, "token:create", 80.0, False, status=200
            ),  # a 2xx that failed: 0
            sample(6.5, "token:revoke", 40.0, False, status=500),  # round 2, its status
            sample(6.6, "token", 600.0, kind="workflow"),  # the whole workflow
            sample(6.7, "token:outsider_blind", 0.0, False, kind="derived"),  # a check
            sample(6.8, "collaborate:update_lost", 0.0, kind="tally"),  # a count
            sample(12.5, "token:use", 10.0, status=200),  # after the last window
        ],
    }
    counts = rounds.write(kept, tmp_path, "token", rounds=2, round_s=4.0, warmup=2.0)
    assert counts == {
        "token": [0, 1],
        "token.create": [1, 0],
        "token.use": [1, 0],
        "token.revoke": [0, 1],
        "token.use_revoked": [1, 0],
    }
    use = (tmp_path / "token.use" / "round-1.csv").read_text().splitlines()
    assert use[1] == "0.1000,0,0,0,0,0,200,0.4000"
    assert (tmp_path / "token.use_revoked" / "round-1.csv").read_text().splitlines()[
        1
    ].split(",")[6] == "200"
    stats = round_stats(
        tmp_path / "token.create" / "round-1.csv",
        tmp_path / "token.create" / "round-1.time",
        None,
    )
    assert (stats.requests, stats.ok, stats.errors.non_2xx) == (1, 0, 1)
    assert stats.status_codes == {"0": 1}
    revoke = round_stats(
        tmp_path / "token.revoke" / "round-2.csv",
        tmp_path / "token.revoke" / "round-2.time",
        None,
    )
    assert revoke.status_codes == {"500": 1}
    assert (
        revoke.wall_s == 4.0 and revoke.generator.cpu_s == 2.0
    )  # 6 s of CPU over 12 s
    assert revoke.started_at is not None and revoke.complete
    empty = round_stats(
        tmp_path / "token" / "round-1.csv", tmp_path / "token" / "round-1.time", None
    )
    assert (empty.requests, empty.rps) == (0, 0.0)


def test_the_command_refuses_what_is_no_run(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text('{"samples": []}')
    code = rounds.cli(
        [
            "write",
            "--samples",
            str(tmp_path / "s.json"),
            "--raw",
            str(tmp_path / "raw"),
            "--rounds",
            "2",
            "--round-seconds",
            "5",
        ]
    )
    assert code == 4
    assert not (tmp_path / "raw").exists()
