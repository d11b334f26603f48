"""Before a server starts on a Tenstorrent host: its firmware bundle and kernel driver against the
spec's `system_requirements` (a STRICT miss stops the run, a SUGGESTED one warns); and, when no
`--device` is given, which device this host is."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.console import Console

from workflows.dispatch import SHIPS_SERVER, does
from workflows.errors import SetupError, UsageError
from workflows.host import tt_smi
from workflows.registry.model_spec import ModelSpec
from workflows.run_config import RunConfig

log = logging.getLogger(__name__)
DEVICE_NODES = Path("/dev/tenstorrent")


def skip_reason(spec: ModelSpec, config: RunConfig) -> str | None:
    """Why the host's software is not checked for this run, or None when it is."""
    if not spec.device.is_tenstorrent:
        return f"{spec.device.value} is not a Tenstorrent device"
    if not config.starts_server:
        return "the server runs elsewhere"
    if not does(config.workflow, SHIPS_SERVER):
        return f"the {config.workflow} workflow does not bring a server up to keep or release"
    if config.skip_system_sw_validation:
        return "--skip-system-sw-validation"
    if config.ci_mode:
        return "--ci-mode"
    if not spec.system_requirements:
        return "the spec states no system requirements"
    return None


def check_system_software(
    spec: ModelSpec, config: RunConfig, environ: Mapping[str, str], log_path: Path, console: Console
) -> None:
    reason = skip_reason(spec, config)
    if reason is not None:
        log.info("system software: not checked (%s)", reason)
        return
    wanted = tt_smi.requirement_text(spec.system_requirements)
    found = tt_smi.host_software(tt_smi.snapshot(tt_smi.tt_smi_executable(environ, log_path)))
    log.info(
        "system software: firmware %s, KMD %s (tt-smi %s); required: %s",
        ", ".join(sorted(set(found.fw_bundle_versions))) or "none",
        found.kmd_version or "unknown",
        found.tt_smi_version or "?",
        wanted,
    )
    findings = tt_smi.check_software(spec.system_requirements, found)
    for finding in findings:
        if not finding.strict:
            console.print(f"warning: {finding.message}", markup=False, highlight=False)
    strict = [finding.message for finding in findings if finding.strict]
    if strict:
        raise SetupError(
            f"this host's system software does not meet {spec.model_name} on "
            f"{spec.device.value}: {'; '.join(strict)}. Update it, or pass "
            "--skip-system-sw-validation to run anyway"
        )


def detect_device(
    model: str, supported: Sequence[str], environ: Mapping[str, str], log_path: Path
) -> tuple[str, str]:
    """The device to run `model` on when --device is not given, and why."""
    if not environ.get(tt_smi.TT_SMI_ENV) and not DEVICE_NODES.exists():
        raise UsageError(
            f"no --device given, and this host has no Tenstorrent device ({DEVICE_NODES} does "
            f"not exist); {tt_smi.NO_DEVICE_HINT}"
        )
    try:
        found = tt_smi.host_software(tt_smi.snapshot(tt_smi.tt_smi_executable(environ, log_path)))
    except SetupError as error:
        raise UsageError(
            f"no --device given, and {error.message}; {tt_smi.NO_DEVICE_HINT}"
        ) from None
    try:
        return tt_smi.pick_device(found.board_types, supported, model)
    except SetupError as error:
        raise UsageError(error.message) from None
