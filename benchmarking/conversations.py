"""`dataset=conversations`: a user's conversations replayed turn by turn. Each turn is sent with
the conversation so far (its earlier user turns and the model's own answers to them), the turns
of one conversation in order, `concurrency` conversations at a time, as AIPerf's and vLLM's
multi-turn benchmarks do. Every turn is a request row naming its conversation and turn; the
point's document adds TTFT by turn, where a server's prefix cache shows in the later turns."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from benchmarking import bench, intervals
from benchmarking.client import driver
from benchmarking.client.connection import RawResponse
from benchmarking.client.parse import parse_response
from benchmarking.client.requests import CHAT, Prompt, http_request, request_body
from benchmarking.client.result import RequestResult, build_result
from benchmarking.client.wakeup import WakeLatency, low_wake_latency
from benchmarking.client_cpu import CpuClock
from benchmarking.dataset_report import by_turn, dataset_lengths
from benchmarking.datasets import DEFAULT_OUTPUT_TOKENS, Tokenizer
from benchmarking.sweep import Point, point_seed
from benchmarking.user_datasets import Conversation, load_conversations, marked

Messages = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SentTurn:
    """One turn as it went: the conversation's line in the file, the turn's number (1: the
    first), the messages sent (history included) and what came back."""

    conversation: int
    turn: int
    messages: Messages
    output_tokens: int
    result: RequestResult


@dataclass(frozen=True)
class Replay:
    """What every conversation's turns share: where and how to send, and the time limits."""

    ctx: bench.Context
    pool: driver.ConnectionPool
    limits: driver.Limits
    tag: str


