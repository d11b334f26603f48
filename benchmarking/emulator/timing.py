"""The emulator's timing model and what it records of each request."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

STREAM_REPLIES = {  # what a streamed request gets: a conformant stream, or a broken server's answer
    "tokens": "an SSE stream of tokens on the timing model",
    "empty-json": "HTTP 200 with the JSON body {}, no stream",
    "error-json": "HTTP 200 with a JSON error body, no stream",
    "bad-length": "HTTP 200 with the header Content-Length: abc",
    "no-tokens": "an SSE stream that ends ([DONE]) without a token",
}


@dataclass(frozen=True)
class TimingModel:
    """TTFT grows with the prompt, ITL with the batch; `slots` bounds concurrent requests."""

    ttft_ms: float = 50.0
    prefill_ms_per_token: float = 0.0
    itl_ms: float = 10.0
    batch_itl_factor: float = 0.0
    slots: int = 0
    tokens_per_chunk: int = 1
    fail_every: int = 0
    error_mid_stream_every: int = 0
    cut_after_headers_every: int = 0  # close the connection right after the response headers
    max_context: int = 0  # a longer prompt is refused (0: no limit)
    overlong_prompt_status: int = 400  # ... with this status
    ignore_stop: bool = False  # let the stop string through (a server that ignores `stop`)
    usage_off_by: int = 0  # added to every usage.completion_tokens (a server that miscounts)
    stream_reply: str = "tokens"  # how a streamed request is answered: one of STREAM_REPLIES
    jitter: float = 0.0  # each streamed request's TTFT and ITL times a factor in [1-j, 1+j]
    jitter_seed: int = 0  # ... drawn in the order requests start, from this seed

    def jitter_factors(self) -> Iterator[float]:
        """Each streamed request's timing factor: uniform around 1 (mean exactly 1), the
        same sequence for the same seed."""
        draw = random.Random(self.jitter_seed)
        while True:
            yield 1.0 + self.jitter * (2 * draw.random() - 1) if self.jitter else 1.0

    def ttft_s(self, prompt_tokens: int) -> float:
        return (self.ttft_ms + self.prefill_ms_per_token * prompt_tokens) / 1000

    def itl_s(self, active: int) -> float:
        return self.itl_ms * (1 + self.batch_itl_factor * max(active - 1, 0)) / 1000


@dataclass
class RequestRecord:
    """What the emulator wrote to the socket for one request, in perf_counter nanoseconds."""

    request_id: str
    received_ns: int
    prompt_tokens: int
    cached_tokens: int = 0  # the prompt was seen before: its tokens come from the cache
    started_ns: int = 0
    chunk_ns: list[int] = field(default_factory=list)
    chunk_tokens: list[int] = field(default_factory=list)
    error: str | None = None
    shared: bool = False  # another request was in flight while this one was
    route: str = ""  # the path it came on (/v1/completions, /v1/chat/completions)
    received: object = None  # with --record-prompts: its messages (chat) or prompt

    @property
    def output_tokens(self) -> int:
        return sum(self.chunk_tokens)

    @property
    def prefilled_tokens(self) -> int:
        """The prompt tokens that take prefill time: those not in the cache."""
        return self.prompt_tokens - self.cached_tokens

    def as_dict(self) -> dict[str, object]:
        return {
            "request_id": self.request_id,
            "received_ns": self.received_ns,
            "started_ns": self.started_ns,
            "prompt_tokens": self.prompt_tokens,
            "cached_tokens": self.cached_tokens,
            "chunk_ns": self.chunk_ns,
            "chunk_tokens": self.chunk_tokens,
            "error": self.error,
            "route": self.route,
            "received": self.received,
        }


def count_tokens(text: str) -> int:
    """The emulator's tokenizer: one token per whitespace-separated word."""
    return len(text.split())
