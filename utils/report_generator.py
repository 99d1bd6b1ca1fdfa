#!/usr/bin/env python3
"""report_generator.py RUN_DIR [--output FILE] [--open]: the same command as `perfkit report`
(utils/perfkit/report/run_page.py; data in report_data.py, charts in report_charts.py, the page in
templates/report.html.j2). `report_generator.py compare RUN_DIR RUN_DIR ...` is
`perfkit report-compare`.

Run it with the kit's venv: .state/venv/bin/python utils/report_generator.py results/latest
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from perfkit.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["compare"]:
        raise SystemExit(main(["report-compare", *args[1:]]))
    raise SystemExit(main(["report", *args]))
