"""The model's own tokenizer without a server or a hub: from its GGUF file (byte-level BPE, as
llama.cpp builds it from the GGUF metadata) or from a Hugging Face `tokenizer.json`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from benchmarking.gguf import GGUFError, Value, read_metadata

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# llama.cpp's pre-tokenizer splits per `tokenizer.ggml.pre`: each pattern splits the pieces of the
# one before it, matches and the text between them alike.
GPT2_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_SPLIT = LLAMA3_SPLIT.replace(r"\p{N}{1,3}", r"\p{N}")
PRE_SPLITS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("gpt-2", "phi-2", "mpt", "olmo"), (GPT2_SPLIT,)),
    **dict.fromkeys(
        ("smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b"),
        (r"\p{N}", GPT2_SPLIT),
    ),
    **dict.fromkeys(("llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"), (LLAMA3_SPLIT,)),
    **dict.fromkeys(("qwen2", "deepseek-r1-qwen", "megrez", "stablelm2"), (QWEN2_SPLIT,)),
}
IGNORE_MERGES = frozenset({"llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"})
CONTROL, USER_DEFINED = 3, 4  # tokenizer.ggml.token_type values of special tokens


class TokenizerSourceError(ValueError):
    """A tokenizer source that cannot be used; the message says what is wrong with it."""


@dataclass(frozen=True)
class LocalTokenizer:
    """Exact tokens of the model, computed in this process."""

    tokenizer: Tokenizer
    kind: str  # "gguf" or "tokenizer.json"
    source: Path
    chat_template: str | None = None
    exact = True

    @property
    def name(self) -> str:
        return self.kind

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def decode(self, tokens: list[int]) -> str:
        return str(self.tokenizer.decode(tokens, skip_special_tokens=False))


def load_local_tokenizer(path: Path) -> LocalTokenizer:
    """A GGUF file, a tokenizer.json, or a weights folder holding either (tokenizer.json first)."""
    if path.is_dir():
        return load_local_tokenizer(_file_in(path))
    if not path.is_file():
        raise TokenizerSourceError(f"{path} does not exist")
    if path.suffix == ".gguf":
        return from_gguf(path)
    return LocalTokenizer(_tokenizers().Tokenizer.from_file(str(path)), "tokenizer.json", path)


def _file_in(folder: Path) -> Path:
    candidates = [folder / "tokenizer.json", *sorted(folder.glob("*.gguf"))]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        raise TokenizerSourceError(f"{folder} has neither a tokenizer.json nor a *.gguf file")
    return found


def from_gguf(path: Path) -> LocalTokenizer:
    try:
        metadata = read_metadata(path)
    except GGUFError as error:
        raise TokenizerSourceError(str(error)) from None
    template = metadata.get("tokenizer.chat_template")
    return LocalTokenizer(
        bpe_from_metadata(metadata, path),
        "gguf",
        path,
        template if isinstance(template, str) else None,
    )


def bpe_from_metadata(metadata: dict[str, Value], path: Path) -> Tokenizer:
    """A byte-level BPE tokenizer from the `tokenizer.ggml.*` keys."""
    model = metadata.get("tokenizer.ggml.model")
    if model != "gpt2":
        raise TokenizerSourceError(
            f"{path}: tokenizer model {model!r} is not supported offline "
            "(only byte-level BPE, 'gpt2')"
        )
    pre = str(metadata.get("tokenizer.ggml.pre", "default"))
    if pre not in PRE_SPLITS:
        raise TokenizerSourceError(f"{path}: pre-tokenizer {pre!r} is not supported offline")
    tokens = _strings(metadata, "tokenizer.ggml.tokens", path)
    merges = _strings(metadata, "tokenizer.ggml.merges", path)
    lib = _tokenizers()
    bpe = lib.models.BPE(
        {token: index for index, token in enumerate(tokens)},
        [tuple(merge.split(" ", 1)) for merge in merges],
        ignore_merges=pre in IGNORE_MERGES,
    )
    tokenizer = lib.Tokenizer(bpe)
    splits = [lib.pre_tokenizers.Split(lib.Regex(p), "isolated") for p in PRE_SPLITS[pre]]
    byte_level = lib.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tokenizer.pre_tokenizer = lib.pre_tokenizers.Sequence([*splits, byte_level])
    tokenizer.decoder = lib.decoders.ByteLevel()
    tokenizer.add_special_tokens(_special_tokens(metadata, tokens))
    built: Tokenizer = tokenizer
    return built


def _special_tokens(metadata: dict[str, Value], tokens: list[str]) -> list[object]:
    types = metadata.get("tokenizer.ggml.token_type")
    if not isinstance(types, list):
        return []
    lib = _tokenizers()
    return [
        lib.AddedToken(token, special=True, normalized=False)
        for token, kind in zip(tokens, types, strict=False)
        if kind in (CONTROL, USER_DEFINED)
    ]


def _strings(metadata: dict[str, Value], key: str, path: Path) -> list[str]:
    value = metadata.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TokenizerSourceError(f"{path}: the GGUF has no {key} list")
    return [str(v) for v in value]


def write_hf_folder(local: LocalTokenizer, folder: Path) -> Path:
    """A folder that Hugging Face's AutoTokenizer loads offline (for AIPerf and GuideLLM)."""
    folder.mkdir(parents=True, exist_ok=True)
    local.tokenizer.save(str(folder / "tokenizer.json"))
    config: dict[str, object] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "clean_up_tokenization_spaces": False,
        "model_max_length": 1_000_000,
    }
    if local.chat_template:
        config["chat_template"] = local.chat_template
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    return folder


def _tokenizers() -> ModuleType:
    """The `tokenizers` package, imported when first needed (it is not in every environment)."""
    try:
        import tokenizers
    except ImportError:
        raise TokenizerSourceError(
            "the tokenizers package is not installed in this environment"
        ) from None
    return tokenizers
