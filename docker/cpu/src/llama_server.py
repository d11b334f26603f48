"""The CPU engine: llama.cpp's own HTTP server from the prebuilt `xllamacpp` wheel (no compile).

    python -I llama_server.py --model FILE.gguf --alias NAME --port PORT [--host HOST]
                              [--parallel SLOTS] [--context-per-slot TOKENS] [--threads N]
                              [--chat-template JINJA]
    python -I llama_server.py --version

Standard library and xllamacpp only: it runs in the server's own environment (`--local-server`)
and in the CPU image, the same file for both. The API key comes from $LLAMA_API_KEY, never from
the command line (`ps` shows that). It serves until SIGTERM or SIGINT, then exits 0; a server
that cannot start exits 1 with one line saying so (llama.cpp's own lines come before it).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

API_KEY_VARIABLE = "LLAMA_API_KEY"
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="llama_server.py")
    parser.add_argument("--version", action="store_true", help="print the engine's version")
    parser.add_argument("--model", help="the GGUF file to serve")
    parser.add_argument("--alias", help="the model name the API answers to")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--parallel", type=int, default=1, help="request slots")
    parser.add_argument("--context-per-slot", type=int, default=4096, help="tokens per slot")
    parser.add_argument("--threads", type=int, default=0, help="0: llama.cpp's default")
    parser.add_argument(
        "--chat-template",
        default="",
        help="a Jinja chat template in place of the GGUF's own (tests serve a broken one)",
    )
    args = parser.parse_args(argv)
    if not args.version and not (args.model and args.alias):
        parser.error("--model and --alias are required")
    return args


def llama_cpp_build(package_version: str) -> str:
    """xllamacpp's version YYYY.M.N packages llama.cpp's release tag bN (its own build info
    says b0-unknown)."""
    build = package_version.rsplit(".", 1)[-1]
    return f"b{build}" if build.isdigit() else "unknown"


def version_line(package_version: str) -> str:
    return f"version: xllamacpp {package_version} (llama.cpp {llama_cpp_build(package_version)})"


def configure(params: Any, args: argparse.Namespace, api_key: str | None) -> Any:
    """llama-server's settings on xllamacpp's CommonParams: one slot per allowed concurrent
    request, each with its own full context, continuous batching, Prometheus metrics."""
    params.model.path = args.model
    params.model_alias = {args.alias}  # a set of names: a plain string would be split in chars
    params.hostnames = [args.host]
    params.port = args.port
    params.n_parallel = args.parallel
    params.n_ctx = args.context_per_slot * args.parallel
    params.kv_unified_per_slot = args.context_per_slot
    params.cont_batching = True
    params.endpoint_metrics = True
    params.endpoint_slots = True
    params.ui = False
    if args.threads > 0:
        params.cpuparams.n_threads = args.threads
        params.cpuparams_batch.n_threads = args.threads
    if args.chat_template:
        params.use_jinja = True
        params.chat_template = args.chat_template
    if api_key:
        params.api_keys = [api_key]
    return params


def serve(args: argparse.Namespace, api_key: str | None) -> int:
    import xllamacpp  # only here: --help and the unit tests need no engine

    if args.version:
        print(version_line(xllamacpp.__version__), flush=True)
        return 0
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # the server's threads inherit it
    print(f"llama_server: {version_line(xllamacpp.__version__)}", flush=True)
    try:
        server = xllamacpp.Server(configure(xllamacpp.CommonParams(), args, api_key))
    except RuntimeError as error:
        print(f"llama_server: the server did not start: {error}", file=sys.stderr, flush=True)
        return 1
    print(f"llama_server: serving {args.alias} at {server.listening_address}", flush=True)
    received = signal.sigwait(STOP_SIGNALS)
    print(f"llama_server: stopping on {signal.Signals(received).name}", flush=True)
    return 0


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    api_key = os.environ.pop(API_KEY_VARIABLE, None) or None
    return serve(args, api_key)


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)  # the server's threads are not joined: the process ends here
