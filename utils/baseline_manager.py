#!/usr/bin/env python3
"""baseline_manager.py ACTION ...: the same command as `perfkit baseline` (save, show, load, list,
history, delete, rollback, accept, record, name; see utils/perfkit/baseline/cli.py).

Run it with the kit's venv: .state/venv/bin/python utils/baseline_manager.py list
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from perfkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["baseline", *sys.argv[1:]]))
