"""Sampling parameters honoured, not only accepted: different seeds differ, penalties cut
repetition, logit_bias bans a token, top_k / top_p / min_p at their narrowest give the greedy
answer, max_completion_tokens counts; and completions' echo, prompt logprobs and list prompts."""

from __future__ import annotations

from typing import Any

from evals.spec_tests.checks_sampling import STORY
from evals.spec_tests.client import Json
from evals.spec_tests.suite import (
    CHAT,
    COMPLETIONS,
    MESSAGES,
    Suite,
    first_choice,
    text_of,
    usage_of,
)
from evals.spec_tests.verdict import CheckFailed, expect

Evidence = dict[str, object]
SEEDS = (1, 2, 3)
# SmolLM2 at temperature 0 repeats "dog" 16 times; with either penalty at 2, 3 words repeat
REPEATED = "Repeat after me: dog dog dog dog dog dog dog dog"
PENALTY = 2.0
BANNED = -100
NARROWEST = {"top_k": 1, "top_p": 0.01, "min_p": 1.0}  # each keeps only the likeliest token
COMPLETION_TOKENS = 12
ECHOED = "The capital of France is"
LIST_PROMPTS = ["The sky is", "Grass is"]


def seed_varies(suite: Suite) -> Evidence:
    """At temperature 1, seeds 1, 2 and 3 do not all give the same text (seed_repeatable shows
    the same seed gives the same)."""
    texts = {seed: _story(suite, temperature=1.0, seed=seed) for seed in SEEDS}
    expect(len(set(texts.values())) > 1, f"seeds {SEEDS} gave one text", {"texts": texts})
    return {"texts": texts}


def _story(suite: Suite, **fields: object) -> str:
    return text_of(suite.complete(prompt=STORY, max_tokens=COMPLETION_TOKENS, **fields))


def penalties(suite: Suite) -> Evidence:
    """A prompt of one word repeated: at temperature 0 the answer repeats words; a presence or
    a frequency penalty of 2 makes it repeat fewer."""
    plain = _repeats_of(suite)
    expect(plain[0] > 0, f"without a penalty the answer repeats no word: {plain[1]!r}")
    found = {"none": plain}
    for name in ("presence_penalty", "frequency_penalty"):
        found[name] = _repeats_of(suite, **{name: PENALTY})
    worse = [
        name for name in ("presence_penalty", "frequency_penalty") if found[name][0] >= plain[0]
    ]
    expect(not worse, f"{' and '.join(worse)} {PENALTY} did not cut repetition", {"found": found})
    return {"repeated_words": found}


def _repeats_of(suite: Suite, **fields: object) -> tuple[int, str]:
    """(words that repeat an earlier word, the text) of the answer to REPEATED."""
    text = text_of(suite.complete(prompt=REPEATED, max_tokens=16, temperature=0, **fields))
    words = text.lower().split()
    return len(words) - len(set(words)), text


def logit_bias(suite: Suite) -> Evidence:
    """The first token of the temperature-0 answer, given a bias of -100, never appears."""
    tokens = _chat_tokens(suite)
    token = tokens[0]
    token_id = token_id_of(suite, token)
    biased = _chat_tokens(suite, logit_bias={str(token_id): BANNED})
    said = [t["token"] for t in biased]
    found = {"banned": token["token"], "id": token_id, "tokens": said}
    expect(token_id not in [t.get("id") for t in biased], "the banned token id appeared", found)
    expect(token["token"] not in said, f"the banned token {token['token']!r} appeared", found)
    return found


def _chat_tokens(suite: Suite, **fields: object) -> list[dict[str, Any]]:
    answer = suite.chat(max_tokens=8, temperature=0, logprobs=True, **fields)
    content = (first_choice(answer).get("logprobs") or {}).get("content")
    if not isinstance(content, list) or not content:
        raise CheckFailed("no logprobs.content to read the tokens from", {"answer": answer})
    return content


