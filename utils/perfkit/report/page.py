"""What every page of the kit shares: the jinja2 environment (templates/, autoescape, the
formatting filters), anchors, and delivery - the path printed, a browser opened only for a
person at a desktop. Pages: perfkit.report.run_page, compare_page, master_page and
perfkit.scale.html.
"""

from __future__ import annotations

import os
import re
import sys
import webbrowser
from pathlib import Path
from typing import Any

import jinja2

from perfkit.names import TEMPLATES_DIR

VERDICT_CLASS = {
    "regression": "bad",
    "failed": "bad",
    "improvement": "good",
    "unchanged": "neutral",
    "inconclusive": "warn",
    "new": "neutral",
}


def anchor(test_id: str) -> str:
    return "test-" + re.sub(r"[^A-Za-z0-9_-]+", "-", test_id).strip("-")


def fmt_number(value: Any, decimals: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.{decimals}f}"


def fmt_plain(value: Any) -> str:
    """A setting as a person would write it: 20, 0.1, true, a, b; '–' for unset."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(fmt_plain(v) for v in value)
    return str(value)


def fmt_rate(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.2f}%"


def fmt_signed(value: Any) -> str:
    return "–" if value is None else f"{float(value):+.1f}%"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    from perfkit.results.dbqueries import short

    env.filters.update(
        plain=fmt_plain, num=fmt_number, rate=fmt_rate, signed=fmt_signed, anchor=anchor,
        sql_short=short,
    )  # fmt: skip
    env.globals["verdict_class"] = lambda v: VERDICT_CLASS.get(str(v), "neutral")
    return env


def interactive() -> bool:
    """A person at a desktop: stdout is a terminal, not CI, and a display to open a browser."""
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return sys.stdout.isatty() and not os.environ.get("CI") and has_display


def deliver(
    path: Path, want_open: bool, prog: str = "perfkit report", announce: bool = True
) -> None:
    """Print the report's path (unless `announce` is off: the caller prints results on
    stdout); with --open, also open it in a browser when interactive."""
    if announce:
        print(path)
    if want_open and interactive():
        webbrowser.open(path.resolve().as_uri())
    elif want_open:
        print(
            f"{prog}: not opening a browser (not interactive: CI set, no display "
            "or output not a terminal)",
            file=sys.stderr,
        )
