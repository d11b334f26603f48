"""tt-smi on a Tenstorrent host: snapshots recorded from tt-smi 3.0.39 and 6.8.0 parsed, the
device detected from the boards, and the firmware and KMD checked against a spec."""

from __future__ import annotations

import copy
import dataclasses
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import TINY_REGISTRY, FakeVllm, Run
from workflows.errors import SetupError
from workflows.host import tt_smi
from workflows.host.system_software import skip_reason
from workflows.registry.loader import load_registry
from workflows.registry.model_spec import Device
from workflows.run_config import RunConfig

DATA = Path(__file__).parent / "data" / "tt_smi"
SNAPSHOTS = sorted(DATA.glob("snapshot-*.json"))
REQUIRED = {
    "firmware": {"specifier": ">=18.6.0", "mode": "STRICT"},
    "kmd": {"specifier": ">=2.1.0", "mode": "STRICT"},
}


def recorded(name: str = "snapshot-3.0.39-n300-p150a.json") -> dict[str, Any]:
    return json.loads((DATA / name).read_text())  # type: ignore[no-any-return]


def host(
    boards: dict[str, int], firmware: str = "18.7.0.0", driver: str = "TT-KMD 2.1.0"
) -> dict[str, Any]:
    """A snapshot of other boards, made from the recorded n300 and p150a entries."""
    document = recorded()
    wormhole, blackhole = document["device_info"][0], document["device_info"][2]
    devices = []
    for board_type, chips in boards.items():
        for _ in range(chips):
            entry = copy.deepcopy(blackhole if board_type.startswith("p") else wormhole)
            entry["board_info"]["board_type"] = board_type
            entry["firmwares"]["fw_bundle_version"] = firmware
            devices.append(entry)
    document["device_info"] = devices
    document["host_info"]["Driver"] = driver
    return document


@pytest.mark.parametrize("path", SNAPSHOTS, ids=lambda p: p.stem)
def test_recorded_snapshots_parse(path: Path) -> None:
    found = tt_smi.host_software(json.loads(path.read_text()))
    assert found.board_types == ("n300 L", "n300 R", "p150a")
    assert found.fw_bundle_versions == ("18.7.0.0",) * 3
    assert found.kmd_version == "2.1.0"
    assert found.tt_smi_version in ("3.0.39", "6.8.0")


@pytest.mark.parametrize(
    ("boards", "devices"),
    [
        ({"n150 L": 1}, (Device.N150,)),
        ({"n300 L": 1, "n300 R": 1}, (Device.N300,)),
        ({"n300 L": 4, "n300 R": 4}, (Device.T3K, Device.N300)),
        ({"tt-galaxy-wh L": 32}, (Device.GALAXY,)),
        ({"p150a": 1}, (Device.P150,)),
        ({"p150c": 1}, (Device.P150,)),  # upstream looks up a bare 'p150' and misses these
        ({"p100a": 1}, (Device.P100,)),
    ],
)
def test_boards_map_to_devices(boards: dict[str, int], devices: tuple[Device, ...]) -> None:
    assert tt_smi.host_devices(tt_smi.host_software(host(boards)).board_types) == devices


def test_a_host_no_device_describes_is_named() -> None:
    with pytest.raises(
        SetupError, match=r"tt-smi reports 1 x n300 \+ 1 x p150, which is no device"
    ):
        tt_smi.host_devices(tt_smi.host_software(recorded()).board_types)


def test_the_largest_device_the_model_runs_on_is_picked_with_the_reason() -> None:
    t3k = tt_smi.host_software(host({"n300 L": 4, "n300 R": 4})).board_types
    device, why = tt_smi.pick_device(t3k, ["n150", "n300", "t3k"], "Llama-3.1-8B-Instruct")
    assert (device, why) == ("t3k", "tt-smi reports 4 x n300: this host is t3k")
    device, why = tt_smi.pick_device(t3k, ["n300"], "Tiny")
    assert device == "n300" and why.endswith("this host is t3k, and Tiny runs on n300")
    with pytest.raises(SetupError, match="Tiny runs on none of them \\(it runs on n150\\)"):
        tt_smi.pick_device(t3k, ["n150"], "Tiny")


@pytest.mark.parametrize(
    ("snapshot", "requirements", "expected"),
    [
        (host({"n150 L": 1}), REQUIRED, []),
        (
            host({"n150 L": 1}, firmware="18.2.0.0"),
            REQUIRED,
            [
                (
                    True,
                    "firmware bundle version '18.2.0.0' does not meet the STRICT requirement "
                    "'>=18.6.0'",
                )
            ],
        ),
        (
            host({"n150 L": 1}, driver="TT-KMD 1.29"),
            {"kmd": {"specifier": ">=2.1.0", "mode": "SUGGESTED"}},
            [(False, "KMD version '1.29' does not meet the SUGGESTED requirement '>=2.1.0'")],
        ),
        (
            host({"n150 L": 1}, firmware="N/A"),
            REQUIRED,
            [
                (
                    True,
                    "firmware bundle version 'N/A' does not meet the STRICT requirement "
                    "'>=18.6.0' (not a version)",
                )
            ],
        ),
    ],
)
def test_system_software_against_the_spec(
    snapshot: dict[str, Any], requirements: dict[str, Any], expected: list[tuple[bool, str]]
) -> None:
    findings = tt_smi.check_software(requirements, tt_smi.host_software(snapshot))
    assert [(f.strict, f.message) for f in findings] == expected


