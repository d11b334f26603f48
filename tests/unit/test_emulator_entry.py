"""`python -m benchmarking.emulator` from a Python that lacks its packages says which to use."""

from __future__ import annotations

import subprocess
import sys

from benchmarking.emulator.__main__ import BENCHMARKS_PYTHON, missing_requirement
from tests.helpers import REPO_ROOT


def test_a_python_without_the_emulators_packages_is_told_which_python_to_use() -> None:
    line = missing_requirement(("orjson", "no_such_package_for_the_emulator"))
    assert line is not None and "\n" not in line
    assert "needs no_such_package_for_the_emulator," in line and "orjson" not in line.split(",")[0]
    assert f"{BENCHMARKS_PYTHON} -m benchmarking.emulator" in line


def test_a_python_with_the_packages_runs_the_emulator() -> None:
    assert missing_requirement() is None


def test_the_entry_exits_2_with_one_line_and_no_traceback() -> None:
    """The runner's own environment lacks orjson: simulated by hiding it from the import system."""
    hide = (
        "import sys, runpy; import importlib.util as u; real = u.find_spec; "
        "u.find_spec = lambda n, *a: None if n == 'orjson' else real(n, *a); "
        "sys.argv = ['x', '--help']; runpy.run_module('benchmarking.emulator', run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", hide], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: the emulator needs orjson, which ")
