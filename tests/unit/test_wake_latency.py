"""Result files say whether the low wake-up latency request was held, and if not, why."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarking import bench
from benchmarking.client import driver, wakeup
from benchmarking.client.wakeup import WakeLatency, low_wake_latency
from benchmarking.sweep import Point
from tests.helpers import Emulator, context


def held_while_open(device: Path) -> tuple[WakeLatency, bytes]:
    with low_wake_latency({}, str(device)) as status:
        return status, device.read_bytes()


def test_the_request_is_held_only_when_asked_for_and_permitted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = tmp_path / "cpu_dma_latency"
    device.write_bytes(b"")
    assert held_while_open(device) == (WakeLatency(True), b"\0\0\0\0"), "0 µs while held"
    with low_wake_latency({"READINESS_WAKE_QOS": "0"}, str(device)) as status:
        assert status == WakeLatency(False, "disabled by READINESS_WAKE_QOS=0")

    def refuse(path: str, flags: int) -> int:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(
        wakeup,
        "os",
        SimpleNamespace(open=refuse, O_WRONLY=os.O_WRONLY, write=os.write, close=os.close),
    )
    with low_wake_latency({}, str(device)) as status:
        assert status == WakeLatency(False, f"not permitted: {device}: Permission denied")


@pytest.mark.parametrize(
    ("environment", "held", "reason"),
    [({"READINESS_WAKE_QOS": "0"}, False, "disabled by READINESS_WAKE_QOS=0"), ({}, True, None)],
)
def test_result_files_record_what_happened(
    emulator: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    environment: dict[str, str],
    held: bool,
    reason: str | None,
) -> None:
    device = tmp_path / "cpu_dma_latency"
    device.write_bytes(b"")
    monkeypatch.setattr(wakeup, "QOS_DEVICE", str(device))
    monkeypatch.delenv("READINESS_WAKE_QOS", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    ctx = context(emulator("--ttft-ms", "5", "--itl-ms", "1"), tmp_path / "out", workers=2)

    def execute(plan: driver.Plan, total: int) -> driver.RunOutcome:
        return driver.run(plan, workers=2, in_process=False)

    document = bench.run_point(ctx, Point(16, 4, 2, 4), execute)
    assert (document["low_wake_latency"], document["low_wake_latency_reason"]) == (held, reason)
