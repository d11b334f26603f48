"""The runner's environment has no load-generator packages; its modules must not need them."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT

BLOCK_AND_IMPORT = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in {'orjson', 'uvloop', 'tokenizers'}:
            raise ModuleNotFoundError(f'{name} is not in the runner environment')
sys.meta_path.insert(0, Block())
import workflows.cli, workflows.dispatch, workflows.workflow_load
print('ok')
"""

TOOLS_IMPORT = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in {'orjson', 'uvloop', 'requests'}:
            raise ModuleNotFoundError(f'{name} is not in the tool environments')
sys.meta_path.insert(0, Block())
import benchmarking.tools.__main__
print('ok')
"""


def test_runner_imports_without_benchmark_only_packages() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_AND_IMPORT],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_tool_drivers_import_without_the_native_generator_packages() -> None:
    result = subprocess.run(
        [sys.executable, "-c", TOOLS_IMPORT],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "ok", result.stderr
