#!/usr/bin/env python3
"""Build the server image of every pinned spec, tagged exactly as the registry derives it.

    python3 scripts/build_images.py --dry-run                    # what would be built
    python3 scripts/build_images.py --model SmolLM2-135M-Instruct
    python3 scripts/build_images.py --model SmolLM2-135M-Instruct --cpu-base-image IMAGE

Images that already exist are skipped. Upstream images (gpu) are pulled, not built. The CPU
image takes the engine (the pinned xllamacpp wheel) and the GGUF from the CPU server's own
environment, installed on this machine as `--local-server` installs it: nothing is downloaded or
compiled inside the image.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for imports


from workflows.envs import bootstrap

log = logging.getLogger("build_images")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", default=[], help="only these models")
    parser.add_argument("--device", action="append", default=[], help="only these devices")
    parser.add_argument("--dry-run", action="store_true", help="list, build nothing")
    parser.add_argument("--cpu-base-image", default=None, help="FROM image of the CPU image")
    parser.add_argument("--force", action="store_true", help="rebuild images that exist")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    if not (bootstrap.running_inside(bootstrap.RUNNER_ENV) or bootstrap.running_inside("dev")):
        bootstrap.reexec_inside(bootstrap.RUNNER_ENV, Path(__file__), argv)
    from workflows.errors import ReadinessError
    from workflows.servers.image_builder import build_all

    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        return build_all(args, os.environ, Path(tempfile.gettempdir()))
    except ReadinessError as error:
        print(f"error: {error}", file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("interrupted; images already built are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
