"""The emulator's command line: `python -m benchmarking.emulator --port 8000 [--ttft-ms 50 ...]`."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path

from benchmarking.emulator.answer_key import AnswerKey
from benchmarking.emulator.http import HttpProtocol
from benchmarking.emulator.metrics import FAMILIES, ServerMetrics
from benchmarking.emulator.server import Emulator
from benchmarking.emulator.timing import STREAM_REPLIES, TimingModel


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarking.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", default="emulator")
    parser.add_argument("--ttft-ms", type=float, default=50.0)
    parser.add_argument("--prefill-ms-per-token", type=float, default=0.0)
    parser.add_argument("--itl-ms", type=float, default=10.0)
    parser.add_argument("--batch-itl-factor", type=float, default=0.0)
    parser.add_argument("--slots", type=int, default=0, help="0: unlimited")
    parser.add_argument("--tokens-per-chunk", type=int, default=1)
    parser.add_argument("--fail-every", type=int, default=0)
    parser.add_argument("--error-mid-stream-every", type=int, default=0)
    parser.add_argument(
        "--cut-after-headers-every",
        type=int,
        default=0,
        help="every Nth generation request: send the response headers, then close the connection",
    )
    parser.add_argument("--max-context", type=int, default=0, help="refuse longer prompts; 0: none")
    parser.add_argument(
        "--overlong-prompt-status",
        type=int,
        default=400,
        help="the HTTP status a prompt past --max-context gets (500: a server that breaks)",
    )
    parser.add_argument(
        "--ignore-stop", action="store_true", help="let `stop` strings through into the text"
    )
    parser.add_argument(
        "--answers-vary-with-load",
        action="store_true",
        help="a request answered while another is in flight says other words (a server whose "
        "batched decoding goes wrong)",
    )
    parser.add_argument(
        "--answer-key",
        type=Path,
        metavar="FILE",
        help="JSONL of question and answer: a few-shot prompt whose last question is one of "
        "them gets its answer (an eval then scores near 1)",
    )
    parser.add_argument(
        "--usage-off-by", type=int, default=0, help="add N to every usage.completion_tokens"
    )
    parser.add_argument(
        "--stream-reply",
        choices=STREAM_REPLIES,
        default="tokens",
        help="how streamed generation requests are answered: "
        + "; ".join(f"{name}: {what}" for name, what in STREAM_REPLIES.items()),
    )
    parser.add_argument(
        "--key-on-health",
        action="store_true",
        help="with EMULATOR_API_KEY: /health wants the key too (a server behind a gateway)",
    )
    parser.add_argument(
        "--metrics",
        choices=FAMILIES,
        default="vllm",
        help="GET /metrics in vLLM's names or llama.cpp's, or none (HTTP 404)",
    )
    parser.add_argument(
        "--echo-auth-in-errors",
        nargs="?",
        type=int,
        const=401,
        metavar="STATUS",
        help="answer generation requests with HTTP STATUS (401 unless given) whose message quotes "
        "the Authorization header received (a server that leaks the client's token)",
    )
    parser.add_argument(
        "--drip-bytes-per-s",
        type=float,
        default=0.0,
        metavar="N",
        help="answer every route but /health with its head, then N bytes of body a second, "
        "never ending (a server that holds a client forever); 0: off",
    )
    parser.add_argument(
        "--jitter",
        type=float,
        default=0.0,
        metavar="J",
        help="each streamed request's TTFT and ITL times a factor drawn uniformly from "
        "[1-J, 1+J] (0 <= J < 1; mean exactly 1), seeded by --jitter-seed: a known noise",
    )
    parser.add_argument("--jitter-seed", type=int, default=0)
    parser.add_argument(
        "--ignore-fields",
        type=lambda text: frozenset(name for name in text.split(",") if name),
        default=frozenset(),
        metavar="A,B",
        help="generation request fields to ignore, as a server that lacks them does "
        "(response_format, tools, seed, logit_bias, echo, max_completion_tokens, ...)",
    )
    parser.add_argument(
        "--refuse-unknown-models",
        action="store_true",
        help="answer a generation request naming another model than --model with HTTP 404",
    )
    parser.add_argument(
        "--answer-as",
        metavar="NAME",
        help="list --model in /v1/models but name NAME as the `model` of every completions, "
        "chat and responses answer, streamed or not (a proxy routing to another model)",
    )
    parser.add_argument(
        "--record-prompts",
        action="store_true",
        help="keep each generation request's messages (chat) or prompt in its record "
        "(GET /emulator/records, as `received`)",
    )
    parser.add_argument("--no-uvloop", action="store_true")
    args = parser.parse_args(argv)
    if not 0 <= args.jitter < 1:
        parser.error(f"--jitter {args.jitter}: a share from 0 to below 1 (0.3: +-30%)")
    return args


def timing_of(args: argparse.Namespace) -> TimingModel:
    return TimingModel(
        ttft_ms=args.ttft_ms,
        prefill_ms_per_token=args.prefill_ms_per_token,
        itl_ms=args.itl_ms,
        batch_itl_factor=args.batch_itl_factor,
        slots=args.slots,
        tokens_per_chunk=args.tokens_per_chunk,
        fail_every=args.fail_every,
        error_mid_stream_every=args.error_mid_stream_every,
        cut_after_headers_every=args.cut_after_headers_every,
        max_context=args.max_context,
        overlong_prompt_status=args.overlong_prompt_status,
        ignore_stop=args.ignore_stop,
        usage_off_by=args.usage_off_by,
        stream_reply=args.stream_reply,
        jitter=args.jitter,
        jitter_seed=args.jitter_seed,
    )


async def serve(args: argparse.Namespace) -> None:
    key = os.environ.get("EMULATOR_API_KEY")
    metrics = ServerMetrics(args.metrics)
    emulator = Emulator(timing_of(args), args.model, key, args.key_on_health, metrics)
    emulator.echo_auth = args.echo_auth_in_errors
    emulator.drip_bytes_per_s = args.drip_bytes_per_s
    emulator.answers_vary_with_load = args.answers_vary_with_load
    emulator.ignored_fields = args.ignore_fields
    emulator.refuse_unknown_models = args.refuse_unknown_models
    emulator.answer_key = AnswerKey(args.answer_key)
    emulator.record_prompts = args.record_prompts
    emulator.answer_as = args.answer_as
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: HttpProtocol(emulator.handle), args.host, args.port, backlog=4096
    )
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set_result, None)
    print(f"emulator listening on http://{args.host}:{args.port}", flush=True)
    await stop
    server.close()


def main(argv: list[str]) -> int:
    args = parse(argv)
    if args.no_uvloop:
        asyncio.run(serve(args))
    else:
        import uvloop

        uvloop.run(serve(args))
    return 0