def token_id_of(suite: Suite, token: dict[str, Any]) -> int:
    """The token's id: as the logprobs entry gives it (llama.cpp), else from /tokenize (vLLM's
    `prompt`, without the BOS it adds by default; llama.cpp's `content`)."""
    if isinstance(token.get("id"), int):
        return int(token["id"])
    text = token["token"]
    asked = {"prompt": text, "content": text, "add_special_tokens": False}
    reply = suite.client.send("/tokenize", suite.client.encoded(asked))
    ids = reply.json().get("tokens") if reply.ok else None
    if not isinstance(ids, list) or len(ids) != 1:
        raise CheckFailed(
            f"no single token id for {token['token']!r}: /tokenize said {reply.text[:120]}"
        )
    return int(ids[0])


def sampling_filters(suite: Suite) -> Evidence:
    """top_k 1, top_p 0.01 and min_p 1 at temperature 1 each give the temperature-0 text."""
    greedy = _story(suite, temperature=0)
    texts = {
        name: _story(suite, temperature=1.0, seed=SEEDS[0], **{name: value})
        for name, value in NARROWEST.items()
    }
    differ = {name: text for name, text in texts.items() if text != greedy}
    expect(
        not differ,
        f"{', '.join(differ)} at their narrowest did not give the greedy text",
        {"greedy": greedy, "texts": texts},
    )
    return {"greedy": greedy, "sent": NARROWEST}


def max_completion_tokens(suite: Suite) -> Evidence:
    """Chat's max_completion_tokens (not max_tokens) with EOS ignored: exactly that many."""
    fields = {**suite.eos_ignored(COMPLETION_TOKENS), "max_completion_tokens": COMPLETION_TOKENS}
    del fields["max_tokens"]
    usage = usage_of(suite.client.post(CHAT, {"messages": MESSAGES, "temperature": 0, **fields}))
    count = usage["completion_tokens"]
    expect(
        count == COMPLETION_TOKENS, f"max_completion_tokens {COMPLETION_TOKENS} gave {count} tokens"
    )
    return {"sent": fields, "completion_tokens": count}


def echo(suite: Suite) -> Evidence:
    """Completions with echo: the text is the prompt, then the answer."""
    text = text_of(suite.complete(prompt=ECHOED, max_tokens=4, temperature=0, echo=True))
    expect(text.startswith(ECHOED), f"echo: the text does not start with the prompt: {text!r}")
    return {"text": text}


def prompt_logprobs(suite: Suite) -> Evidence:
    """What loglikelihood evals send (echo, logprobs 1, one token): a logprob for each prompt
    token, in OpenAI's completions shape, then the answer's token."""
    answer = suite.complete(prompt=ECHOED, max_tokens=1, temperature=0, echo=True, logprobs=1)
    logprobs = _legacy_logprobs(answer)
    prompt_tokens = usage_of(answer).get("prompt_tokens", 0)
    values = logprobs["token_logprobs"]
    found = {"tokens": logprobs["tokens"], "token_logprobs": values, "prompt_tokens": prompt_tokens}
    expect(
        len(values) >= prompt_tokens + 1,
        f"{len(values)} logprobs for {prompt_tokens} prompt tokens and 1 answered",
        found,
    )
    numbers = [v for v in values[1:] if isinstance(v, int | float)]
    expect(len(numbers) == len(values) - 1, "a token after the first has no logprob", found)
    return found


def _legacy_logprobs(answer: Json) -> dict[str, list[Any]]:
    logprobs = first_choice(answer).get("logprobs")
    lists = ("tokens", "token_logprobs")
    if not isinstance(logprobs, dict) or not all(isinstance(logprobs.get(k), list) for k in lists):
        raise CheckFailed(
            "choices[0].logprobs has no tokens and token_logprobs lists", {"logprobs": logprobs}
        )
    return logprobs


def list_prompts(suite: Suite) -> Evidence:
    """Completions with a list of two prompts: a choice for each, indexed 0 and 1."""
    answer = suite.client.post(
        COMPLETIONS, {"prompt": LIST_PROMPTS, "max_tokens": 4, "temperature": 0}
    )
    choices = answer.get("choices") or []
    indexes = sorted(choice.get("index") for choice in choices)
    expect(indexes == [0, 1], f"two prompts gave choices indexed {indexes}", {"answer": answer})
    texts = [choice.get("text") for choice in sorted(choices, key=lambda c: c["index"])]
    expect(all(isinstance(text, str) and text for text in texts), f"a choice has no text: {texts}")
    return {"texts": texts}
