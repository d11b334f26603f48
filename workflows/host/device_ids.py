"""`--device-id` against the device: a Galaxy tray (`galaxy_t3k`) is 8 chips the user names."""

from __future__ import annotations

from workflows.errors import UsageError
from workflows.registry.model_spec import ModelSpec
from workflows.run_config import RunConfig


def check_device_ids(spec: ModelSpec, config: RunConfig) -> None:
    """A server on a device that is part of a host needs the ids of its chips, as upstream."""
    wanted = spec.device.device_ids_required
    if wanted is None or not config.starts_server or len(config.device_ids) == wanted:
        return
    example = ",".join(str(i) for i in range(wanted))
    raise UsageError(
        f"--device {spec.device.value} needs exactly {wanted} chips named with --device-id "
        f"(e.g. --device-id {example}, chips of one Galaxy tray); got {len(config.device_ids)}"
    )
