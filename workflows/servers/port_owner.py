"""Who listens on a TCP port, from Linux's /proc: so the runner knows that the server answering
on its port is the one it started, and can name the process that holds the port when not.

A listening socket is a line of /proc/net/tcp (or tcp6) in state 0A; its inode appears as
`socket:[inode]` among the file descriptors of the processes that hold it. A server the runner
starts leads a session of its own (command.start), so "ours" is "held by a process of that
session". Off Linux, nothing is known and nothing is claimed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from workflows.redact import redact

PROC = Path("/proc")
LISTEN = "0A"
WILDCARDS = (ipaddress.ip_address("0.0.0.0"), ipaddress.ip_address("::"))
COMMAND_CHARS = 120


@dataclass(frozen=True)
class Holder:
    pid: int
    session: int | None
    command: str

    def describe(self) -> str:
        return f"pid {self.pid} ({self.command})" if self.command else f"pid {self.pid}"


def listening_inodes(port: int, host: str, proc: Path = PROC) -> set[int] | None:
    """Inodes of the sockets listening on `port` that a connection to `host` could reach;
    None when this system does not say (no /proc/net/tcp)."""
    tables = [proc / "net" / name for name in ("tcp", "tcp6")]
    if not any(table.exists() for table in tables):
        return None
    target = _address(host)
    found = set()
    for local, state, inode in _sockets(tables):
        address, _, hex_port = local.rpartition(":")
        if state == LISTEN and int(hex_port, 16) == port and _reaches(address, target):
            found.add(inode)
    return found


def taken_by(port: int, host: str, session: int, proc: Path = PROC) -> str | None:
    """Who, outside `session`, listens where a client of `host:port` connects: 'pid 12 (python3
    -m ...)' (or 'a process of another user'); None when every listener there is the session's,
    when none listens, or when the system does not say."""
    inodes = listening_inodes(port, host, proc)
    if not inodes:
        return None
    held = holders(inodes, proc)
    foreign = [i for i in inodes if not any(h.session == session for h in held.get(i, []))]
    if not foreign:
        return None
    seen = [h for inode in foreign for h in held.get(inode, [])]
    return seen[0].describe() if seen else "a process of another user"


def holders(inodes: set[int], proc: Path = PROC) -> dict[int, list[Holder]]:
    """The processes (that this user may look into) holding each of `inodes`."""
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    found: dict[int, list[Holder]] = {}
    for entry in _processes(proc):
        for inode in {wanted[link] for link in _fd_links(entry) if link in wanted}:
            holder = Holder(int(entry.name), session_of(entry), command_of(entry))
            found.setdefault(inode, []).append(holder)
    return found


def session_of(entry: Path) -> int | None:
    try:
        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[3])  # state, ppid, pgrp, session


def command_of(entry: Path) -> str:
    try:
        argv = (entry / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return ""
    text = redact(" ".join(part.decode(errors="replace") for part in argv if part))
    return text if len(text) <= COMMAND_CHARS else text[: COMMAND_CHARS - 3] + "..."


def _sockets(tables: Iterable[Path]) -> Iterator[tuple[str, str, int]]:
    """(local address, state, inode) of each socket in the tables."""
    for table in tables:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9:
                yield fields[1], fields[3], int(fields[9])


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a client connects to for `host`; None: any (a name that does not resolve)."""
    try:
        return ipaddress.ip_address(socket.gethostbyname(host))
    except (OSError, ValueError):
        return None


def _reaches(
    hex_address: str, target: ipaddress.IPv4Address | ipaddress.IPv6Address | None
) -> bool:
    address = _decode(hex_address)
    if target is None or address in WILDCARDS:
        return True
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address == target


def _decode(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """/proc/net/tcp's address: the bytes of each 32-bit word in host (little-endian) order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return ipaddress.ip_address(words)


def _processes(proc: Path) -> Iterator[Path]:
    try:
        entries = list(proc.iterdir())
    except OSError:
        return
    yield from (entry for entry in entries if entry.name.isdigit())


def _fd_links(entry: Path) -> Iterator[str]:
    try:
        descriptors = list((entry / "fd").iterdir())
    except OSError:
        return  # gone, or another user's
    for descriptor in descriptors:
        try:
            yield str(descriptor.readlink())
        except OSError:
            continue
