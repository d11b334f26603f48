"""Run one command so that it, and everything it starts, ends when the runner ends.

    python -I workflows/guard.py RUNNER_PID GRACE_SECONDS [--mask] -- ARGV...

The runner starts this file (standard library only) as the leader of a new process group; the
command and its descendants (an installer's builds, a server's workers) stay in that group.
The kernel sends this process SIGTERM when the runner dies, even by SIGKILL (parent-death
signal); it then terminates the whole group, and kills it after the grace period. The command's
exit status is passed on: a command killed by signal N kills this process with N too.

With --mask the command's output passes through this process, a line at a time, with every
secret the runner sends on stdin (a JSON list) masked (reports/redaction.py): a server's log
never holds a key it printed or was sent. RUNNER_PID 0 (only with --mask): the command outlives
the runner (a server kept running); this process then becomes the command (its pid is the one
to stop) and a process of its own copies the output, until the command's last process ends.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import IO

PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def die_with_parent() -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def stop_group(grace: float) -> None:
    """SIGTERM to the group now (ourselves excepted), SIGKILL to it after `grace` seconds."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.signal(signal.SIGALRM, lambda *_: os.killpg(os.getpgrp(), signal.SIGKILL))
    signal.setitimer(signal.ITIMER_REAL, max(grace, 0.05))
    os.killpg(os.getpgrp(), signal.SIGTERM)


def pass_on(returncode: int) -> int:
    if returncode < 0:
        if -returncode not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(-returncode, signal.SIG_DFL)
        signal.setitimer(signal.ITIMER_REAL, 0)
        os.kill(os.getpid(), -returncode)
    return returncode


def copy_masked(stream: IO[bytes], secrets: list[str]) -> None:
    """The command's output to ours (the log file), a line at a time (a carriage return ends
    one too, so a progress bar shows), each with the secrets masked."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from reports.redaction import redact, register_secret

    for secret in secrets:
        register_secret(secret)
    with open(sys.stdout.fileno(), "w", errors="replace", newline="", closefd=False) as out:
        for line in io.TextIOWrapper(stream, errors="replace", newline=""):
            try:
                out.write(redact(line))
                out.flush()
            except OSError:  # a full disk: the line is lost, never the server (it would block)
                pass


def exec_masked(command: list[str], secrets: list[str]) -> int:
    """This process becomes the command, its output a pipe to a child that copies it masked
    to our output; the copier ignores the signals that stop the command, to copy its last lines."""
    read_end, write_end = os.pipe()
    first = os.fork()
    if first == 0:  # forked twice: the copier is no child of the command, which never waits on it
        if os.fork() == 0:
            for signum in STOP_SIGNALS:
                signal.signal(signum, signal.SIG_IGN)
            os.close(write_end)
            copy_masked(os.fdopen(read_end, "rb"), secrets)
        os._exit(0)
    os.waitpid(first, 0)
    os.close(read_end)
    os.dup2(write_end, sys.stdout.fileno())
    os.dup2(write_end, sys.stderr.fileno())
    os.close(write_end)
    os.dup2(os.open(os.devnull, os.O_RDONLY), sys.stdin.fileno())
    try:
        os.execvp(command[0], command)
    except OSError as error:
        print(f"cannot start {command[0]}: {error}", file=sys.stderr)
    return 127


def main(argv: list[str]) -> int:
    runner_pid, grace, *rest = argv
    mask = rest[:1] == ["--mask"]
    rest = rest[1:] if mask else rest
    command = rest[1:]
    if rest[:1] != ["--"] or not command:
        print("usage: guard.py RUNNER_PID GRACE [--mask] -- ARGV...", file=sys.stderr)
        return 2
    secrets = json.loads(sys.stdin.read() or "[]") if mask else []
    if mask and not int(runner_pid):
        return exec_masked(command, secrets)
    die_with_parent()
    if os.getppid() != int(runner_pid):  # the runner died before the line above took effect
        return 128 + signal.SIGTERM

    def on_stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop_group(float(grace))

    for signum in STOP_SIGNALS:
        signal.signal(signum, on_stop)
    piped = subprocess.PIPE if mask else None
    try:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL if mask else None,
            stdout=piped,
            stderr=subprocess.STDOUT if mask else None,
        )
    except OSError as error:
        print(f"cannot start {command[0]}: {error}", file=sys.stderr)
        return 127
    if child.stdout is not None:
        copy_masked(child.stdout, secrets)
    return pass_on(child.wait())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
