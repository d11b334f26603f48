"""Which tokenizer a benchmark uses: the offline one when the server agrees with it (or has no
/tokenize), the server's when they disagree, the word approximation when there is neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarking.datasets import ServerTokenizer, Tokenizer, WordTokenizer, pick_tokenizer
from benchmarking.local_tokenizer import load_local_tokenizer
from tests.helpers import tokenizer_metadata, write_gguf


class Answering(ServerTokenizer):
    """A server whose /tokenize answers with `reference`'s tokens, shifted by `offset`."""

    def __init__(self, reference: Tokenizer | None, offset: int = 0) -> None:
        super().__init__("http://127.0.0.1:9", {}, "m")
        self.reference = reference
        self.offset = offset

    def encode(self, text: str) -> list[int]:
        if self.reference is None:
            raise ValueError("no /tokenize here")
        return [t + self.offset for t in self.reference.encode(text)]

    def decode(self, tokens: list[int]) -> str:
        return "text"


@pytest.fixture
def local(tmp_path: Path) -> Tokenizer:
    return load_local_tokenizer(write_gguf(tmp_path / "t.gguf", tokenizer_metadata()))


def test_offline_tokenizer_is_preferred_when_the_server_agrees(local: Tokenizer) -> None:
    notes: list[str] = []
    assert pick_tokenizer(Answering(local), local, notes.append) is local
    assert notes == []


def test_the_server_wins_a_disagreement_and_says_so(local: Tokenizer) -> None:
    notes: list[str] = []
    server = Answering(local, offset=1)
    assert pick_tokenizer(server, local, notes.append) is server
    assert notes == ["the gguf tokenizer disagrees with the server's /tokenize; using the server's"]


def test_without_server_tokenize_the_offline_one_or_words(local: Tokenizer) -> None:
    assert pick_tokenizer(Answering(None), local, print) is local
    chosen = pick_tokenizer(Answering(None), None, print)
    assert isinstance(chosen, WordTokenizer) and not chosen.exact
