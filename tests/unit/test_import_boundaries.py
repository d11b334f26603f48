"""Each environment holds only what it needs; the modules it imports must not need more."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT

IMPORT_WITHOUT = """
import importlib.abc, sys
blocked = set(sys.argv[1].split(','))
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in blocked:
            raise ModuleNotFoundError(f'{name} is not in this environment')
sys.meta_path.insert(0, Block())
for module in sys.argv[2:]:
    __import__(module)
print('ok')
"""


def imports_without(blocked: set[str], *modules: str) -> subprocess.CompletedProcess[str]:
    """Import `modules` in a fresh interpreter where the `blocked` packages cannot be found."""
    return subprocess.run(
        [sys.executable, "-c", IMPORT_WITHOUT, ",".join(sorted(blocked)), *modules],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_runner_imports_without_benchmark_only_packages() -> None:
    result = imports_without(
        {"orjson", "uvloop", "tokenizers"},
        "workflows.cli",
        "workflows.dispatch",
        "workflows.workflow_load",
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_tool_drivers_import_without_the_native_generator_packages() -> None:
    result = imports_without({"orjson", "uvloop", "requests"}, "benchmarking.tools.__main__")
    assert result.stdout.strip() == "ok", result.stderr


def test_only_the_metrics_scraper_needs_the_prometheus_parser() -> None:
    """Every generator's point document and the scraper's parent side need no third-party
    package: the parser is the scraper process's alone."""
    blocked = {"prometheus_client", "orjson", "uvloop", "requests", "rich", "tokenizers"}
    result = imports_without(
        blocked, "benchmarking.point_document", "benchmarking.telemetry.session"
    )
    assert result.stdout.strip() == "ok", result.stderr
    scraper = imports_without({"prometheus_client"}, "benchmarking.telemetry.__main__")
    assert "prometheus_client is not in this environment" in scraper.stderr


def test_the_results_module_needs_only_the_standard_library() -> None:
    third_party = {"orjson", "uvloop", "requests", "rich", "tokenizers", "yaml", "docker"}
    result = imports_without(third_party | {"workflows", "benchmarking"}, "reports.results")
    assert result.stdout.strip() == "ok", result.stderr


HEAVY_FOR_STARTUP = (
    "pandas",
    "numpy",
    "plotly",
    "requests",
    "jinja2",
    "docker",
    "huggingface_hub",
    "sqlalchemy",
    "alembic",
    "pydantic",  # typer 0.29 builds a pydantic validator per option at each parse (+0.5 s)
)
LOADED_AFTER = """
import io, sys
from contextlib import redirect_stdout
from workflows.cli import main
with redirect_stdout(io.StringIO()):
    main(sys.argv[2:])
heavy = set(sys.argv[1].split(',')) & {name.split('.')[0] for name in sys.modules}
print(','.join(sorted(heavy)) or 'none')
"""


@pytest.mark.parametrize("argv", [["--help"], ["--list-models"], ["--list-models", "--json"]])
def test_help_and_list_models_load_no_heavy_package(argv: list[str]) -> None:
    """Start-up stays well under a second: the workflows' own packages load only for a run."""
    result = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER, ",".join(HEAVY_FOR_STARTUP), *argv],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1] == "none", result.stderr


def test_benchmarking_never_imports_the_runner() -> None:
    """The dependency runs one way: `workflows` drives `benchmarking`, never the reverse, so
    the load generator runs alone (`python -m benchmarking`) in an environment of its own."""
    package = REPO_ROOT / "benchmarking"
    modules = sorted(
        ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
        for path in package.rglob("*.py")
        if "__pycache__" not in path.parts
    )
    result = imports_without({"workflows"}, *modules)
    assert result.stdout.strip() == "ok", result.stderr


HEAVY_FOR_A_RUN = ("pandas", "numpy", "plotly", "jinja2", "sqlalchemy", "alembic")


def test_a_run_that_renders_no_report_loads_no_renderer() -> None:
    """What every run imports before its first line (the steps, the reports-flag check, the
    server workflow) leaves the report renderers to the runs that render."""
    modules = (
        "workflows.steps",
        "workflows.workflow_reports",
        "workflows.workflow_server",
        "workflows.store_commands",  # every run asks it whether a store is configured
    )
    code = (
        f"import sys; [__import__(m) for m in {modules!r}]; "
        f"print(sorted({set(HEAVY_FOR_A_RUN)!r} & {{n.split('.')[0] for n in sys.modules}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