def chosen(path: Path, count: int, seed: int) -> list[Conversation]:
    """`count` conversations of the file, shuffled with the seed; past the file's own, copies
    whose first turn is marked as one (user_datasets.marked: none is sent twice as it is)."""
    conversations = list(load_conversations(path))
    random.Random(seed).shuffle(conversations)
    size = len(conversations)
    return [_copy(conversations[i % size], i // size) for i in range(count)]


def _copy(conversation: Conversation, copy: int) -> Conversation:
    first, *rest = conversation.turns
    turns = (dataclasses.replace(first, prompt=marked(first.prompt, copy)), *rest)
    return dataclasses.replace(conversation, turns=turns)


def answer_text(raw: RawResponse) -> str:
    """The answer a streamed chat completion carried (its content deltas, in order)."""
    parts = []
    for _, payload in parse_response(raw).events:
        if payload == b"[DONE]":
            break
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            continue
        choices = event.get("choices") if isinstance(event, dict) else None
        if choices and isinstance(choices[0], dict):
            parts.append(str((choices[0].get("delta") or {}).get("content") or ""))
    return "".join(parts)


async def _send(replay: Replay, prompt: Prompt, index: int) -> tuple[RequestResult, str | None]:
    """One turn; its result, and the answer (None if the turn failed)."""
    settings = replay.ctx.settings
    body = request_body(replay.ctx.model, prompt, CHAT, settings.ignore_eos)
    payload = http_request(replay.ctx.target, CHAT, body, f"{replay.tag}-{index}")
    raw = await driver.send_one(replay.pool, payload, replay.limits)  # due now: no queue
    model = replay.ctx.model
    result = build_result(index, raw, raw.sent_ns, 0, driver.count_words, model)
    return result, answer_text(raw) if result.success else None


def _output_tokens(replay: Replay, asked: int | None) -> int:
    return asked or replay.ctx.settings.osl_fixed or DEFAULT_OUTPUT_TOKENS


async def _converse(
    replay: Replay, conversation: Conversation, first: int, slots: asyncio.Semaphore
) -> list[SentTurn]:
    """The conversation's turns in order, each after the last one's answer; a failed turn ends
    it, and its later turns are recorded as not sent."""
    sent: list[SentTurn] = []
    history: Messages = ()
    async with slots:
        for number, turn in enumerate(conversation.turns, 1):
            history += (("user", turn.prompt),)
            output = _output_tokens(replay, turn.output_tokens)
            index = first + number - 1
            result, answer = await _send(replay, Prompt("", 0, output, history), index)
            sent.append(SentTurn(conversation.line, number, history, output, result))
            if answer is None:
                break
            history += (("assistant", answer),)
    return sent + _unsent(replay, conversation, first, len(sent))


def _unsent(replay: Replay, conversation: Conversation, first: int, done: int) -> list[SentTurn]:
    now = time.perf_counter_ns()
    reason = f"not sent: turn {done} of its conversation failed"
    return [
        SentTurn(
            conversation.line,
            number,
            (),
            _output_tokens(replay, turn.output_tokens),
            RequestResult(first + number - 1, False, reason, now, now, 0),
        )
        for number, turn in enumerate(conversation.turns, 1)
        if number > done
    ]


async def _replay_all(
    replay: Replay, conversations: Sequence[Conversation], concurrency: int
) -> list[SentTurn]:
    slots = asyncio.Semaphore(max(concurrency, 1))
    firsts = [sum(len(c.turns) for c in conversations[:i]) for i in range(len(conversations))]
    try:
        groups = await asyncio.gather(
            *(_converse(replay, c, firsts[i], slots) for i, c in enumerate(conversations))
        )
    finally:
        replay.pool.close()
    return sorted((turn for group in groups for turn in group), key=lambda t: t.result.index)


def limits_for(
    ctx: bench.Context, conversations: Sequence[Conversation], concurrency: int, start_ns: int
) -> driver.Limits:
    """Each turn's own time limit, and a deadline no conversation can reach within its
    turns' limits: the waves of `concurrency` conversations, each as long as the longest."""
    longest = max((_max_output(ctx, c) for c in conversations), default=DEFAULT_OUTPUT_TOKENS)
    timeout_s = ctx.settings.request_timeout_s(longest)
    waves = math.ceil(len(conversations) / max(concurrency, 1))
    turns = max((len(c.turns) for c in conversations), default=1)
    deadline_s = waves * turns * (timeout_s + driver.WAVE_SLACK_S)
    return driver.Limits(start_ns, int(timeout_s * 1e9), start_ns + int(deadline_s * 1e9))


def _max_output(ctx: bench.Context, conversation: Conversation) -> int:
    fallback = ctx.settings.osl_fixed or DEFAULT_OUTPUT_TOKENS
    return max(turn.output_tokens or fallback for turn in conversation.turns)


def replay(
    ctx: bench.Context, conversations: Sequence[Conversation], concurrency: int, tag: str
) -> tuple[list[SentTurn], int, WakeLatency, float]:
    """Every conversation replayed in this process; the turns sent (by index), the start, the
    wake-latency request's outcome and each turn's time limit in seconds."""
    with low_wake_latency() as wake:
        start_ns = time.perf_counter_ns()
        limits = limits_for(ctx, conversations, concurrency, start_ns)
        replay = Replay(ctx, driver.ConnectionPool(ctx.target), limits, tag)
        sent = _run(_replay_all(replay, conversations, concurrency))
    return sent, start_ns, wake, limits.request_timeout_ns / 1e9


def _run(work: object) -> list[SentTurn]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(work)  # type: ignore[arg-type]
    return uvloop.run(work)  # type: ignore[arg-type]


def count_prompts(sent: Sequence[SentTurn], tokenizer: Tokenizer) -> None:
    """Each turn's prompt length, history included, as the tokenizer counts each message's
    content (no chat template); after the run, so that counting costs the streams nothing."""
    counted: dict[str, int] = {}
    for turn in sent:
        total = 0
        for _, content in turn.messages:
            if content not in counted:
                counted[content] = len(tokenizer.encode(content))
            total += counted[content]
        turn.result.prompt_tokens = total


def run_point(
    ctx: bench.Context,
    point: Point,
    execute: bench.Progress,
    prefix: str | None = None,
    repeat: int = 0,
) -> dict[str, object]:
    """Replay `point.num_prompts` conversations at `point.concurrency`, write the point's
    result files, return its document. No warm-up request: it would put a conversation's
    first turn in the server's prompt cache."""
    del execute, prefix  # no progress bar of worker processes; no prefix-cache variants
    settings = ctx.settings
    seed = point_seed(settings.seed, point, 0, repeat)
    assert settings.dataset_path is not None
    conversations = chosen(Path(settings.dataset_path), point.num_prompts, seed)
    tag = bench.point_tag(settings, point) + (f"_repeat-{repeat}" if repeat else "")
    watch = ctx.watch(tag)
    clock = CpuClock.start()
    sent, start_ns, wake, timeout_s = replay(ctx, conversations, point.concurrency, tag)
    cpu = clock.used()
    count_prompts(sent, ctx.tokenizer)
    outcome = driver.RunOutcome([t.result for t in sent], start_ns, wake)
    plan = driver.Plan(ctx.target, (), point.concurrency, request_timeout_s=timeout_s)
    document = bench.measured_document(ctx, _shape(point, sent), outcome, plan, watch)
    rows = _rows(outcome, sent)
    document |= _fields(ctx, sent, rows, len(conversations)) | {"prompt_seed": seed}
    if repeat:
        document |= {"kind": f"{ctx.kind}_repeat", "repeat": repeat}
    document |= cpu
    document |= intervals.interval_fields([intervals.repeat_of(document, rows)])
    bench.write_results(ctx.output_dir, f"{ctx.kind}_{tag}", document, rows)
    return document


def _shape(point: Point, sent: Sequence[SentTurn]) -> Point:
    """The point as measured: mean lengths of the turns sent, one request per turn."""
    asked = [t for t in sent if t.messages]
    isl = round(sum(t.result.prompt_tokens for t in asked) / max(len(asked), 1))
    osl = round(sum(t.output_tokens for t in asked) / max(len(asked), 1))
    return dataclasses.replace(point, isl=isl, osl=osl, num_prompts=len(sent))


def _rows(outcome: driver.RunOutcome, sent: Sequence[SentTurn]) -> list[dict[str, object]]:
    rows = bench.request_rows(outcome)
    for row, turn in zip(rows, sent, strict=True):
        row |= {"conversation": turn.conversation, "turn": turn.turn}
    return rows


def _fields(
    ctx: bench.Context, sent: Sequence[SentTurn], rows: list[dict[str, object]], count: int
) -> dict[str, object]:
    asked = [t for t in sent if t.messages]
    lengths = dataset_lengths(
        [t.result.prompt_tokens for t in asked],
        [t.output_tokens for t in asked],
        ctx.tokenizer.name,
    )
    summary = {"conversations": count, "requests": len(sent), "by_turn": by_turn(rows)}
    return {"prefix_cache": None, "dataset_lengths": lengths, "conversations": summary}
