"""Gateway settings for one side of an A/B run, or for the local stack: parsed from files and
NAME=VALUE pairs, checked against what the release reads, masked for the record, written out.

A settings file holds one setting a line, `NAME=VALUE` (an `export ` before it is allowed);
blank lines and lines starting with `#` are skipped. NAME is letters, digits and `_`, not
starting with a digit. VALUE is the rest of the line, trimmed; an unquoted value ends before
` #` (a comment); a value in matching single or double quotes is taken literally between them
(no escapes, nothing after the closing quote). Anything else is a malformed line (exit 2,
naming FILE:LINE). Later settings of a name replace earlier ones: files in order, then pairs.

Every name must be one the release reads (perfkit.gateway.release), else exit 2 naming it,
where it came from and the release: pydantic-settings would ignore it without a word.
Values of names containing SECRET, PASSWORD, TOKEN or KEY are masked in every record.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from perfkit.atomic import write_text_atomic
from perfkit.exitcodes import ExitCode, KitError
from perfkit.gateway.release import ReleaseSettings

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LINE = re.compile(r"(?:export\s+)?([^=\s]+)\s*=\s*(.*)")
MASKED_WORDS = ("SECRET", "PASSWORD", "TOKEN", "KEY")
MASK = "***"
FILE_MODE = 0o600
FORMAT = "NAME=VALUE (comments start with #)"


@dataclass(frozen=True)
class Setting:
    name: str
    value: str
    origin: str  # "b.env:7" or "--candidate-set"


def usage(message: str) -> KitError:
    return KitError(message, ExitCode.USAGE)


def parse_line(text: str, origin: str) -> Setting | None:
    """The setting on one line of a settings file; None for a blank or comment line."""
    line = text.strip()
    if not line or line.startswith("#"):
        return None
    match = LINE.fullmatch(line)
    if match is None:
        raise usage(f"{origin}: not a {FORMAT} line: {line!r}")
    name, raw = match.groups()
    check_name(name, origin)
    return Setting(name, parse_value(raw, origin), origin)


def check_name(name: str, origin: str) -> None:
    if not NAME.fullmatch(name):
        raise usage(
            f"{origin}: {name!r} is not a setting name (letters, digits and _, not "
            "starting with a digit)"
        )


def parse_value(raw: str, origin: str) -> str:
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        if len(raw) < 2 or not raw.endswith(quote):
            raise usage(
                f"{origin}: the value {raw!r} opens a {quote} quote it does not close at the "
                "end of the line (nothing may follow the closing quote)"
            )
        return raw[1:-1]
    return re.split(r"\s#", raw, maxsplit=1)[0].rstrip()


def parse_pair(text: str, flag: str) -> Setting:
    """A NAME=VALUE from the command line (taken literally after the first `=`)."""
    name, sep, value = text.partition("=")
    if not sep:
        raise usage(
            f"{flag} {text!r}: expected NAME=VALUE, e.g. {flag} LOG_LEVEL=DEBUG"
        )
    check_name(name.strip(), flag)
    return Setting(name.strip(), value, f"{flag} {name.strip()}")


def read_file(path: Path) -> list[Setting]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise usage(f"settings file {path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise usage(f"settings file {path}: not UTF-8 text ({exc.reason})") from None
    found = (parse_line(line, f"{path}:{n}") for n, line in enumerate(lines, 1))
    return [setting for setting in found if setting is not None]


def gather(files: Iterable[Path], pairs: Iterable[str], flag: str) -> list[Setting]:
    """Every setting, in order: each file's, then the pairs'."""
    settings = [setting for path in files for setting in read_file(path)]
    return settings + [parse_pair(pair, flag) for pair in pairs]


def effective(settings: Iterable[Setting]) -> list[Setting]:
    """One setting per name, the last one given, in the order names first appeared."""
    last: dict[str, Setting] = {}
    for setting in settings:
        last[setting.name] = setting
    return list(last.values())


def check_known(
    settings: Iterable[Setting], release: ReleaseSettings, label: str
) -> None:
    """Exit 2 naming every setting the release does not read, with where it came from."""
    unknown = [s for s in settings if not release.knows(s.name)]
    if not unknown:
        return
    lines = [
        f"{s.origin}: unknown gateway setting {s.name!r}{hint(s.name, release)}"
        for s in unknown
    ]
    raise usage(
        "\n".join(lines)
        + f"\nrelease {label} does not read {'it' if len(unknown) == 1 else 'them'} (not a "
        "field of Settings in mcpgateway/config.py, nor read with os.getenv/os.environ): "
        "the gateway would ignore it without a word; fix the name or drop the line"
    )


def hint(name: str, release: ReleaseSettings) -> str:
    close = difflib.get_close_matches(name.upper(), release.names(), n=3, cutoff=0.75)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def is_secret(name: str) -> bool:
    upper = name.upper()
    return any(word in upper for word in MASKED_WORDS)


def masked(settings: Iterable[Setting]) -> dict[str, str]:
    """NAME -> VALUE for the record, secret-looking values replaced by ***."""
    return {s.name: MASK if is_secret(s.name) else s.value for s in effective(settings)}


def settings_text(settings: Iterable[Setting]) -> str:
    """The settings file format again (values double-quoted: read back exactly)."""
    return "".join(f'{s.name}="{s.value}"\n' for s in effective(settings))


def shell_text(settings: Iterable[Setting]) -> str:
    """NAME='VALUE' lines, quoted for bash to source (appended to the stack's gateway.env)."""
    return "".join(f"{s.name}={shlex.quote(s.value)}\n" for s in effective(settings))


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read: it may hold secrets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, text, mode=FILE_MODE)
