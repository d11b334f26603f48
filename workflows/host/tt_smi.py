"""The Tenstorrent host as `tt-smi -s` reports it: the boards (for device detection) and the
firmware bundle and kernel-driver versions (checked against a spec's `system_requirements`).

tt-smi runs from its own environment (PyPI `tt-smi`, pinned); `READINESS_TT_SMI` names another
executable (a recorded snapshot in tests, or an installed tt-smi)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from workflows import command
from workflows.envs.venvs import VenvSpec, ensure_venv
from workflows.errors import SetupError
from workflows.registry.model_spec import Device

log = logging.getLogger(__name__)
VENV = VenvSpec(name="tt-smi", requirements=("tt-smi==3.0.39",))  # the upstream runner's pin
TT_SMI_ENV = "READINESS_TT_SMI"
TIMEOUT_S = 30.0
NO_DEVICE_HINT = "pass --device cpu to run on this host's CPU"


@dataclass(frozen=True)
class HostSoftware:
    """What the snapshot says: one board type and firmware bundle per chip, the KMD version."""

    board_types: tuple[str, ...]
    fw_bundle_versions: tuple[str, ...]
    kmd_version: str | None
    tt_smi_version: str | None


def tt_smi_executable(environ: Mapping[str, str], log_path: Path) -> str:
    given = environ.get(TT_SMI_ENV)
    if given:
        return given
    return str(ensure_venv(VENV, log_path).parent / "tt-smi")


def snapshot(executable: str) -> dict[str, Any]:
    """`tt-smi -s` as JSON; no driver, no device or no answer is a SetupError saying so."""
    try:
        result = command.run([executable, "-s", "--snapshot_no_tty"], timeout=TIMEOUT_S)
    except OSError as error:
        raise SetupError(f"tt-smi could not run ({error.strerror}): {executable}") from None
    said = " ".join(result.output.split())[:300]
    if result.stopped_because:
        raise SetupError(f"tt-smi did not answer ({result.stopped_because})")
    if not result.ok:
        raise SetupError(f"tt-smi found no Tenstorrent device ({said or 'no output'})")
    try:
        document = json.loads(result.output[result.output.index("{") :])
    except (ValueError, json.JSONDecodeError):
        raise SetupError(f"tt-smi printed no snapshot JSON: {said}") from None
    if not isinstance(document, dict):
        raise SetupError("tt-smi printed JSON that is not a snapshot")
    return document


def host_software(document: Mapping[str, Any]) -> HostSoftware:
    devices = document.get("device_info") or []
    driver = str((document.get("host_info") or {}).get("Driver") or "")
    return HostSoftware(
        board_types=tuple(str(d["board_info"]["board_type"]) for d in devices),
        fw_bundle_versions=tuple(str(d["firmwares"]["fw_bundle_version"]) for d in devices),
        kmd_version=driver.split(" ", 1)[1].strip() if " " in driver else None,
        tt_smi_version=(document.get("host_sw_vers") or {}).get("tt_smi"),
    )


# Device detection


def board_family(board_type: str) -> str:
    """'n300 L' -> 'n300', 'p150a' -> 'p150', 'tt-galaxy-wh L' -> 'tt-galaxy-wh'."""
    name = board_type.lower().split()[0] if board_type.strip() else ""
    if len(name) == 5 and name[0] == "p" and name[1:4].isdigit():
        return name[:4]  # Blackhole cards carry a variant letter (p150a, p150b, ...)
    return name


HOSTS: dict[tuple[tuple[str, int], ...], tuple[Device, ...]] = {  # boards -> devices, largest first
    (("n150", 1),): (Device.N150,),
    (("n150", 4),): (Device.N150X4,),
    (("n300", 1),): (Device.N300,),
    (("n300", 4),): (Device.T3K, Device.N300),
    (("tt-galaxy-wh", 32),): (Device.GALAXY,),  # galaxy_t3k (one tray) only when asked for
    (("p100", 1),): (Device.P100,),
    (("p150", 1),): (Device.P150,),
    (("p150", 4),): (Device.P150X4,),
    (("p150", 8),): (Device.P150X8,),
    (("p300", 1),): (Device.P300,),
    (("p300", 2),): (Device.P300X2,),
}
TWO_CHIP_BOARDS = ("n300", "p300")  # tt-smi lists each chip: two entries per board


def board_counts(board_types: Sequence[str]) -> tuple[tuple[str, int], ...]:
    chips = Counter(board_family(board) for board in board_types)
    boards = {
        family: count // 2 if family in TWO_CHIP_BOARDS else count
        for family, count in chips.items()
    }
    return tuple(sorted(boards.items()))


def describe(counts: Sequence[tuple[str, int]]) -> str:
    return " + ".join(f"{count} x {family}" for family, count in counts) or "no boards"


def host_devices(board_types: Sequence[str]) -> tuple[Device, ...]:
    counts = board_counts(board_types)
    devices = HOSTS.get(counts)
    if devices is None:
        raise SetupError(
            f"tt-smi reports {describe(counts)}, which is no device this runner knows "
            f"({', '.join(d.value for d in Device)}); pass --device"
        )
    return devices


def pick_device(
    board_types: Sequence[str], supported: Sequence[str], model: str
) -> tuple[str, str]:
    """The largest device of this host the model runs on, and why it was chosen."""
    counts = board_counts(board_types)
    candidates = host_devices(board_types)
    for device in candidates:
        if device.value in supported:
            why = f"tt-smi reports {describe(counts)}: this host is {candidates[0].value}" + (
                "" if device is candidates[0] else f", and {model} runs on {device.value}"
            )
            return device.value, why
    raise SetupError(
        f"tt-smi reports {describe(counts)} ({', '.join(d.value for d in candidates)}), and "
        f"{model} runs on none of them (it runs on {', '.join(supported)}); pass --device"
    )


# System software requirements


@dataclass(frozen=True)
class Finding:
    strict: bool
    message: str


def _meets(version: str, specifier: str) -> bool | None:
    try:
        return Version(version) in SpecifierSet(specifier, prereleases=True)
    except (InvalidVersion, InvalidSpecifier):
        return None


def check_software(requirements: Mapping[str, Any], found: HostSoftware) -> list[Finding]:
    """Each requirement against what tt-smi found; a STRICT miss stops the run, a SUGGESTED
    one warns. Firmware must be the same on every chip."""
    findings = []
    bundles = sorted(set(found.fw_bundle_versions))
    if len(bundles) > 1:
        findings.append(
            Finding(True, f"firmware bundles differ between chips: {', '.join(bundles)}")
        )
    checks = (("firmware", "firmware bundle", bundles), ("kmd", "KMD", [found.kmd_version or ""]))
    for key, label, versions in checks:
        requirement = requirements.get(key)
        if not requirement:
            continue
        specifier, mode = str(requirement["specifier"]), str(requirement["mode"]).upper()
        for version in versions:
            meets = _meets(version, specifier)
            if meets:
                continue
            found_text = f"'{version}'" if version else "nothing"
            findings.append(
                Finding(
                    mode == "STRICT",
                    f"{label} version {found_text} does not meet the {mode} requirement "
                    f"'{specifier}'" + (" (not a version)" if meets is None and version else ""),
                )
            )
    return findings


def requirement_text(requirements: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{key} {value['specifier']} ({value['mode']})" for key, value in requirements.items()
    )
