"""Load chat_basics' data relative to this folder, so lm-eval works from any cwd (see
readiness_basics/utils.py: `custom_dataset` gets the task's dataset_kwargs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load(data_files: dict[str, str], **_: Any) -> Any:
    import datasets

    files = {split: str(HERE / path) for split, path in data_files.items()}
    return datasets.load_dataset("json", data_files=files)
