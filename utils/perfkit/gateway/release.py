"""The environment names an installed gateway release reads, found in its source with `ast`.

mcpgateway is never imported: importing its config can need the gateway's whole environment.
The gateway reads its settings with pydantic-settings (`class Settings(BaseSettings)` in
mcpgateway/config.py, case_sensitive=False, extra="ignore"), so a name it does not know is
ignored without a word - which is why the kit checks every name first. A release reads:
- each field of `class Settings`, by its name upper-cased (with model_config's env_prefix, if
  any), or by its `validation_alias` / `alias` instead when it has one (a string,
  `AliasChoices(...)` or `AliasPath(NAME, ...)`); names match case-insensitively;
- every name read directly, anywhere in the mcpgateway package: `os.getenv("X")`,
  `os.environ.get("X")`, `os.environ["X"]`, `os.environ.setdefault("X", ...)`, `"X" in
  os.environ` (also as `getenv` / `environ` imported from os); these match exactly;
- the names the server `mcpgateway` runs on reads the same way: uvicorn (installed beside it)
  reads WEB_CONCURRENCY, its worker count when `--workers` is not given.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from perfkit.exitcodes import ExitCode, KitError

PACKAGE = "mcpgateway"
# the server the `mcpgateway` command starts (a sibling package in the same site-packages)
LAUNCHER = "uvicorn"
CONFIG = "config.py"
SETTINGS_CLASS = "Settings"
ENVIRON_METHODS = frozenset({"get", "setdefault", "pop"})
ALIAS_KEYWORDS = ("validation_alias", "alias")


@dataclass(frozen=True)
class ReleaseSettings:
    """Where each name comes from ("mcpgateway/config.py:1971"), by kind."""

    # upper-cased environment name -> where
    fields: dict[str, str] = field(default_factory=dict)
    # exact name -> where
    direct: dict[str, str] = field(default_factory=dict)

    def knows(self, name: str) -> bool:
        return name.upper() in self.fields or name in self.direct

    def names(self) -> list[str]:
        return sorted(set(self.fields) | set(self.direct))


def package_dir(venv: Path) -> Path:
    """The mcpgateway package installed in VENV (exit 3 when there is none)."""
    found = sorted(venv.glob(f"lib/python*/site-packages/{PACKAGE}/{CONFIG}"))
    if not found:
        raise KitError(
            f"no {PACKAGE}/{CONFIG} in {venv}: the gateway is not installed there",
            ExitCode.ENV_NOT_READY,
        )
    return found[-1].parent


def read_release(package: Path) -> ReleaseSettings:
    """The names the release in `package` (an mcpgateway folder) reads."""
    config = package / CONFIG
    fields = settings_fields(parse(config), where_prefix(config, package))
    direct: dict[str, str] = {}
    for folder in (package, package.parent / LAUNCHER):
        for path in sorted(folder.rglob("*.py")):
            tree = parse(path)
            if tree is None:
                continue
            prefix = where_prefix(path, folder)
            for name, line in direct_reads(tree):
                direct.setdefault(name, f"{prefix}:{line}")
    return ReleaseSettings(fields, direct)


def where_prefix(path: Path, package: Path) -> str:
    return f"{package.name}/{path.relative_to(package).as_posix()}"


def parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None


# --- class Settings -----------------------------------------------------------------------


def settings_fields(tree: ast.Module | None, where: str) -> dict[str, str]:
    settings = next(
        (
            node
            for node in (tree.body if tree else [])
            if isinstance(node, ast.ClassDef) and node.name == SETTINGS_CLASS
        ),
        None,
    )
    if settings is None:
        raise KitError(
            f"{where} has no class {SETTINGS_CLASS}: this kit cannot tell which settings "
            "the release reads",
            ExitCode.ENV_NOT_READY,
        )
    prefix = env_prefix(settings)
    found: dict[str, str] = {}
    for node in settings.body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        name = node.target.id
        if name == "model_config" or is_class_var(node.annotation):
            continue
        aliases = field_aliases(node.value)
        for env_name in aliases or [prefix + name]:
            found.setdefault(env_name.upper(), f"{where}:{node.lineno}")
    return found


def env_prefix(settings: ast.ClassDef) -> str:
    """model_config = SettingsConfigDict(env_prefix="...") (or a dict literal); "" if none."""
    for node in settings.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        if not (isinstance(target, ast.Name) and target.id == "model_config"):
            continue
        pairs: list[tuple[str | None, ast.expr]] = []
        if isinstance(value, ast.Call):
            pairs = [(k.arg, k.value) for k in value.keywords]
        elif isinstance(value, ast.Dict):
            pairs = [
                (text_of(k), v) for k, v in zip(value.keys, value.values, strict=True)
            ]
        for key, item in pairs:
            if key == "env_prefix" and (prefix := text_of(item)) is not None:
                return prefix
    return ""


def is_class_var(annotation: ast.expr) -> bool:
    base = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    return call_name(base) == "ClassVar"


def field_aliases(value: ast.expr | None) -> list[str]:
    """The environment names a `Field(...)` reads instead of the field's own name."""
    if not (isinstance(value, ast.Call) and call_name(value.func) == "Field"):
        return []
    for keyword in value.keywords:
        if keyword.arg in ALIAS_KEYWORDS:
            return alias_names(keyword.value)
    return []


def alias_names(node: ast.expr) -> list[str]:
    if (text := text_of(node)) is not None:
        return [text]
    if isinstance(node, ast.Call):
        if call_name(node.func) == "AliasChoices":
            return [name for arg in node.args for name in alias_names(arg)]
        if call_name(node.func) == "AliasPath" and node.args:
            return alias_names(node.args[0])
    return []


# --- direct reads -------------------------------------------------------------------------


def direct_reads(tree: ast.Module) -> Iterator[tuple[str, int]]:
    """(name, line) of every environment variable read with a constant name."""
    for node in ast.walk(tree):
        name = read_name(node)
        if name is not None:
            yield name, getattr(node, "lineno", 0)


def read_name(node: ast.AST) -> str | None:
    """The constant name NODE reads from the environment, if it is such a read."""
    if isinstance(node, ast.Call) and node.args:
        func = node.func
        environ_method = (
            isinstance(func, ast.Attribute)
            and func.attr in ENVIRON_METHODS
            and is_environ(func.value)
        )
        if call_name(func) == "getenv" or environ_method:
            return text_of(node.args[0])
    if isinstance(node, ast.Subscript) and is_environ(node.value):
        return text_of(node.slice)
    if (
        isinstance(node, ast.Compare)
        and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
        and any(is_environ(c) for c in node.comparators)
    ):
        return text_of(node.left)
    return None


def is_environ(node: ast.expr) -> bool:
    return call_name(node) == "environ"


def call_name(node: ast.expr) -> str | None:
    """`x` of `x` or `module.x`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def text_of(node: ast.expr | None) -> str | None:
    """The string of a string constant, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None
