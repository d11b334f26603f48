"""Disk and RAM checks, with the figures in the message."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.errors import SetupError
from workflows.host.resources import check_host, check_resources, disk_free_gb, mem_available_gb
from workflows.registry.loader import load_registry


def test_reads_real_figures(tmp_path: Path) -> None:
    assert mem_available_gb() > 0
    assert disk_free_gb(tmp_path / "not" / "yet" / "made") > 0


def test_meminfo_parsing(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 100 kB\nMemAvailable:    2097152 kB\n")
    assert mem_available_gb(meminfo) == 2.0


def test_disk_shortfall_names_both_figures(tmp_path: Path) -> None:
    spec = load_registry().find("Llama-3.3-70B-Instruct", "t3k")
    with pytest.raises(SetupError, match=r"needs 160.0 GB free disk at .*, only 12.5 GB is free"):
        check_resources(spec, tmp_path, free_gb=12.5, ram_gb=1000)


def test_ram_shortfall_names_both_figures(tmp_path: Path) -> None:
    spec = load_registry().find("Llama-3.3-70B-Instruct", "t3k")
    with pytest.raises(SetupError, match=r"needs 175.0 GB of available RAM, only 3.0 GB"):
        check_resources(spec, tmp_path, free_gb=1000, ram_gb=3)


def test_small_model_passes_on_this_machine(tmp_path: Path) -> None:
    free, ram = check_host(load_registry().find("SmolLM2-135M-Instruct", "cpu"), tmp_path)
    assert free >= 1 and ram >= 2
