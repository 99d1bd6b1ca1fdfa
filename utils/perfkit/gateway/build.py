"""A gateway build, named by what it is: a release on PyPI (`1.0.7.post20260921`), a wheel or an
sdist file, or a source checkout (a folder whose pyproject.toml names mcp-contextforge-gateway).

Each build gets a venv of its own, `.state/gateways/<key>/venv`. A release's key is its version;
a file's or a folder's is `build-` and the first 16 hex digits of the SHA-256 of its content, so
a rebuilt wheel or an edited checkout is installed anew and an unchanged one is reused. A
folder's hash covers its files' paths and contents, except what building and tooling leave
behind: EXCLUDED_DIRS at any depth, TOP_LEVEL_EXCLUDED (build/, dist/) at its top, `*.egg-info`
folders and compiled `*.pyc` files.

The label says what ran: the version; the file's name; `git describe --always --dirty --tags`
of a checkout at the top of a git work tree, else the folder's name and declared version.
Spec errors: a text that is neither a version nor a path is exit 2; a path that is missing or
not a build of the gateway is exit 3.
"""

from __future__ import annotations

import email.parser
import hashlib
import os
import subprocess
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from perfkit.exitcodes import ExitCode, KitError

DISTRIBUTION = "mcp-contextforge-gateway"
HASH_DIGITS = 16
EXCLUDED_DIRS = frozenset(
    {".git", "__pycache__", "node_modules", ".venv", ".tox", ".nox"}
    | {".mypy_cache", ".pytest_cache", ".ruff_cache"}
)
TOP_LEVEL_EXCLUDED = frozenset({"build", "dist"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
SDIST_SUFFIXES = (".tar.gz", ".zip")
GIT_TIMEOUT_S = 10
FIX = f"name a release (e.g. 1.0.7.post20260921), a {DISTRIBUTION} wheel or sdist, or its source folder"


@dataclass(frozen=True)
class Build:
    kind: str  # release, wheel, sdist or source
    key: str  # the venv's folder under .state/gateways/
    label: str  # what ran, for people
    spec: str  # as given
    path: str | None  # the file or folder, absolute; None for a release
    # the release, or the version the build declares (None: unknown)
    version: str | None

    def requirement(self, extra: str = "") -> str:
        """What pip installs: `NAME==VERSION`, or `NAME @ file:///...` for a file or folder."""
        name = f"{DISTRIBUTION}[{extra}]" if extra else DISTRIBUTION
        if self.path is None:
            return f"{name}=={self.version}"
        return f"{name} @ {Path(self.path).as_uri()}"

    def venv(self, state_dir: Path) -> Path:
        return state_dir / "gateways" / self.key / "venv"


def not_ready(message: str) -> KitError:
    return KitError(message, ExitCode.ENV_NOT_READY)


def identify(spec: str) -> Build:
    """The build SPEC names: a path when it exists or looks like one, else a release version."""
    text = spec.strip()
    path = Path(text).expanduser()
    if text and (path.exists() or looks_like_path(text)):
        return identify_path(path, text)
    if not is_version(text):
        raise KitError(
            f"{text!r} is neither a release version nor a file or folder that exists; {FIX}",
            ExitCode.USAGE,
        )
    # the release keeps the name it was given: its venv folder is named by it, as before
    return Build("release", text, text, text, None, text)


def is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def looks_like_path(text: str) -> bool:
    return (
        "/" in text
        or text.startswith((".", "~"))
        or text.endswith((".whl", *SDIST_SUFFIXES))
    )


def identify_path(path: Path, spec: str) -> Build:
    if not path.exists():
        raise not_ready(f"{spec}: no such file or folder; {FIX}")
    path = path.resolve()
    if path.is_dir():
        return identify_source(path, spec)
    if path.name.endswith(".whl"):
        return identify_wheel(path, spec)
    if path.name.endswith(SDIST_SUFFIXES):
        return identify_sdist(path, spec)
    raise not_ready(
        f"{spec}: not a wheel (.whl), an sdist (.tar.gz, .zip) or a source folder; {FIX}"
    )


def identify_wheel(path: Path, spec: str) -> Build:
    try:
        name, version, _, _ = parse_wheel_filename(path.name)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise not_ready(f"{spec}: not a wheel's file name ({exc}); {FIX}") from None
    if name != canonicalize_name(DISTRIBUTION):
        raise not_ready(f"{spec}: a wheel of {name}, not of {DISTRIBUTION}; {FIX}")
    return Build("wheel", file_key(path), path.name, spec, str(path), str(version))


def identify_sdist(path: Path, spec: str) -> Build:
    name, version = sdist_metadata(path, spec)
    if name is None or canonicalize_name(name) != canonicalize_name(DISTRIBUTION):
        found = f"it names {name}" if name else "it holds no PKG-INFO or pyproject.toml"
        raise not_ready(f"{spec}: not an sdist of {DISTRIBUTION} ({found}); {FIX}")
    return Build("sdist", file_key(path), path.name, spec, str(path), version)


def identify_source(folder: Path, spec: str) -> Build:
    pyproject = folder / "pyproject.toml"
    project = read_project(pyproject, spec)
    name = project.get("name")
    if not isinstance(name, str) or canonicalize_name(name) != DISTRIBUTION:
        found = f"its pyproject.toml names {name!r}" if name else "no [project] name"
        raise not_ready(
            f"{spec}: not a source folder of {DISTRIBUTION} ({found}); {FIX}"
        )
    version = normal_version(project.get("version")) or pkg_info_version(folder)
    label = git_label(folder) or f"{folder.name} ({version or 'version unknown'})"
    return Build(
        "source",
        f"build-{tree_hash(folder)[:HASH_DIGITS]}",
        label,
        spec,
        str(folder),
        version,
    )


# --- metadata -----------------------------------------------------------------------------


def read_project(pyproject: Path, spec: str) -> dict[str, Any]:
    """The [project] table of a pyproject.toml (empty when it has none)."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise not_ready(f"{spec}: a folder without pyproject.toml; {FIX}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise not_ready(f"{spec}: {pyproject} cannot be read ({exc}); {FIX}") from None
    project = data.get("project")
    return project if isinstance(project, dict) else {}


def normal_version(text: Any) -> str | None:
    """A declared version in its normal form (1.0.7-20260921 -> 1.0.7.post20260921)."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return str(Version(text))
    except InvalidVersion:
        return text.strip()


def pkg_info_version(folder: Path) -> str | None:
    try:
        headers = email.parser.Parser().parsestr(
            (folder / "PKG-INFO").read_text(encoding="utf-8"), headersonly=True
        )
    except (OSError, UnicodeDecodeError):
        return None
    return normal_version(headers.get("Version"))


def sdist_metadata(path: Path, spec: str) -> tuple[str | None, str | None]:
    """(name, version) from the sdist's top-level PKG-INFO, else its pyproject.toml."""
    try:
        files = archive_top_files(path, ("PKG-INFO", "pyproject.toml"))
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile) as exc:
        raise not_ready(
            f"{spec}: not a readable sdist archive ({exc}); {FIX}"
        ) from None
    if "PKG-INFO" in files:
        headers = email.parser.Parser().parsestr(files["PKG-INFO"], headersonly=True)
        return headers.get("Name"), normal_version(headers.get("Version"))
    if "pyproject.toml" in files:
        try:
            project = tomllib.loads(files["pyproject.toml"]).get("project") or {}
        except tomllib.TOMLDecodeError:
            project = {}
        return project.get("name"), normal_version(project.get("version"))
    return None, None


def archive_top_files(path: Path, names: tuple[str, ...]) -> dict[str, str]:
    """The text of `TOP/NAME` members (one folder deep) of a .tar.gz or .zip sdist."""
    found: dict[str, str] = {}
    if path.name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                parts = member.split("/")
                if len(parts) == 2 and parts[1] in names:
                    found[parts[1]] = archive.read(member).decode("utf-8", "replace")
        return found
    with tarfile.open(path, "r:*") as archive:
        for info in archive:
            parts = info.name.split("/")
            if len(parts) == 2 and parts[1] in names and info.isfile():
                handle = archive.extractfile(info)
                if handle is not None:
                    found[parts[1]] = handle.read().decode("utf-8", "replace")
    return found


def git_label(folder: Path) -> str | None:
    """`git describe --always --dirty --tags` when the folder is the top of a git work tree."""
    top = git_output(folder, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != folder.resolve():
        return None
    return git_output(folder, "describe", "--always", "--dirty", "--tags")


def git_output(folder: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


# --- content hashes -----------------------------------------------------------------------


def file_key(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise not_ready(f"{path}: cannot be read ({exc.strerror})") from None
    return f"build-{digest[:HASH_DIGITS]}"


def tree_hash(folder: Path) -> str:
    """SHA-256 over the sorted relative paths and contents of the folder's files (symbolic
    links by their target), the excluded folders and files left out."""
    digest = hashlib.sha256()
    for relative, path in sorted(tree_files(folder)):
        digest.update(relative.encode("utf-8", "surrogateescape") + b"\0")
        try:
            if path.is_symlink():
                digest.update(b"link:" + os.fsencode(os.readlink(path)))
            else:
                with path.open("rb") as handle:
                    digest.update(hashlib.file_digest(handle, "sha256").digest())
        except OSError as exc:
            raise not_ready(f"{path}: cannot be read ({exc.strerror})") from None
        digest.update(b"\0")
    return digest.hexdigest()


def tree_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, path) of every file and symbolic link the hash covers."""
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        dirs[:] = [d for d in dirs if not excluded_dir(d, here == folder)]
        linked_dirs = [d for d in dirs if (here / d).is_symlink()]  # not walked into
        for name in [*files, *linked_dirs]:
            path = here / name
            if name.endswith(EXCLUDED_SUFFIXES):
                continue
            if path.is_symlink() or path.is_file():
                yield path.relative_to(folder).as_posix(), path


def excluded_dir(name: str, top_level: bool) -> bool:
    return (
        name in EXCLUDED_DIRS
        or name.endswith(".egg-info")
        or (top_level and name in TOP_LEVEL_EXCLUDED)
    )
