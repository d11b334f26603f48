"""The emulator's OpenAI routes: completions and chat completions, streamed on a timing model.

Token chunks are written by loop callbacks at absolute due times (no drift), and each write is
recorded in perf_counter nanoseconds, so accuracy is judged against the wire, not the schedule.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass

import orjson

from benchmarking.emulator import structured
from benchmarking.emulator.answer_key import AnswerKey
from benchmarking.emulator.broken import answer_broken, drip_forever, echo_auth_error
from benchmarking.emulator.http import Request, Response
from benchmarking.emulator.metrics import ServerMetrics
from benchmarking.emulator.openai_fields import (
    LOADED_TOKEN_TEXT,
    TOKEN_TEXT,
    answer,
    choices,
    parsed_body,
    under_load,
)
from benchmarking.emulator.responses_api import answer_responses
from benchmarking.emulator.sampling import spoken_words
from benchmarking.emulator.timing import RequestRecord, TimingModel, count_tokens

CACHE_BLOCK = 16  # prefix-cache granularity in tokens (words here), as vLLM's blocks
PREFIX_MEMORY = 64  # recent prompts whose prefixes the cache still holds


@dataclass(frozen=True)
class Job:
    """One accepted generation request, waiting for (or holding) a slot."""

    response: Response
    record: RequestRecord
    chat: bool
    max_tokens: int
    include_usage: bool
    created: int
    body: dict[str, object]
    words: tuple[str, ...] = ()  # each token's text (sampling.spoken_words)


class Vocabulary:
    """The emulator's tokenizer routes: one token per word, each distinct word its own id, so
    that prompts made of token ids stay as different as the ids are."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.words: list[str] = []

    def encode(self, text: str) -> list[int]:
        return [self._id(word) for word in text.split()]

    def decode(self, tokens: list[int]) -> str:
        return " ".join(self.word(t) for t in tokens)

    def word(self, token: int) -> str:
        return self.words[token] if 0 <= token < len(self.words) else f"w{token}"

    def _id(self, word: str) -> int:
        if word not in self.ids:
            self.ids[word] = len(self.words)
            self.words.append(word)
        return self.ids[word]


