#!/usr/bin/env python3
"""compare_results.py RUN_DIR (--baseline FILE | --against RUN_DIR | --no-baseline) [--force]
[--strict] [--quiet]: the same command as `perfkit compare` (see utils/perfkit/compare/cli.py).

Run it with the kit's venv: .state/venv/bin/python utils/compare_results.py results/latest ...
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from perfkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["compare", *sys.argv[1:]]))
