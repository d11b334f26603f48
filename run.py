#!/usr/bin/env python3
"""Entry point. Needs only Python >= 3.10: it enters the runner's own environment, then hands over.

python3 run.py --model SmolLM2-135M-Instruct --device cpu --workflow server --local-server
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info < (3, 10):  # noqa: UP036 - this line must run on old interpreters too
    sys.exit("run.py needs Python 3.10 or newer; you ran it with " + sys.version.split()[0])

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workflows.envs import bootstrap


def main() -> int:
    if not (bootstrap.running_inside(bootstrap.RUNNER_ENV) or bootstrap.running_inside("dev")):
        try:
            bootstrap.reexec_inside(bootstrap.RUNNER_ENV, Path(__file__), sys.argv[1:])
        except bootstrap.BootstrapError as error:
            print(f"error: {error}", file=sys.stderr)
            return 3
    from workflows.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
