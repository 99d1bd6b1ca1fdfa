#!/usr/bin/env python3
"""generate_docker_compose.py --servers N [--database sqlite|postgresql|both] --output FILE
[--gateway-version V] [--gateway-workers W] [--gateway-instances K] [--gateway-port P]
[--server-base-port P] [--gateway-cpus C --gateway-memory M --server-cpus C --server-memory M]
[--force]: the same command as `perfkit compose generate` (utils/perfkit/compose/cli.py; what
goes in the file: compose.py; the template: templates/docker-compose.yaml.j2). Check a file
with `perfkit compose validate FILE`.

Run it with the kit's venv:
  .state/venv/bin/python utils/generate_docker_compose.py --servers 10 --output docker-compose.yaml
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from perfkit.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["compose", "generate", *sys.argv[1:]]))
