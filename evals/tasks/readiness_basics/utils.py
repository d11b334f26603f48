"""Load readiness_basics' data relative to this folder, so lm-eval works from any cwd.

lm-eval hands `dataset_kwargs` to `datasets.load_dataset`, which resolves a relative
`data_files` path against the process's cwd. Via `custom_dataset`, lm-eval calls `load`
with the task's metadata and dataset_kwargs instead; relative data_files paths are
resolved against the folder of this file (= the folder of the YAML).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load(data_files: dict[str, str], **_: Any) -> Any:
    import datasets

    # HERE / "/abs/x.jsonl" is "/abs/x.jsonl": an absolute path stays as it is.
    files = {split: str(HERE / path) for split, path in data_files.items()}
    return datasets.load_dataset("json", data_files=files)
