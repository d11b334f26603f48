"""What every check is handed: the client, the engine, the spec's limits, and the token (if
auth is on); and the request shapes several checks share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evals.spec_tests.client import Client, Json
from evals.spec_tests.verdict import CheckFailed

COMPLETIONS = "/v1/completions"
CHAT = "/v1/chat/completions"
PROMPT = "The three primary colors are"
MESSAGES = [{"role": "user", "content": "Name three primary colors."}]


@dataclass(frozen=True)
class Suite:
    client: Client
    engine: str  # lower case: "llama_cpp", "vllm", ...
    max_context: int
    max_concurrency: int
    token: str | None  # the bearer token we were given; None: auth is off
    # the share of answers at max_concurrency that must be those given alone (the spec's)
    answers_under_load_min_share: float = 1.0

    def eos_ignored(self, max_tokens: int) -> dict[str, object]:
        """Request fields that make the server generate exactly `max_tokens`."""
        extra: dict[str, object] = {"ignore_eos": True, "max_tokens": max_tokens}
        if self.engine == "vllm":
            extra["min_tokens"] = max_tokens
        return extra

    def complete(self, **fields: object) -> Json:
        return self.client.post(COMPLETIONS, {"prompt": PROMPT, "max_tokens": 16, **fields})

    def chat(self, **fields: object) -> Json:
        return self.client.post(CHAT, {"messages": MESSAGES, "max_tokens": 16, **fields})


def first_choice(answer: Json) -> dict[str, Any]:
    choices = answer.get("choices")
    if not isinstance(choices, list) or not choices:
        raise CheckFailed("the answer has no choices", {"answer": answer})
    choice: dict[str, Any] = choices[0]
    return choice


def text_of(answer: Json) -> str:
    choice = first_choice(answer)
    text = choice["message"].get("content") if "message" in choice else choice.get("text")
    if not isinstance(text, str):
        raise CheckFailed("the first choice has no text", {"choice": choice})
    return text


def usage_of(answer: Json) -> dict[str, int]:
    usage = answer.get("usage")
    if not isinstance(usage, dict) or not isinstance(usage.get("completion_tokens"), int):
        raise CheckFailed("the answer has no usage with completion_tokens", {"usage": usage})
    return usage
