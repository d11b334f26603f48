"""Run a Python program confined by bubblewrap (Debian's ``bwrap``): the only place model-written
code runs.

The program gets, and gets only:

* its own PID namespace with a fresh ``/proc`` (none of the runner's processes are visible), and
  no network (an empty network namespace: even 127.0.0.1 is its own, with nothing listening);
* an empty environment apart from ``PATH``, ``LANG``, ``HOME`` and ``TMPDIR``;
* a read-only root holding only ``/usr`` (and ``/bin``, ``/lib*``, ``/sbin``),
  ``/etc/ld.so.cache`` and the interpreter's prefix, read-only too; its files read-only under
  ``/sandbox``; a small tmpfs at ``/tmp`` as the only writable place (and working directory); no
  ``/dev``, nothing of the repository or ``$HOME``;
* no root: as root the runner gives each program a fresh unprivileged uid of its own (``setpriv``
  inside the sandbox, all capabilities and the bounding set dropped, no-new-privs); as any other
  user, a user namespace where it is ``nobody`` with no capabilities and no further namespaces;
* limits (``prlimit``, set inside the sandbox so they count the sandbox alone): processes, address
  space, CPU seconds, written-file size, no core files; and a wall-clock deadline after which the
  whole sandbox is killed.

Everything it starts dies with it: when the program exits, or is killed at the deadline, the
sandbox's PID 1 goes, and the kernel kills every process left in the namespace (a ``setsid()``
grandchild included); ``--die-with-parent`` does the same if the runner itself dies.

Without ``bwrap`` nothing runs: :class:`SandboxError` says to ``apt-get install bubblewrap``.
Standard library only: lm-eval's environment imports it (``evals/tasks/humaneval_packaged``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from evals.sandbox_process import Finished, run_bwrap

INSTALL_HINT = "apt-get install bubblewrap"
FILES_DIR = "/sandbox"  # read-only: the files handed to the program
WORK_DIR = "/tmp"  # the only writable place, a tmpfs; the working directory
SHARED_DIR = "/shared"  # a host folder bound read-write, only when the caller asks for one
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": WORK_DIR, "TMPDIR": WORK_DIR}
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SYSTEM_FILES = ("/etc/ld.so.cache",)
#: As root, each program runs as a fresh uid from this block: above systemd's container range
#: (524288-1879048191) and below its foreign/overflow uids, so no account owns it and the
#: process limit counts this program's processes alone.
SANDBOX_UIDS = range(0x71000000, 0x7F000000)
NOBODY = 65534  # the uid and gid inside a user namespace, when the runner is not root


class SandboxError(RuntimeError):
    """The sandbox cannot run here; the message names the fix."""


@dataclass(frozen=True)
class Limits:
    """What one program may use. Memory is per process, so the worst case is processes x it."""

    wall_s: float = 5.0
    cpu_s: int = 5
    memory_bytes: int = 1024**3
    file_bytes: int = 16 * 1024**2
    processes: int = 8
    tmp_bytes: int = 64 * 1024**2


@dataclass(frozen=True)
class Tools:
    bwrap: str
    prlimit: str
    setpriv: str | None  # set only when the runner is root: it drops to a fresh uid


def find_tools(as_root: bool) -> Tools:
    """The host's bwrap, prlimit and (as root) setpriv, or a SandboxError naming the package."""
    bwrap = _tool("bwrap", INSTALL_HINT)
    prlimit = _tool("prlimit", "apt-get install util-linux")
    setpriv = _tool("setpriv", "apt-get install util-linux") if as_root else None
    return Tools(bwrap, prlimit, setpriv)


