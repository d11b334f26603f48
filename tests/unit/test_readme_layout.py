"""The README's layout section names everything a newcomer finds in the tree."""

from __future__ import annotations

import subprocess

from tests.helpers import REPO_ROOT


def layout_section() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("\n## Layout\n", 1)[1]
    return section.split("\n## ", 1)[0]


def tracked_top_level() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=30
    ).stdout.split()
    return {path.split("/")[0] for path in listed} - {".gitignore", "README.md", "uv.lock"}


def test_every_top_level_entry_is_in_the_layout() -> None:
    layout = layout_section()
    missing = sorted(entry for entry in tracked_top_level() if entry not in layout)
    assert not missing, f"README layout does not mention {missing}"


def test_every_workflows_module_and_subpackage_is_in_the_layout() -> None:
    layout = layout_section()
    package = REPO_ROOT / "workflows"
    modules = {p.name for p in package.glob("*.py")} - {"__init__.py"}
    subpackages = {f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").exists()}
    missing = sorted(name for name in modules | subpackages if name not in layout)
    assert not missing, f"README layout does not mention workflows/{missing}"


def test_every_script_is_in_the_layout() -> None:
    layout = layout_section()
    scripts = {p.name for p in (REPO_ROOT / "scripts").glob("*.py")}
    folders = {f"{p.name}/" for p in (REPO_ROOT / "scripts").iterdir() if p.is_dir()}
    missing = sorted(name for name in scripts | folders - {"__pycache__/"} if name not in layout)
    assert not missing, f"README layout does not mention scripts/{missing}"
