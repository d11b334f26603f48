"""How much of the host's CPU the load generator used while it measured a point (ours and the
tools' alike). A client that takes a large share of the cores a server shares measures a
starved server: such points are flagged. Standard library only (the tool drivers use it too)."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

CPU_KEYS = ("client_cpu_s", "client_cpu_share")
HOST_SHARE_LIMIT = 0.25  # a client above this share of the host's CPU time is flagged


def _cpu_seconds() -> float:
    """This process and the children it has waited for (worker processes, a tool's run)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class CpuClock:
    cpu_s: float
    wall_s: float

    @classmethod
    def start(cls) -> CpuClock:
        return cls(_cpu_seconds(), time.monotonic())

    def used(self) -> dict[str, float]:
        """CPU seconds since the start, and their share of the host's CPU time (all cores)."""
        cpu = _cpu_seconds() - self.cpu_s
        wall = max(time.monotonic() - self.wall_s, 1e-9)
        return {
            "client_cpu_s": round(cpu, 3),
            "client_cpu_share": round(cpu / (wall * host_cpus()), 4),
        }


def host_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def busy_client_notes(
    documents: Sequence[Mapping[str, object]],
    label: Callable[[Mapping[str, object]], str],
    limit: float = HOST_SHARE_LIMIT,
) -> list[str]:
    """One line per point whose client used more than `limit` of the host's CPU time."""
    lines = []
    for document in documents:
        share = document.get("client_cpu_share")
        if isinstance(share, (int, float)) and share > limit:
            lines.append(
                f"{label(document)}: the load generator used {share:.0%} of this host's CPU "
                f"({host_cpus()} cores) while it measured; a server on the same host was "
                "competing with it for the cores, so its figures here may be low"
            )
    return lines
