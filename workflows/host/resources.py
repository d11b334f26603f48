"""Host checks made before any download or server start: free disk and available RAM."""

from __future__ import annotations

import shutil
from pathlib import Path

from workflows.errors import SetupError
from workflows.registry.model_spec import ModelSpec

GIB = 1024**3


def mem_available_gb(meminfo: Path = Path("/proc/meminfo")) -> float:
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024 / GIB
    raise SetupError(f"{meminfo} has no MemAvailable line; cannot check RAM")


def disk_free_gb(path: Path) -> float:
    existing = path
    while not existing.exists():
        existing = existing.parent
    return shutil.disk_usage(existing).free / GIB


HOST_DISK_HINT = "point HF_HOME / --host-weights-dir at a larger disk"


def check_resources(
    spec: ModelSpec,
    weights_dir: Path,
    free_gb: float,
    ram_gb: float,
    disk_hint: str = HOST_DISK_HINT,
) -> None:
    if free_gb < spec.min_disk_gb:
        raise SetupError(
            f"{spec.model_name} needs {spec.min_disk_gb:.1f} GB free disk at {weights_dir}, "
            f"only {free_gb:.1f} GB is free; free some space or {disk_hint}"
        )
    if ram_gb < spec.min_ram_gb:
        raise SetupError(
            f"{spec.model_name} needs {spec.min_ram_gb:.1f} GB of available RAM, "
            f"only {ram_gb:.1f} GB is available; stop other work or use a larger machine"
        )


def check_host(
    spec: ModelSpec, weights_dir: Path, disk_hint: str = HOST_DISK_HINT
) -> tuple[float, float]:
    free, ram = disk_free_gb(weights_dir), mem_available_gb()
    check_resources(spec, weights_dir, free, ram, disk_hint)
    return free, ram
