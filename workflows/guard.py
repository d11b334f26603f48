"""Run one command so that it, and everything it starts, ends when the runner ends.

    python -I workflows/guard.py RUNNER_PID GRACE_SECONDS -- ARGV...

The runner starts this file (standard library only) as the leader of a new process group; the
command and its descendants (an installer's builds, a server's workers) stay in that group.
The kernel sends this process SIGTERM when the runner dies, even by SIGKILL (parent-death
signal); it then terminates the whole group, and kills it after the grace period. The command's
exit status is passed on: a command killed by signal N kills this process with N too.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from types import FrameType

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


def main(argv: list[str]) -> int:
    runner_pid, grace, separator, *command = argv
    if separator != "--" or not command:
        print("usage: guard.py RUNNER_PID GRACE -- ARGV...", file=sys.stderr)
        return 2
    die_with_parent()
    if os.getppid() != int(runner_pid):  # the runner died before the line above took effect
        return 128 + signal.SIGTERM

    def on_stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        stop_group(float(grace))

    for signum in STOP_SIGNALS:
        signal.signal(signum, on_stop)
    try:
        child = subprocess.Popen(command)
    except OSError as error:
        print(f"cannot start {command[0]}: {error}", file=sys.stderr)
        return 127
    return pass_on(child.wait())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