def test_chips_with_different_firmware_are_a_strict_finding() -> None:
    snapshot = host({"n300 L": 1, "n300 R": 1})
    snapshot["device_info"][1]["firmwares"]["fw_bundle_version"] = "18.6.0.0"
    findings = tt_smi.check_software({}, tt_smi.host_software(snapshot))
    assert [(f.strict, f.message) for f in findings] == [
        (True, "firmware bundles differ between chips: 18.6.0.0, 18.7.0.0")
    ]


# The runner with a stand-in tt-smi that prints a snapshot


def fake_tt_smi(tmp_path: Path, snapshot: dict[str, Any] | None, exit_code: int = 0) -> Path:
    data = tmp_path / "snapshot.json"
    data.write_text(json.dumps(snapshot) if snapshot else "No Tenstorrent driver detected!")
    script = tmp_path / "tt-smi"
    script.write_text(f"#!/bin/sh\ncat {data}\nexit {exit_code}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@pytest.fixture
def checked_registry(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    folder.mkdir()
    requirements = (
        "    system_requirements:\n"
        '      firmware: {specifier: ">=18.6.0", mode: STRICT}\n'
        '      kmd: {specifier: ">=2.1.0", mode: SUGGESTED}\n'
    )
    text = TINY_REGISTRY.replace(
        "    vllm_commit: 6e67d2d0123456789\n",
        "    vllm_commit: 6e67d2d0123456789\n" + requirements,
        1,
    )
    assert text != TINY_REGISTRY
    (folder / "tiny.yaml").write_text(text)
    return folder


def serve(run_cli: Run, registry: Path, fake: FakeVllm, *extra: str) -> Any:
    return run_cli(*fake.args("--workflow", "server", "--model-specs-dir", str(registry), *extra))


def test_a_strict_miss_stops_the_run_before_the_server_starts(
    run_cli: Run, checked_registry: Path, fake_vllm: FakeVllm, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    old = host({"n150 L": 1}, firmware="18.2.0.0", driver="TT-KMD 1.29")
    monkeypatch.setenv(tt_smi.TT_SMI_ENV, str(fake_tt_smi(tmp_path, old)))
    result = serve(run_cli, checked_registry, fake_vllm)
    assert result.code == 3
    assert "firmware bundle version '18.2.0.0' does not meet the STRICT requirement" in result.err
    assert "--skip-system-sw-validation to run anyway" in result.err
    assert "warning: KMD version '1.29' does not meet the SUGGESTED requirement" in result.out
    assert not fake_vllm.record_path.exists()  # nothing started


def test_a_host_that_meets_the_spec_serves_and_skipping_says_why(
    run_cli: Run, checked_registry: Path, fake_vllm: FakeVllm, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv(tt_smi.TT_SMI_ENV, str(fake_tt_smi(tmp_path, host({"n150 L": 1}))))
    result = serve(run_cli, checked_registry, fake_vllm)
    assert result.code == 0, result.err
    run_log = (tmp_path / "workflow_logs" / "latest" / "run.log").read_text()
    assert "system software: firmware 18.7.0.0, KMD 2.1.0 (tt-smi 3.0.39)" in run_log


def test_skip_flag_and_ci_mode_skip_the_check(
    run_cli: Run, checked_registry: Path, fake_vllm: FakeVllm, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    old = host({"n150 L": 1}, firmware="18.2.0.0")
    monkeypatch.setenv(tt_smi.TT_SMI_ENV, str(fake_tt_smi(tmp_path, old)))
    result = serve(run_cli, checked_registry, fake_vllm, "--skip-system-sw-validation")
    assert result.code == 0, result.err
    run_log = (tmp_path / "workflow_logs" / "latest" / "run.log").read_text()
    assert "system software: not checked (--skip-system-sw-validation)" in run_log
    spec = load_registry(checked_registry).find("Tiny-1B-Instruct", "n150")
    base = RunConfig(model="Tiny-1B-Instruct", device="n150", workflow="server", local_server=True)
    assert skip_reason(spec, base) is None
    assert skip_reason(spec, dataclasses.replace(base, ci_mode=True)) == "--ci-mode"
    assert skip_reason(spec, dataclasses.replace(base, workflow="benchmarks")) == (
        "the benchmarks workflow does not bring a server up to keep or release"
    )
    external = dataclasses.replace(base, local_server=False, server_url="http://h:1")
    assert skip_reason(spec, external) == "the server runs elsewhere"


def test_without_device_the_host_decides(
    run_cli: Run, tiny_registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t3k = host({"n300 L": 4, "n300 R": 4})
    monkeypatch.setenv(tt_smi.TT_SMI_ENV, str(fake_tt_smi(tmp_path, t3k)))
    result = run_cli(
        "--model", "Tiny-1B-Instruct", "--workflow", "server", "--docker-server",
        "--print-docker-cmd", "--model-specs-dir", str(tiny_registry),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "device: t3k (tt-smi reports 4 x n300: this host is t3k)" in result.out
    assert "MESH_DEVICE=T3K" in result.out


def test_without_device_or_driver_it_suggests_cpu(
    run_cli: Run, tiny_registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tt_smi.TT_SMI_ENV, str(fake_tt_smi(tmp_path, None, exit_code=1)))
    result = run_cli(
        "--model", "Tiny-1B-Instruct", "--workflow", "server", "--local-server",
        "--model-specs-dir", str(tiny_registry),
    )  # fmt: skip
    assert result.code == 2
    assert "no --device given, and tt-smi found no Tenstorrent device" in result.err
    assert "No Tenstorrent driver detected!" in result.err
    assert "pass --device cpu" in result.err
