"""`--answer-key FILE`: the emulated model knows the answers to a few-shot question set, so an
eval scores near 1 against it and a fault that changes its answers shows as a drop.

FILE is JSONL with `question` and `answer` fields (as evals/tasks/readiness_basics ships); a
prompt whose last `Question: ...` line is one of them is answered with its answer."""

from __future__ import annotations

import json
from pathlib import Path

MARK = "Question:"


class AnswerKey:
    def __init__(self, path: Path | None = None) -> None:
        self.answers: dict[str, str] = {}
        if path is not None:
            for line in path.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.answers[str(row["question"]).strip()] = str(row["answer"])

    def words(self, prompt: str) -> tuple[str, ...]:
        """The answer as the one word said, or () for a prompt the key does not know."""
        if not self.answers or MARK not in prompt:
            return ()
        question = prompt.rsplit(MARK, 1)[1].split("\n", 1)[0].strip()
        answer = self.answers.get(question)
        return (f" {answer}",) if answer is not None else ()
