"""perfkit.gateway.build: a release, a wheel, an sdist or a source folder, each named by what
it is and keyed by its content - a changed build gets a new venv, an unchanged one keeps its
own, and what building leaves behind in a checkout changes nothing."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from perfkit.cli import main
from perfkit.exitcodes import KitError
from perfkit.gateway.build import Build, identify, tree_hash

PYPROJECT = '[project]\nname = "mcp-contextforge-gateway"\nversion = "1.0.7-20260921"\n'
WHEEL = "mcp_contextforge_gateway-1.0.7.post20260921-py3-none-any.whl"


def source_tree(root: Path) -> Path:
    """A minimal gateway checkout: pyproject.toml naming the gateway, and its package."""
    (root / "mcpgateway").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "mcpgateway" / "__init__.py").write_text("__version__ = '1.0.7'\n")
    (root / "mcpgateway" / "config.py").write_text("class Settings: ...\n")
    return root


def error_of(spec: str) -> KitError:
    with pytest.raises(KitError) as raised:
        identify(spec)
    return raised.value


# --- releases and bad specs ------------------------------------------------------------------


def test_a_version_is_a_release_keyed_and_labelled_by_itself(tmp_path: Path) -> None:
    build = identify("1.0.7.post20260921")
    assert build == Build(
        "release",
        "1.0.7.post20260921",
        "1.0.7.post20260921",
        "1.0.7.post20260921",
        None,
        "1.0.7.post20260921",
    )
    assert build.requirement() == "mcp-contextforge-gateway==1.0.7.post20260921"
    assert (
        build.requirement("postgres")
        == "mcp-contextforge-gateway[postgres]==1.0.7.post20260921"
    )
    assert build.venv(tmp_path) == tmp_path / "gateways/1.0.7.post20260921/venv"


def test_a_text_that_is_neither_version_nor_path_is_a_usage_error() -> None:
    error = error_of("latest")
    assert error.code == 2
    assert "'latest' is neither a release version nor a file or folder" in str(error)


@pytest.mark.parametrize("spec", ["./gone", "dist/gone.whl", "gone.tar.gz"])
def test_a_path_that_does_not_exist_is_exit_3(
    spec: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    error = error_of(spec)
    assert error.code == 3
    assert f"{spec}: no such file or folder" in str(error)


def test_a_folder_that_is_not_a_gateway_checkout_is_exit_3(tmp_path: Path) -> None:
    assert "a folder without pyproject.toml" in str(error_of(str(tmp_path)))
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other-thing"\n')
    error = error_of(str(tmp_path))
    assert error.code == 3
    assert "not a source folder of mcp-contextforge-gateway" in str(error)
    assert "'other-thing'" in str(error)


def test_a_file_that_is_no_build_is_exit_3(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    error = error_of(str(notes))
    assert error.code == 3
    assert str(error).startswith(
        f"{notes}: not a wheel (.whl), an sdist (.tar.gz, .zip)"
    )
    other = tmp_path / "requests-2.0-py3-none-any.whl"
    other.write_bytes(b"PK")
    assert "a wheel of requests, not of mcp-contextforge-gateway" in str(
        error_of(str(other))
    )
    odd = tmp_path / "gateway.whl"
    odd.write_bytes(b"PK")
    assert "not a wheel's file name" in str(error_of(str(odd)))
    broken = tmp_path / "mcp_contextforge_gateway-1.0.tar.gz"
    broken.write_bytes(b"not a tar")
    error = error_of(str(broken))
    assert error.code == 3
    assert "not a readable sdist archive" in str(error)


# --- wheels and sdists -----------------------------------------------------------------------


def test_a_wheel_is_keyed_by_its_content_and_labelled_by_its_name(
    tmp_path: Path,
) -> None:
    wheel = tmp_path / "a" / WHEEL
    wheel.parent.mkdir()
    wheel.write_bytes(b"wheel bytes")
    build = identify(str(wheel))
    digest = hashlib.sha256(b"wheel bytes").hexdigest()
    assert (build.kind, build.key, build.label) == (
        "wheel",
        f"build-{digest[:16]}",
        WHEEL,
    )
    assert (build.version, build.path) == ("1.0.7.post20260921", str(wheel))
    assert build.requirement() == f"mcp-contextforge-gateway @ {wheel.as_uri()}"
    assert build.venv(tmp_path) == tmp_path / f"gateways/build-{digest[:16]}/venv"
    # the same bytes elsewhere share the venv; a rebuilt wheel gets its own
    copy = tmp_path / "b" / WHEEL
    copy.parent.mkdir()
    copy.write_bytes(b"wheel bytes")
    assert identify(str(copy)).key == build.key
    wheel.write_bytes(b"rebuilt wheel bytes")
    assert identify(str(wheel)).key != build.key


def tar_sdist(path: Path, members: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_an_sdist_is_recognised_by_its_metadata(tmp_path: Path) -> None:
    sdist = tar_sdist(
        tmp_path / "mcp_contextforge_gateway-1.0.7.post20260921.tar.gz",
        {
            "mcp_contextforge_gateway-1.0.7.post20260921/PKG-INFO": (
                "Metadata-Version: 2.4\nName: mcp-contextforge-gateway\n"
                "Version: 1.0.7.post20260921\n\nlong description\n"
            ),
            "mcp_contextforge_gateway-1.0.7.post20260921/tests/PKG-INFO": "Name: decoy\n",
        },
    )
    build = identify(str(sdist))
    assert (build.kind, build.label, build.version) == (
        "sdist",
        sdist.name,
        "1.0.7.post20260921",
    )
    assert build.key == "build-" + hashlib.sha256(sdist.read_bytes()).hexdigest()[:16]
    # a zip sdist with only a pyproject.toml
    archive = tmp_path / "gateway-src.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("gateway-src/pyproject.toml", PYPROJECT)
    assert identify(str(archive)).kind == "sdist"
    assert identify(str(archive)).version == "1.0.7.post20260921"
    # an sdist of something else
    other = tar_sdist(
        tmp_path / "other-1.0.tar.gz", {"other-1.0/PKG-INFO": "Name: other\n"}
    )
    error = error_of(str(other))
    assert error.code == 3
    assert "not an sdist of mcp-contextforge-gateway (it names other)" in str(error)


# --- source folders --------------------------------------------------------------------------


def test_a_source_folder_is_keyed_by_its_files(tmp_path: Path) -> None:
    tree = source_tree(tmp_path / "gateway")
    build = identify(str(tree))
    assert build.kind == "source"
    assert build.key == f"build-{tree_hash(tree)[:16]}"
    assert build.key == identify(str(tree)).key  # stable
    assert build.label == "gateway (1.0.7.post20260921)"  # not a git checkout
    assert build.version == "1.0.7.post20260921"
    assert build.requirement("postgres") == (
        f"mcp-contextforge-gateway[postgres] @ {tree.as_uri()}"
    )
    before = build.key
    (tree / "mcpgateway" / "config.py").write_text("class Settings: x = 1\n")
    assert identify(str(tree)).key != before, "an edited file is a new build"
    after_edit = identify(str(tree)).key
    (tree / "mcpgateway" / "config.py").rename(tree / "mcpgateway" / "settings.py")
    assert identify(str(tree)).key != after_edit, "a renamed file is a new build"


@pytest.mark.parametrize(
    "leftover",
    [
        ".git/objects/ab/cdef",
        "mcpgateway/__pycache__/config.cpython-311.pyc",
        "mcpgateway/stray.pyc",
        "build/lib/mcpgateway/config.py",
        "dist/mcp_contextforge_gateway-1.0.7-py3-none-any.whl",
        "mcp_contextforge_gateway.egg-info/PKG-INFO",
        "node_modules/tailwind/index.js",
        "mcpgateway/static/node_modules/x.js",
        ".venv/bin/python",
        ".pytest_cache/v/cache",
    ],
)
def test_what_building_leaves_behind_changes_nothing(
    tmp_path: Path, leftover: str
) -> None:
    tree = source_tree(tmp_path / "gateway")
    before = identify(str(tree)).key
    path = tree / leftover
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("left behind")
    assert identify(str(tree)).key == before


def test_only_the_top_level_build_and_dist_are_left_out(tmp_path: Path) -> None:
    tree = source_tree(tmp_path / "gateway")
    before = identify(str(tree)).key
    (tree / "mcpgateway" / "build").mkdir()
    (tree / "mcpgateway" / "build" / "hooks.py").write_text("x = 1\n")
    assert identify(str(tree)).key != before


def git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.com",
         "-c", "commit.gpgsign=false", *args],
        check=True, capture_output=True,
    )  # fmt: skip


def test_a_git_checkout_is_labelled_by_git_describe(tmp_path: Path) -> None:
    tree = source_tree(tmp_path / "gateway")
    git(tree, "init", "-q")
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "one")
    git(tree, "tag", "v1.0.7")
    assert identify(str(tree)).label == "v1.0.7"
    (tree / "mcpgateway" / "config.py").write_text("class Settings: y = 2\n")
    assert identify(str(tree)).label == "v1.0.7-dirty"
    git(tree, "commit", "-q", "-am", "two")
    label = identify(str(tree)).label
    assert label.startswith("v1.0.7-1-g") and not label.endswith("-dirty")


def test_a_folder_inside_another_git_work_tree_is_not_labelled_by_it(
    tmp_path: Path,
) -> None:
    git(tmp_path, "init", "-q")
    tree = source_tree(tmp_path / "unpacked" / "mcp_contextforge_gateway-1.0.7")
    assert (
        identify(str(tree)).label
        == "mcp_contextforge_gateway-1.0.7 (1.0.7.post20260921)"
    )


# --- the command -----------------------------------------------------------------------------


def test_describe_prints_assignments_for_bash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = source_tree(tmp_path / "my gateway")
    assert main(["gateway", "describe", str(tree), "--state-dir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    shown = subprocess.run(
        ["bash", "-c", printed + '\nprintf "%s|%s|%s|%s" "$GW_KIND" "$GW_LABEL" "$GW_VENV" "$GW_REQUIREMENT"'],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    key = identify(str(tree)).key
    assert shown.split("|") == [
        "source",
        "my gateway (1.0.7.post20260921)",
        str(tmp_path / "gateways" / key / "venv"),
        f"mcp-contextforge-gateway @ {tree.as_uri()}",
    ]
    assert main(["gateway", "describe", "1.0.6", "--prefix", "X_"]) == 0
    assert "X_KIND=release" in capsys.readouterr().out.splitlines()


def test_describe_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["gateway", "describe", "not-a-version"]) == 2
    assert main(["gateway", "describe", str(tmp_path)]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("perfkit gateway: error: 'not-a-version' is neither")
    assert err[1].startswith(f"perfkit gateway: error: {tmp_path}: a folder without")
