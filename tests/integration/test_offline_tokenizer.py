"""The tokenizer read from the CPU model's GGUF gives exactly the tokens llama-server gives."""

from __future__ import annotations

import random

import pytest
import requests

from benchmarking.datasets import WORDS, RandomDataset
from benchmarking.local_tokenizer import load_local_tokenizer
from tests.helpers import RunningServer
from workflows.envs.venvs import VENVS_DIR
from workflows.host.weights import packaged_file
from workflows.registry.loader import load_registry

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]
TEXTS = [
    "Hello, we can use",
    "Prices rose 12.5% to $1,234,567.89 in 2024.",
    "  leading, trailing and   repeated   spaces  ",
    "lines\n\n\nand\ttabs\r\nmixed",
    "Café déjà vu, naïve façade; Straße; Ελληνικά; русский; 日本語のテキスト; 한국어",
    "emoji 🙂🚀👩‍💻 and symbols ∑∫√ ≤ ≥ ©®™",
    "it's they're we've I'm you'll he'd IT'S THEY'RE",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "def f(x):\n    return {'a': [x**2, x // 3]}  # comment\n",
    "https://example.org/a/b?c=d&e=f#g user@example.com",
]


def server_tokens(server: RunningServer, text: str) -> list[int]:
    reply = requests.post(
        f"{server.base_url}/tokenize", json={"content": text}, headers=server.headers(), timeout=30
    )
    reply.raise_for_status()
    return [int(t) for t in reply.json()["tokens"]]


def test_gguf_tokens_equal_llama_server_tokens(cpu_server: RunningServer) -> None:
    spec = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    local = load_local_tokenizer(packaged_file(spec.weights, VENVS_DIR / "server-llama-cpp"))
    rng = random.Random(5)
    texts = TEXTS + [" ".join(rng.choice(WORDS) for _ in range(300)) for _ in range(5)]
    for text in texts:
        assert local.encode(text) == server_tokens(cpu_server, text), text
    for prompt in RandomDataset(500, 8, seed=1).prompts(3, local):
        assert len(server_tokens(cpu_server, prompt.text)) == prompt.prompt_tokens == 500
