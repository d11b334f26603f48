"""The command line on typer (issue 22, item 11): the help in panels at 80 columns with the
examples and exit codes at the bottom, --help-workflow-args, shell completion, and click's usage
errors as the runner's one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, CliResult
from workflows.dispatch import workflow_names
from workflows.errors import UsageError
from workflows.options import PANELS, options, parse

Run = Callable[..., CliResult]
CPU = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu"]
NOWHERE = ["--server-url", "http://127.0.0.1:9"]  # never contacted: the checks come first


@pytest.fixture
def help_text(run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli("--help")
    assert result.code == 0 and "Traceback" not in result.err
    return result.out


def panel_blocks(text: str) -> dict[str, str]:
    """Each panel's title and the lines inside its box."""
    blocks: dict[str, str] = {}
    title = None
    for line in text.splitlines():
        if line.startswith("╭─ "):
            title = line.removeprefix("╭─ ").split(" ─")[0]
            blocks[title] = ""
        elif title is not None:
            blocks[title] += line + "\n"
            if line.startswith("╰"):
                title = None
    return blocks


def test_the_help_shows_the_panels_in_order_each_option_in_its_own(help_text: str) -> None:
    blocks = panel_blocks(help_text)
    assert list(blocks) == [title for title, _ in PANELS]
    for title, names in PANELS:
        for option in options(workflow_names()):
            flag = option.flags[-1]
            inside = f"│ {flag} " in blocks[title]
            assert inside == (option.name in names), (flag, title)
    assert "--install-completion" in blocks["Advanced"], "completion is not a common option"


def test_the_help_fits_80_columns_with_examples_and_exit_codes_last(help_text: str) -> None:
    lines = help_text.splitlines()
    assert max(len(line) for line in lines) <= 80
    last_box = max(i for i, line in enumerate(lines) if line.startswith("╰"))
    tail = " ".join(" ".join(lines[last_box + 1 :]).split())
    assert tail.startswith("Examples $ python3 run.py --list-models $ python3 run.py --model")
    assert "exit codes: 0 ok" in tail and tail.endswith("130 interrupted")


def test_the_help_says_what_no_auth_means_with_a_server_url(help_text: str) -> None:
    text = " ".join(help_text.replace("│", " ").split())
    assert "with --server-url, send no token (even with JWT_SECRET or API_KEY set)" in text
    assert "--help-workflow-args W lists the keys W takes" in text


@pytest.mark.parametrize(
    "workflow", ["server", "benchmarks", "stress_tests", "evals", "spec_tests"]
)
def test_help_workflow_args_lists_exactly_the_keys_the_workflow_accepts(
    run_cli: Run, workflow: str
) -> None:
    listed = run_cli("--help-workflow-args", workflow)
    assert listed.code == 0, listed.err
    keys = listed.out.split("KEY one of: ")[1].strip().split(", ")
    refused = run_cli(*CPU, "--workflow", workflow, *NOWHERE, "--workflow-args", "zzz=1")
    assert refused.code == 2
    assert keys == refused.err.split("it accepts: ")[1].strip().split(", ")


def test_help_workflow_args_of_the_release_names_each_child_s_keys(run_cli: Run) -> None:
    result = run_cli("--help-workflow-args", "release")
    assert result.code == 0
    lines = result.out.splitlines()
    assert "stress" in lines[0] and "ready_timeout" in lines[0]
    children = {line.split(".KEY")[0].strip() for line in lines if ".KEY, KEY one of:" in line}
    assert children == {"evals", "benchmarks", "spec_tests", "stress_tests"}
    assert any(line.startswith("  benchmarks.KEY") and "concurrency" in line for line in lines)


def test_help_workflow_args_of_a_mistyped_workflow_names_the_nearest(run_cli: Run) -> None:
    result = run_cli("--help-workflow-args", "benchmark")
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    assert "unknown workflow 'benchmark' (did you mean benchmarks?)" in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--verbos"], "No such option: --verbos (did you mean --verbose?)"),
        (["--model"], "Option '--model' requires an argument"),
        (["--model", "--device", "cpu"], "Option '--model' requires an argument"),
        (["--service-port", "x"], "Invalid value for '--service-port': 'x' is not a valid integer"),
        (["--model", "x", "stray"], "Got unexpected extra argument (stray)"),
    ],
)
def test_click_usage_errors_are_one_line_errors(
    run_cli: Run, args: list[str], message: str
) -> None:
    result = run_cli(*args)
    assert result.code == 2 and result.out == ""
    assert result.err.strip() == f"error: {message} (see `python3 run.py --help`)"


def test_many_valued_options_take_several_words_and_are_none_when_absent() -> None:
    names = workflow_names()
    merged = parse(["--workflow", "reports", "--merge", "a.json", "b.json", "-it"], names)
    assert merged is not None
    assert merged["merge"] == [Path("a.json"), Path("b.json")] and merged["interactive"]
    assert merged["ingest"] is None and merged["model"] is None and merged["verbose"] is False
    stray = ["--merge", "a.json", "--model", "m", "b.json"]
    with pytest.raises(UsageError, match=r"unexpected extra argument \(b.json\)"):
        parse(stray, names)


def test_the_shell_completes_option_names() -> None:
    """What the script of `run.py --show-completion bash` asks the runner for a completion."""
    env = dict(os.environ, COMP_WORDS="run.py --workflow-a", COMP_CWORD="1")
    env["_RUN.PY_COMPLETE"] = "complete_bash"
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "run.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["--workflow-args"]