class Emulator:
    def __init__(
        self,
        timing: TimingModel,
        model: str,
        api_key: str | None = None,
        key_on_health: bool = False,
        metrics: ServerMetrics | None = None,
    ) -> None:
        self.timing = timing
        self.metrics = metrics or ServerMetrics("none")
        self.key_on_health = key_on_health  # /health behind the key too, as behind a gateway
        self.model = model
        self.api_key = api_key
        self.records: list[RequestRecord] = []
        self.active = 0
        self.queue: collections.deque[Job] = collections.deque()
        self.served = 0
        self.seen_prompts: set[int] = set()  # a prompt seen again is answered from the cache
        self.recent: collections.deque[list[str]] = collections.deque(maxlen=PREFIX_MEMORY)
        self.vocabulary = Vocabulary()
        self.in_flight: dict[int, RequestRecord] = {}  # generation requests being answered
        self.answers_vary_with_load = False  # a request that shared the server says other words
        self.drip_bytes_per_s = 0.0  # > 0: every answer but /health drips forever at this rate
        self.echo_auth: int | None = None  # generation requests: this status, quoting the key
        self.jitter = timing.jitter_factors()  # each stream's timing factor (--jitter)
        self.ignored_fields: frozenset[str] = (
            frozenset()
        )  # as a server lacking them (--ignore-fields)
        self.refuse_unknown_models = False  # another model than self.model: HTTP 404
        self.record_prompts = False  # keep each request's messages or prompt in its record
        self.answer_key = AnswerKey()  # the answers it knows (--answer-key)
        self.answer_as: str | None = None  # generation answers name this model (--answer-as)

    @property
    def answering(self) -> str:
        """The `model` its generation answers carry: the one it lists, unless --answer-as."""
        return self.answer_as or self.model

    def handle(self, request: Request, response: Response) -> None:
        key_needed = self.api_key and (request.path != "/health" or self.key_on_health)
        if key_needed and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return response.json(401, {"error": {"message": "Invalid API Key", "code": 401}})
        if request.path == "/health":
            return response.json(200, {"status": "ok"})
        if self.drip_bytes_per_s > 0:
            return drip_forever(response, self.drip_bytes_per_s)
        route = (request.method, request.path)
        if route == ("GET", "/v1/models"):
            return response.json(200, {"object": "list", "data": [{"id": self.model}]})
        if route == ("GET", "/metrics") and self.metrics.family != "none":
            text = self.metrics.exposition(self.active, len(self.queue))
            return response.text(200, text, "text/plain; version=0.0.4")
        if route == ("GET", "/props"):  # as llama.cpp describes its chat template
            tools = "tools" not in self.ignored_fields
            caps = {"supports_tools": tools, "supports_tool_calls": tools}
            return response.json(200, {"chat_template_caps": caps})
        if route == ("GET", "/emulator/records"):
            return response.json(200, [r.as_dict() for r in self.records])
        if route == ("DELETE", "/emulator/records"):
            self.records.clear()
            return response.json(200, {"cleared": True})
        if route == ("POST", "/tokenize"):
            body = orjson.loads(request.body or b"{}")
            content = body.get("content") or body.get("prompt") or ""
            return response.json(200, {"tokens": self.vocabulary.encode(content)})
        if route == ("POST", "/detokenize"):
            tokens = orjson.loads(request.body or b"{}").get("tokens") or []
            return response.json(200, {"content": self.vocabulary.decode(tokens)})
        if route in (("POST", "/v1/completions"), ("POST", "/v1/chat/completions")):
            return self._generate(request, response, chat=request.path.endswith("chat/completions"))
        if route == ("POST", "/v1/responses"):
            self.served += 1
            return answer_responses(response, request.body, self.answering, str(self.served))
        return response.json(404, {"error": {"message": f"no route {request.path}"}})

    def _generate(self, request: Request, response: Response, chat: bool) -> None:
        if self.echo_auth:
            authorization = request.headers.get("authorization", "")
            return echo_auth_error(response, self.echo_auth, authorization)
        body, invalid = parsed_body(request.body, chat, self.ignored_fields)
        if body is None:
            error = {"message": invalid, "type": "invalid_request_error", "code": 400}
            return response.json(400, {"error": error})
        if self.refuse_unknown_models and body.get("model", self.model) != self.model:
            message = f"the model {body.get('model')!r} does not exist"
            error = {"message": message, "type": "invalid_request_error", "code": "model_not_found"}
            return response.json(404, {"error": error})
        prompt = _prompt_text(body, chat)
        self.served += 1
        record = RequestRecord(
            request_id=request.headers.get("x-request-id", str(self.served)),
            received_ns=time.perf_counter_ns(),
            prompt_tokens=count_tokens(prompt),
            route=request.path,
        )
        if self.record_prompts:
            record.received = body.get("messages" if chat else "prompt")
        record.cached_tokens = self._cached(prompt, record.prompt_tokens)
        self.records.append(record)
        if self.timing.max_context and record.prompt_tokens > self.timing.max_context:
            return self._too_long(response, record)
        if self._every(self.timing.fail_every):
            record.error = "injected failure"
            return response.json(500, {"error": {"message": "injected failure", "code": 500}})
        if self._every(self.timing.cut_after_headers_every):
            record.error = "cut after the headers"
            return response.cut_after_headers(bool(body.get("stream")))
        max_tokens = int(body.get("max_completion_tokens") or body.get("max_tokens") or 16)
        job = Job(
            response,
            record,
            chat,
            max_tokens,
            bool((body.get("stream_options") or {}).get("include_usage")),
            int(time.time()),
            body,
            self.answer_key.words(prompt)
            or tuple(spoken_words(body, max_tokens, self.vocabulary.word)),
        )
        if body.get("stream") and chat and structured.shaped(body):
            head = {"id": record.request_id, "object": _object(True, True), "model": self.answering}
            return structured.stream(response, head, structured.message(body))
        if not body.get("stream"):
            return self._whole(job)
        if self.timing.stream_reply != "tokens":
            record.error = f"answered as --stream-reply {self.timing.stream_reply}"
            return answer_broken(self.timing.stream_reply, response, self.answering)
        self.queue.append(job)
        self._admit()

    def _too_long(self, response: Response, record: RequestRecord) -> None:
        status = self.timing.overlong_prompt_status
        record.error = f"prompt of {record.prompt_tokens} tokens past the context"
        message = f"{record.error} ({self.timing.max_context} tokens)"
        error = {"message": message, "type": "invalid_request_error", "code": status}
        return response.json(status, {"error": error})

    def _every(self, n: int) -> bool:
        return bool(n) and self.served % n == 0

    def _cached(self, prompt: str, tokens: int) -> int:
        """Tokens of the prompt the cache holds: all of them when it was seen before, else
        the longest prefix it shares with a recent prompt, in whole cache blocks (as vLLM's
        prefix cache keeps them)."""
        key = hash(prompt)
        words = prompt.split()
        shared = max((_common_prefix(words, seen) for seen in self.recent), default=0)
        self.recent.append(words)
        if key in self.seen_prompts:
            return tokens
        self.seen_prompts.add(key)
        return min(shared // CACHE_BLOCK * CACHE_BLOCK, tokens)

    def _admit(self) -> None:
        while self.queue and (not self.timing.slots or self.active < self.timing.slots):
            job = self.queue.popleft()
            self.active += 1
            Stream(self, job).begin()

    def release(self, held_tokens: int) -> None:
        """A request in flight ended, freeing its slot and its `held_tokens` of the KV cache."""
        self.active -= 1
        self.metrics.released(held_tokens)
        self._admit()

    def entered(self, record: RequestRecord) -> None:
        """A request is being answered: it and every other in flight now share the server (with
        two or more in flight, all of them were marked already: marking the first is enough)."""
        if self.in_flight:
            record.shared = True
            next(iter(self.in_flight.values())).shared = True
        self.in_flight[id(record)] = record

    def left(self, record: RequestRecord) -> None:
        self.in_flight.pop(id(record), None)

    def varied(self, record: RequestRecord) -> bool:
        """Whether this request's answer is the one a load-sensitive server gives."""
        return self.answers_vary_with_load and record.shared

    def _whole(self, job: Job) -> None:
        """Non-streamed: answer after the full generation time, in one body."""
        self.entered(job.record)
        loop = asyncio.get_running_loop()
        delay = self.timing.ttft_s(job.record.prefilled_tokens) + (
            job.max_tokens - 1
        ) * self.timing.itl_s(1)
        loop.call_later(delay, self._send_whole, job)

    def _send_whole(self, job: Job) -> None:
        said = answer(job.body, job.max_tokens, self.timing.ignore_stop, job.words)
        record = job.record
        self.left(record)
        said = under_load(said) if self.varied(record) else said
        self.metrics.admitted(record.prompt_tokens, record.cached_tokens, 0.0)
        self.metrics.wrote(said.tokens, 0.0, self.active)
        self.metrics.released(record.prompt_tokens + said.tokens)
        job.record.chunk_ns.append(time.perf_counter_ns())
        job.record.chunk_tokens.append(said.tokens)
        job.response.json(
            200,
            {
                "id": job.record.request_id,
                "object": _object(job.chat),
                "model": self.answering,
                "choices": structured.shaped_choices(
                    job.body, job.chat, choices(job.body, job.chat, said)
                ),
                "usage": _usage(job.record, said.tokens + self.timing.usage_off_by),
            },
        )


class Stream:
    """Writes one streamed response: role chunk (chat), token chunks on schedule, usage, [DONE]."""

    def __init__(self, emulator: Emulator, job: Job) -> None:
        self.emulator = emulator
        self.job = job
        self.loop = asyncio.get_running_loop()
        self.per_chunk = max(emulator.timing.tokens_per_chunk, 1)
        self.sent = 0
        self.start = 0.0
        self.due = 0.0
        self.ttft = 0.0
        self.scale = 1.0  # this request's jitter factor
        every = emulator.timing.error_mid_stream_every
        self.fail_after = job.max_tokens // 2 if every and emulator.served % every == 0 else -1

    def begin(self) -> None:
        job, timing = self.job, self.emulator.timing
        job.record.started_ns = time.perf_counter_ns()
        self.emulator.entered(job.record)
        job.response.start_stream()
        if job.chat:
            job.response.event(self._chunk({"role": "assistant", "content": ""}))
        self.start = time.perf_counter()  # exact, unlike the loop's clock cached per iteration
        self.scale = next(self.emulator.jitter)
        self.ttft = timing.ttft_s(job.record.prefilled_tokens) * self.scale
        record = job.record
        self.emulator.metrics.admitted(record.prompt_tokens, record.cached_tokens, self.ttft)
        self.due = self.start + self.ttft - self._itl_now()  # the first token is due at TTFT
        self._schedule_next()

    def _itl_now(self) -> float:
        """Each token's ITL follows the batch as it is when the token is scheduled."""
        return self.emulator.timing.itl_s(self.emulator.active) * self.scale

    def _schedule_next(self) -> None:
        count = min(self.per_chunk, self.job.max_tokens - self.sent)
        self.due += count * self._itl_now()  # on an absolute clock: late callbacks do not add up
        self.loop.call_later(max(self.due - time.perf_counter(), 0.0), self._emit)

    def _emit(self) -> None:
        job = self.job
        if job.response.closed:
            job.record.error = "client disconnected"
            return self._release()
        count = min(self.per_chunk, job.max_tokens - self.sent)
        if self.sent == self.fail_after:
            return self._fail_mid_stream()
        last = self.sent + count >= job.max_tokens
        text = "".join(job.words[self.sent : self.sent + count]) or TOKEN_TEXT * count
        if self.emulator.varied(job.record):
            text = LOADED_TOKEN_TEXT * count
        job.response.event(self._text_chunk(text, "length" if last else None))
        job.record.chunk_ns.append(time.perf_counter_ns())
        job.record.chunk_tokens.append(count)
        self.sent += count
        self.emulator.metrics.wrote(count, count * self._itl_now(), self.emulator.active)
        if self.sent < job.max_tokens:
            return self._schedule_next()
        self._finish()

    def _finish(self) -> None:
        job = self.job
        if job.include_usage:
            usage = _usage(job.record, self.sent + self.emulator.timing.usage_off_by)
            job.response.event(
                orjson.dumps(
                    {
                        "id": job.record.request_id,
                        "object": _object(job.chat, True),
                        "model": self.emulator.answering,
                        "choices": [],
                        "usage": usage,
                    }
                )
            )
        job.response.end_stream()
        self._release()

    def _fail_mid_stream(self) -> None:
        self.job.record.error = "injected mid-stream error"
        self.job.response.event(
            orjson.dumps({"error": {"message": "injected mid-stream error", "code": 500}})
        )
        self.job.response.transport.write(b"0\r\n\r\n")
        self._release()

    def _release(self) -> None:
        self.emulator.left(self.job.record)
        self.emulator.release(self.job.record.prompt_tokens + self.sent)

    def _text_chunk(self, text: str, finish_reason: str | None) -> bytes:
        if self.job.chat:
            return self._chunk({"content": text}, finish_reason)
        return orjson.dumps(
            {
                "id": self.job.record.request_id,
                "object": "text_completion",
                "model": self.emulator.answering,
                "choices": [{"index": 0, "text": text, "finish_reason": finish_reason}],
            }
        )

    def _chunk(self, delta: dict[str, str], finish_reason: str | None = None) -> bytes:
        return orjson.dumps(
            {
                "id": self.job.record.request_id,
                "object": "chat.completion.chunk",
                "model": self.emulator.answering,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }
        )


def _prompt_text(body: dict[str, object], chat: bool) -> str:
    if not chat:
        prompt = body.get("prompt", "")
        return prompt if isinstance(prompt, str) else " ".join(map(str, prompt))  # type: ignore[call-overload]
    parts = []
    for message in body.get("messages") or []:  # type: ignore[attr-defined]
        content = message.get("content", "")
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        parts.append(str(content))
    return " ".join(parts)


def _object(chat: bool, stream: bool = False) -> str:
    if chat:
        return "chat.completion.chunk" if stream else "chat.completion"
    return "text_completion"


def _usage(record: RequestRecord, completion: int) -> dict[str, object]:
    """OpenAI's usage, with the cached prompt tokens as vLLM and llama.cpp report them."""
    return {
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": record.prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": record.cached_tokens},
    }


def _common_prefix(first: list[str], second: list[str]) -> int:
    count = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        count += 1
    return count
