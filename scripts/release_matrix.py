#!/usr/bin/env python3
"""Print the registry's (model, device) release matrix as JSON, in the shape a CI system fans
out: GitHub Actions' `strategy.matrix` with an `include` list, one entry per (model, device)
(its default implementation), each naming the runner labels and server flag to use.

    python3 scripts/release_matrix.py --device n150,n300 --status complete,top_perf
    python3 scripts/release_matrix.py --model Llama-3.1-8B --github-output   # matrix=... line

Filters take comma-separated values; --model matches a name or a part of one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for imports

from workflows.envs import bootstrap
from workflows.paths import MODEL_SPECS_DIR

SERVER_FLAG = {"cpu": "--local-server"}  # every other device: its pinned Docker image


def _values(text: str | None) -> set[str]:
    return {part.strip().lower() for part in (text or "").split(",") if part.strip()}


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="devices to keep, e.g. n150,n300")
    parser.add_argument("--status", help="statuses to keep, e.g. complete,top_perf")
    parser.add_argument("--model", help="model names (or parts of names) to keep")
    parser.add_argument("--model-specs-dir", type=Path, help="registry folder (model_specs/)")
    parser.add_argument(
        "--device-ids",
        default="",
        help="the chips a device that is part of a host runs on (galaxy_t3k: 8 ids, e.g. "
        "0,1,2,3,4,5,6,7); without them such devices are left out, saying so",
    )
    parser.add_argument(
        "--github-output",
        action="store_true",
        help="append `matrix=<json>` to $GITHUB_OUTPUT instead of printing the JSON",
    )
    return parser.parse_args(argv)


def chip_ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def lacks_chip_ids(spec: object, args: argparse.Namespace) -> bool:
    """A device that is one part of a host (a Galaxy tray) runs only on the chips named for it."""
    from workflows.registry.model_spec import ModelSpec

    assert isinstance(spec, ModelSpec)
    wanted = spec.device.device_ids_required
    return wanted is not None and len(chip_ids(args.device_ids)) != wanted


def matrix_entries(specs: Iterable[object], args: argparse.Namespace) -> list[dict[str, object]]:
    from workflows.registry.model_spec import ModelSpec

    devices, statuses, models = _values(args.device), _values(args.status), _values(args.model)
    chosen: dict[tuple[str, str], ModelSpec] = {}
    left_out: set[str] = set()
    for spec in specs:
        assert isinstance(spec, ModelSpec)
        device = spec.device.value
        if devices and device not in devices:
            continue
        if lacks_chip_ids(spec, args):
            left_out.add(device)
            continue
        if statuses and spec.status.value not in statuses:
            continue
        if models and not any(m in spec.model_name.lower() for m in models):
            continue
        key = (spec.model_name, device)
        if key not in chosen or spec.default_impl:
            chosen[key] = spec
    entries: list[dict[str, object]] = [
        {
            "model": spec.model_name,
            "device": spec.device.value,
            "impl": spec.impl,
            "status": spec.status.value,
            "runs_on": ["self-hosted", spec.device.value],
            "server": SERVER_FLAG.get(spec.device.value, "--docker-server"),
            "device_ids": ",".join(chip_ids(args.device_ids))
            if spec.device.device_ids_required
            else "",
        }
        for _, spec in sorted(chosen.items())
    ]
    for device in sorted(left_out):
        print(
            f"note: {device} left out: it runs on chips named with --device-ids "
            f"(e.g. --device-ids 0,1,2,3,4,5,6,7)",
            file=sys.stderr,
        )
    return entries


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    from workflows.registry.loader import load_registry
    from workflows.registry.schema import RegistryError

    try:
        registry = load_registry(args.model_specs_dir or MODEL_SPECS_DIR)
    except RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    include = matrix_entries(registry.specs, args)
    if not include:
        print("error: no (model, device) matches these filters", file=sys.stderr)
        return 2
    text = json.dumps({"include": include}, separators=(",", ":"))
    if args.github_output:
        target = os.environ.get("GITHUB_OUTPUT")
        if not target:
            print(
                "error: --github-output needs $GITHUB_OUTPUT (set by GitHub Actions)",
                file=sys.stderr,
            )
            return 2
        with open(target, "a") as handle:
            handle.write(f"matrix={text}\n")
        print(f"{len(include)} (model, device) pairs", file=sys.stderr)
        return 0
    print(text)
    return 0


if __name__ == "__main__":
    if not (bootstrap.running_inside(bootstrap.RUNNER_ENV) or bootstrap.running_inside("dev")):
        bootstrap.reexec_inside(bootstrap.RUNNER_ENV, Path(__file__), sys.argv[1:])
    sys.exit(main(sys.argv[1:]))
