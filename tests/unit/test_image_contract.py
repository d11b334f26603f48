"""What a published Tenstorrent vLLM image accepts, by its version (facts in image_contract)."""

from __future__ import annotations

import json

import pytest

from workflows.servers.image_contract import (
    image_version,
    published_image_takes_arguments,
    tt_config_flags,
)


@pytest.mark.parametrize(
    ("version", "parsed"),
    [("0.10.0", (0, 10, 0)), ("0.9", (0, 9, 0)), ("v0.13.0", (0, 13, 0)), ("dev", None)],
)
def test_image_version(version: str, parsed: tuple[int, int, int] | None) -> None:
    assert image_version(version) == parsed


@pytest.mark.parametrize(
    ("version", "takes"),
    [("0.2.0", False), ("0.10.1", False), ("0.11.0", True), ("0.20.0", True), ("dev", True)],
)
def test_images_before_0_11_take_no_arguments(version: str, takes: bool) -> None:
    assert published_image_takes_arguments(version) is takes


@pytest.mark.parametrize(
    ("version", "flag", "value"),
    [
        ("0.10.0", "--override-tt-config", {"trace_region_size": 1}),
        ("0.14.0", "--override-tt-config", {"trace_region_size": 1}),
        ("0.15.0", "--plugin-config", {"tt": {"trace_region_size": 1}}),
        ("0.16.0", "--additional-config", {"tt": {"trace_region_size": 1}}),
        ("0.20.0", "--additional-config", {"tt": {"trace_region_size": 1}}),
    ],
)
def test_tt_config_flag_by_version(version: str, flag: str, value: dict[str, object]) -> None:
    name, text = tt_config_flags(version, {"trace_region_size": 1})
    assert name == flag and json.loads(text) == value
    assert tt_config_flags(version, {}) == []
