"""The GGUF metadata reader and the offline tokenizer built from it, on small GGUF files the
tests write themselves (the format: little-endian, typed key/values, strings with u64 lengths)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from benchmarking.datasets import RandomDataset
from benchmarking.gguf import GGUFError, read_metadata
from benchmarking.local_tokenizer import (
    TokenizerSourceError,
    load_local_tokenizer,
    write_hf_folder,
)
from tests.helpers import SPECIAL, GgufValue, gguf_string, tokenizer_metadata, write_gguf


@pytest.fixture
def tiny_gguf(tmp_path: Path) -> Path:
    return write_gguf(tmp_path / "tiny.gguf", tokenizer_metadata())


def test_reads_every_kind_of_value(tmp_path: Path) -> None:
    values: dict[str, GgufValue] = {
        "a.int": -7,
        "a.float": 0.5,
        "a.bool": True,
        "a.text": "héllo",
        "a.words": ["x", "yz"],
        "a.ints": [1, 2, 3],
    }
    assert read_metadata(write_gguf(tmp_path / "m.gguf", values)) == values


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"NOPE" + b"\0" * 20, "is not a GGUF file"),
        (b"GGUF" + struct.pack("<IQQ", 1, 0, 0), "GGUF version 1 is not supported"),
        (b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + gguf_string("k"), "ends early"),
    ],
)
def test_bad_files_give_one_line_reasons(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(GGUFError, match=message) as error:
        read_metadata(path)
    assert "\n" not in str(error.value)


def test_tokenizer_from_gguf_merges_splits_and_keeps_specials(tiny_gguf: Path) -> None:
    tokenizer = load_local_tokenizer(tiny_gguf)
    pieces = tokenizer.tokenizer.encode("hello world", add_special_tokens=False).tokens
    assert pieces == ["hello", "Ġworld"]
    assert len(tokenizer.encode("12")) == 2, "smollm splits digits one by one despite '1 2'"
    assert len(tokenizer.encode(f"{SPECIAL}hello")) == 2, "control tokens are parsed as one"
    assert tokenizer.decode(tokenizer.encode("hello world 12")) == "hello world 12"
    assert (tokenizer.name, tokenizer.chat_template) == ("gguf", "{{ messages }}")


def test_random_prompts_are_exact_in_gguf_tokens(tiny_gguf: Path) -> None:
    tokenizer = load_local_tokenizer(tiny_gguf)
    prompts = RandomDataset(100, 8, seed=3).prompts(4, tokenizer)
    assert [p.prompt_tokens for p in prompts] == [100] * 4
    assert [len(tokenizer.encode(p.text)) for p in prompts] == [100] * 4


@pytest.mark.parametrize(
    ("model", "pre", "message"),
    [("llama", "default", "tokenizer model 'llama'"), ("gpt2", "mystery", "'mystery'")],
)
def test_unsupported_tokenizers_are_named(
    tmp_path: Path, model: str, pre: str, message: str
) -> None:
    path = write_gguf(tmp_path / "x.gguf", tokenizer_metadata(model, pre))
    with pytest.raises(TokenizerSourceError, match=message):
        load_local_tokenizer(path)


def test_folder_for_hugging_face_loads_back_the_same_tokens(
    tiny_gguf: Path, tmp_path: Path
) -> None:
    original = load_local_tokenizer(tiny_gguf)
    folder = write_hf_folder(original, tmp_path / "hf")
    again = load_local_tokenizer(folder)
    assert again.kind == "tokenizer.json"
    assert again.encode("hello world 12") == original.encode("hello world 12")
    assert (folder / "tokenizer_config.json").is_file()


def test_a_folder_without_a_tokenizer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TokenizerSourceError, match=r"neither a tokenizer\.json nor a"):
        load_local_tokenizer(tmp_path)
