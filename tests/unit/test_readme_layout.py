"""The layout page (docs/layout.md, linked from the README) names everything a newcomer finds in
the tree; the README's contents list every section it has."""

from __future__ import annotations

import subprocess

from tests.helpers import REPO_ROOT


def layout_section() -> str:
    return (REPO_ROOT / "docs" / "layout.md").read_text()


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


def test_the_readmes_contents_list_its_sections_and_its_links_resolve() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    contents = readme.split("\n## Contents\n", 1)[1].split("\n## ", 1)[0]
    headings = [
        line.lstrip("#").strip() for line in readme.splitlines() if line[:3] in ("## ", "###")
    ]
    listed = [h for h in headings if h != "Contents"]
    missing = [h for h in listed if f"[{h}](#" not in contents]
    assert not missing, f"the README's contents leave out {missing}"
    pages = [link.split(")")[0] for link in readme.split("](docs/")[1:]]
    assert pages and all((REPO_ROOT / "docs" / page).exists() for page in pages), pages
