"""Run a test program in the sandbox and say whether its checks ran to the end.

The exit status proves nothing: ``sys.exit(0)`` or ``os._exit(0)`` before the checks exits 0.
So a fixed launcher runs the program, and only after the program has run to its last line (the
check call) writes a marker: a random token drawn for this one run and handed to the launcher
on its standard input, which it reads and closes before any of the program runs. The token is
in no prompt, no file and no argument, so an answer cannot print it without the checks having
passed. (An answer that inspects the interpreter's own memory, frames or objects, could still
find it; no scheme inside one Python process can hide from that.)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from evals.sandbox import FILES_DIR, Limits, run_python
from evals.sandbox_process import Finished

PROGRAM = "program.py"
#: The launcher: take the token, close stdin, run the program as ``__main__`` (its own module,
#: so nothing of the launcher is in its globals), and only if that returns, write the token on a
#: copy of stdout taken beforehand and leave at once (no atexit handler, no thread, runs after).
LAUNCHER = """\
import os, sys, types

def main(path):
    token = os.read(0, 256)
    os.close(0)
    out = os.dup(1)
    with open(path, encoding="utf-8") as handle:
        code = compile(handle.read(), path, "exec")
    module = types.ModuleType("__main__")
    module.__file__ = path
    sys.modules["__main__"] = module
    exec(code, module.__dict__)
    os.write(out, token)
    os._exit(0)

main(sys.argv[1])
"""


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    reason: str


def run_checks(program: str, limits: Limits | None = None) -> CheckResult:
    """Run ``program`` confined; it passes only if the launcher wrote this run's token."""
    token = secrets.token_hex(16)
    finished = run_python(
        LAUNCHER,
        files={PROGRAM: program},
        args=[f"{FILES_DIR}/{PROGRAM}"],
        stdin=f"{token}\n".encode(),
        limits=limits,
    )
    return judge(finished, token, (limits or Limits()).wall_s)


def judge(finished: Finished, token: str, wall_s: float) -> CheckResult:
    if finished.timed_out:
        return CheckResult(False, f"killed at the {wall_s:g} s deadline")
    if token.encode() in finished.stdout.splitlines() and finished.returncode == 0:
        return CheckResult(True, "its checks ran to the end")
    return CheckResult(False, f"exited {finished.returncode} {_before_the_end(finished)}")


def _before_the_end(finished: Finished) -> str:
    lines = finished.stderr.decode("utf-8", "replace").strip().splitlines()
    return f"before its checks ended: {lines[-1][:200]}" if lines else "before its checks ended"
