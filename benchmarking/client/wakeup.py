"""Ask the kernel for low CPU wake-up latency while streams are open (PM QoS).

On an idle machine, and on VMs above all, a sleeping CPU can take milliseconds to wake when a
packet arrives; every timestamp taken after that wake is late by it. Holding a request of 0 µs
on /dev/cpu_dma_latency (what tuned's latency-performance profile does) keeps idle CPUs in the
shallowest idle state for as long as the file stays open. It costs power, not CPU time of this
process. Without permission to open the file, nothing changes and the run says so.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager

QOS_DEVICE = "/dev/cpu_dma_latency"


@contextmanager
def low_wake_latency(enabled: bool = True) -> Iterator[bool]:
    """Yields whether the request is in force."""
    if not enabled:
        yield False
        return
    try:
        fd = os.open(QOS_DEVICE, os.O_WRONLY)
    except OSError:
        yield False
        return
    try:
        os.write(fd, struct.pack("i", 0))
        yield True
    finally:
        os.close(fd)
