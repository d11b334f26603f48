"""Keep upstream's LLM specs served by vLLM from a tt-inference-server `release_model_spec.json`.

    python3 scripts/upstream_specs.py release_model_spec.json OUT.json

tests/unit/data/upstream/README.md says where the input comes from; the registry test
(tests/unit/test_upstream_registry.py) compares this runner's registry with the result field by
field. Whole entries are kept or dropped, never edited, in upstream's nesting
(`model_specs[hf_repo][DEVICE][engine][impl_id]`); the other model types (image, audio, CNN, ...)
and engines (media, forge) are dropped, as this runner serves neither.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def is_vllm_llm(spec: dict[str, Any]) -> bool:
    return spec.get("model_type") == "LLM" and spec.get("inference_engine") == "vLLM"


def vllm_llm_specs(document: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for repo, devices in document["model_specs"].items():
        for device, engines in devices.items():
            for engine, impls in engines.items():
                for impl, spec in impls.items():
                    if is_vllm_llm(spec):
                        place = kept.setdefault(repo, {}).setdefault(device, {})
                        place.setdefault(engine, {})[impl] = spec
    return {key: value for key, value in document.items() if key != "model_specs"} | {
        "model_specs": kept
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    source, target = (Path(arg) for arg in argv)
    trimmed = vllm_llm_specs(json.loads(source.read_text()))
    target.write_text(json.dumps(trimmed, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
