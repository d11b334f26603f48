"""Ask the kernel for low CPU wake-up latency while streams are open (PM QoS).

On an idle machine, and on VMs above all, a sleeping CPU can take milliseconds to wake when a
packet arrives; every timestamp taken after that wake is late by it. Holding a request of 0 µs
on /dev/cpu_dma_latency (what tuned's latency-performance profile does) keeps idle CPUs in the
shallowest idle state for as long as the file stays open. It costs power, not CPU time of this
process. Without permission to open the file, nothing changes and the run says so.
"""

from __future__ import annotations

import errno
import os
import struct
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

QOS_DEVICE = "/dev/cpu_dma_latency"
SWITCH = "READINESS_WAKE_QOS"  # 0: do not ask


@dataclass(frozen=True)
class WakeLatency:
    """Whether the request was held while the streams were open, and if not, why."""

    held: bool
    reason: str | None = None

    @classmethod
    def combined(cls, parts: Sequence[WakeLatency]) -> WakeLatency:
        """Held for a run only if every worker held it; else the first reason."""
        missing = [part for part in parts if not part.held]
        if not parts:
            return cls(False, "no worker reported")
        return missing[0] if missing else cls(True)


@contextmanager
def low_wake_latency(
    environ: Mapping[str, str] = os.environ, device: str | None = None
) -> Iterator[WakeLatency]:
    """Holds the request for as long as the block runs; yields what happened."""
    device = device or QOS_DEVICE
    if environ.get(SWITCH, "1") == "0":
        yield WakeLatency(False, f"disabled by {SWITCH}=0")
        return
    try:
        fd = os.open(device, os.O_WRONLY)
    except OSError as error:
        yield WakeLatency(False, _refused(device, error))
        return
    try:
        os.write(fd, struct.pack("i", 0))
    except OSError as error:
        os.close(fd)
        yield WakeLatency(False, _refused(device, error))
        return
    try:
        yield WakeLatency(True)
    finally:
        os.close(fd)


def _refused(device: str, error: OSError) -> str:
    verb = "not permitted" if error.errno in (errno.EACCES, errno.EPERM) else "failed"
    return f"{verb}: {device}: {error.strerror or error}"