def _tool(name: str, install: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SandboxError(
            f"model-written code runs only inside a bubblewrap sandbox, and `{name}` is not "
            f"installed: {install}"
        )
    return path


def interpreter() -> Path:
    """This Python's own interpreter (not a venv's link to it), run by its real path."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return Path(os.path.realpath(sys.base_prefix)) / "bin" / version


def system_args() -> list[str]:
    """Read-only system folders (merged-/usr links recreated as links), the loader's cache, and
    the interpreter's prefix when it lives outside them (pyenv, uv, conda)."""
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for path in SYSTEM_FILES:
        args += [*open_parents(path), "--ro-bind-try", path, path]
    prefix = os.path.realpath(sys.base_prefix)
    if not any(prefix == path or prefix.startswith(f"{path}/") for path in SYSTEM_DIRS):
        args += [*open_parents(prefix), "--ro-bind", prefix, prefix]
    return args


def open_parents(path: str) -> list[str]:
    """Create a mount point's parents world-readable: bwrap would copy the host's modes, and a
    prefix under /root (mode 0700) would then be out of reach for the sandbox's uid."""
    parents = [str(parent) for parent in reversed(Path(path).parents) if str(parent) != "/"]
    return [arg for parent in parents for arg in ("--perms", "0755", "--dir", parent)]


def namespace_args(as_root: bool) -> list[str]:
    """Every namespace but the user one as root (see capability_args); all of them otherwise."""
    args = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    if as_root:
        return args
    return [*args, "--unshare-user", "--disable-userns", "--uid", str(NOBODY), "--gid", str(NOBODY)]


def capability_args(as_root: bool) -> list[str]:
    """None at all; as root, only the three setpriv needs to drop to a fresh uid (a user
    namespace would map the program to uid 0 outside, where the kernel does not enforce the
    process limit)."""
    if not as_root:
        return ["--cap-drop", "ALL"]
    keep = ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")
    return ["--cap-drop", "ALL", *[arg for cap in keep for arg in ("--cap-add", cap)]]


def drop_privileges(setpriv: str | None) -> list[str]:
    """As root: become a fresh unprivileged uid, no groups, no capabilities, no new privileges."""
    if setpriv is None:
        return []
    uid = secrets.choice(SANDBOX_UIDS)
    return [
        setpriv,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


def limit_args(prlimit: str, limits: Limits) -> list[str]:
    return [
        prlimit,
        f"--nproc={limits.processes}",
        f"--as={limits.memory_bytes}",
        f"--cpu={limits.cpu_s}",
        f"--fsize={limits.file_bytes}",
        "--core=0",
        "--",
    ]


def filesystem_args(files: Mapping[str, int], limits: Limits, shared: Path | None) -> list[str]:
    """A fresh /proc, the tmpfs, the program's files (copied from open descriptors), and the
    rest read-only."""
    args = ["--proc", "/proc"]
    args += ["--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", WORK_DIR]
    if files:
        args += ["--perms", "0755", "--dir", FILES_DIR]
    for name, fd in files.items():
        args += ["--perms", "0444", "--ro-bind-data", str(fd), f"{FILES_DIR}/{name}"]
    if shared is not None:
        args += ["--bind", str(shared), SHARED_DIR]
    return [*args, "--remount-ro", "/"]  # the root itself: its own tmpfs, unbounded otherwise


def environment_args() -> list[str]:
    args = ["--clearenv", "--chdir", WORK_DIR]
    for name, value in ENV.items():
        args += ["--setenv", name, value]
    return args


def bwrap_argv(
    tools: Tools,
    files: Mapping[str, int],
    python_args: Sequence[str],
    limits: Limits,
    shared: Path | None = None,
) -> list[str]:
    """The whole command line: bwrap's options, then [setpriv ... --] prlimit ... -- python."""
    as_root = tools.setpriv is not None
    return [
        tools.bwrap,
        *namespace_args(as_root),
        *capability_args(as_root),
        *system_args(),
        *filesystem_args(files, limits, shared),
        *environment_args(),
        "--",
        *drop_privileges(tools.setpriv),
        *limit_args(tools.prlimit, limits),
        str(interpreter()),
        "-I",
        "-B",
        *python_args,
    ]


def run_python(
    script: str,
    *,
    files: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    stdin: bytes = b"",
    limits: Limits | None = None,
    shared: Path | None = None,
) -> Finished:
    """Run ``python -I -c script args...`` confined; ``files`` appear read-only under /sandbox.

    ``stdin`` is the program's standard input (at most a pipe's buffer, 64 KiB). ``shared`` is a
    host folder bound read-write at /shared: for tests that watch what outlives a program.
    """
    limits = limits or Limits()
    tools = find_tools(os.geteuid() == 0)
    with contextlib.ExitStack() as stack:
        fds = {name: _data_fd(stack, text) for name, text in (files or {}).items()}
        argv = bwrap_argv(tools, fds, ["-c", script, *args], limits, shared)
        return run_bwrap(argv, stdin, list(fds.values()), limits.wall_s)


def _data_fd(stack: contextlib.ExitStack, text: str) -> int:
    """An open, rewound, in-memory file holding ``text``, for bwrap to copy in."""
    fd = os.memfd_create("sandbox-file")
    stack.callback(os.close, fd)
    os.write(fd, text.encode("utf-8"))
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def require_sandbox() -> None:
    """Raise SandboxError (with bwrap's own words) unless a trivial program runs confined."""
    finished = run_python("print('ok')")
    if finished.returncode != 0 or finished.stdout.strip() != b"ok":
        detail = finished.stderr.decode("utf-8", "replace").strip()[-500:] or "no output"
        raise SandboxError(f"bubblewrap could not start a sandbox here: {detail}")
