"""Where things are in this checkout: the one definition of the repository's folders."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VENVS_DIR = REPO_ROOT / ".workflow_venvs"
LOGS_ROOT = REPO_ROOT / "workflow_logs"
MODEL_SPECS_DIR = REPO_ROOT / "model_specs"
DOCKER_DIR = REPO_ROOT / "docker"
SCRIPTS_DIR = REPO_ROOT / "scripts"
