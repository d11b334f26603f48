"""A stand-in for vLLM's OpenAI server, for tests of the local-server path on Tenstorrent specs.

It records the argv and the environment it was started with (to FAKE_VLLM_RECORD), checks the
bearer token against VLLM_API_KEY like vLLM does, and answers /health and the completion routes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECORDED_ENV = (
    "MESH_DEVICE",
    "ARCH_NAME",
    "WH_ARCH_YAML",
    "TT_VISIBLE_DEVICES",
    "TT_METAL_HOME",
    "VLLM_API_KEY",
    "VLLM_ALLOW_LONG_MAX_MODEL_LEN",
)


SERVED_NAME = "fake"  # the name /v1/models lists: --served-model-name, as vLLM lists it


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        print("request:", format % args, flush=True)

    def _authorised(self) -> bool:
        key = os.environ.get("VLLM_API_KEY")
        return not key or self.headers.get("Authorization") == f"Bearer {key}"

    def _send(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, {})
        elif not self._authorised():
            self._send(401, {"error": "unauthorised"})
        else:
            self._send(200, {"data": [{"id": SERVED_NAME}]})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        if not self._authorised():
            self._send(401, {"error": "unauthorised"})
            return
        self._send(200, {"choices": [{"text": "ok", "index": 0}], "usage": {}})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--served-model-name", default="fake")
    known, _ = parser.parse_known_args()
    global SERVED_NAME
    SERVED_NAME = known.served_model_name
    record = {
        "argv": sys.argv[1:],
        "pid": os.getpid(),
        "env": {k: os.environ[k] for k in RECORDED_ENV if k in os.environ},
    }
    with open(os.environ["FAKE_VLLM_RECORD"], "w") as handle:
        json.dump(record, handle)
    if os.environ.get("FAKE_VLLM_EXIT_AT_START"):
        print("fake vllm: failing at start as asked", flush=True)
        sys.exit(3)
    delay = float(os.environ.get("FAKE_VLLM_START_DELAY", "0"))
    if delay:
        print(f"fake vllm: loading weights for {delay:g}s", flush=True)
    time.sleep(delay)
    print(f"fake vllm serving on {known.host}:{known.port}", flush=True)
    ThreadingHTTPServer((known.host, known.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
