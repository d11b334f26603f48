"""A user's own prompts (`dataset=jsonl`) and conversations (`dataset=conversations`): JSONL files
read and checked line by line before the run. Each error is one line naming the file and line,
what is wrong and how to fix it. Standard library only: the runner checks the file before
anything starts, and the load generator reads it again."""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from benchmarking.arg_values import SettingsError
from benchmarking.endpoints import CHAT, COMPLETIONS

USER_DATASETS = ("jsonl", "conversations")
ROLES = ("system", "user", "assistant")
PROMPT_KEYS = ("prompt", "messages", "output_tokens")
TURN_KEYS = ("prompt", "output_tokens")
MESSAGE_KEYS = ("role", "content")
PROMPT_EXAMPLE = '{"prompt": "Tell me a story", "output_tokens": 128}'
CONVERSATION_EXAMPLE = '{"turns": ["Hello", {"prompt": "Go on", "output_tokens": 64}]}'
JSON_KINDS: dict[type, str] = {
    list: "list", str: "string", int: "number", float: "number", bool: "true/false",
    type(None): "null",
}  # fmt: skip
CLOSED_LOOP_ONLY = (  # conversations pace themselves: each turn when the last is answered
    "rate", "burstiness", "workers", "duration", "warmup_s", "cooldown_s", "ramp", "search",
)  # fmt: skip


class DatasetFileError(SettingsError):
    """A dataset file a run cannot use; the message names the file and line."""


@dataclass(frozen=True)
class UserPrompt:
    """One line of a prompts file: a completion prompt or a chat's messages."""

    line: int
    prompt: str | None  # sent to /v1/completions
    messages: tuple[tuple[str, str], ...] | None  # (role, content), sent to /v1/chat/completions
    output_tokens: int | None  # None: the run's default

    @property
    def kind(self) -> str:
        return "prompt" if self.prompt is not None else "messages"


@dataclass(frozen=True)
class Turn:
    prompt: str
    output_tokens: int | None


@dataclass(frozen=True)
class Conversation:
    line: int
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class CheckedFile:
    """What the settings need of a checked file: its entries and the route they go to."""

    size: int  # prompts, or conversations
    chat: bool  # messages and conversations go to the chat route only


def check_user_dataset(dataset: str, args: Mapping[str, object]) -> CheckedFile:
    """The file `dataset_path` names, read and checked, and the arguments it cannot run with."""
    path = args.get("dataset_path")
    if not path:
        what = "prompts" if dataset == "jsonl" else "conversations"
        raise SettingsError(f"dataset={dataset} needs dataset_path=FILE (a JSONL file of {what})")
    if dataset == "conversations":
        given = [key for key in CLOSED_LOOP_ONLY if key in args]
        if given:
            raise SettingsError(
                f"dataset=conversations does not take {', '.join(given)}: conversations run "
                "`concurrency` at a time, all their turns, each sent when the last is answered"
            )
        return CheckedFile(len(load_conversations(Path(str(path)))), chat=True)
    prompts = load_prompts(Path(str(path)))
    return CheckedFile(len(prompts), chat=prompts[0].kind == "messages")


def endpoint_of(value: object, checked: CheckedFile | None) -> str:
    """The route asked for; left out: chat, or completions for a file of `prompt` lines."""
    if value is None:
        return COMPLETIONS if checked is not None and not checked.chat else CHAT
    endpoint = {"chat": CHAT, "completions": COMPLETIONS}.get(str(value))
    if endpoint is None:
        raise SettingsError("endpoint: use chat or completions")
    if endpoint == COMPLETIONS and checked is not None and checked.chat:
        raise SettingsError(
            "endpoint=completions: the dataset holds chat messages, which only "
            "/v1/chat/completions takes; leave endpoint out"
        )
    return endpoint


def marked(text: str, copy: int) -> str:
    """The text itself (copy 0), or its copy-th copy, marked at the start ('[2] ...'): sent
    again as it is, a server's prompt cache would answer it."""
    return f"[{copy + 1}] {text}" if copy else text


def load_prompts(path: Path) -> tuple[UserPrompt, ...]:
    """Every prompt of a prompts file, all of one kind (`prompt` or `messages`)."""
    return _load(path, "prompts")  # type: ignore[return-value]


def load_conversations(path: Path) -> tuple[Conversation, ...]:
    return _load(path, "conversations")  # type: ignore[return-value]


def _load(path: Path, what: str) -> tuple[object, ...]:
    try:
        stat = path.stat()
    except OSError as error:
        reason = "no such file" if isinstance(error, FileNotFoundError) else error.strerror
        raise DatasetFileError(
            f"dataset_path={path}: {reason}; give the path of a JSONL file of {what}"
        ) from None
    return _parsed(path.resolve(), stat.st_mtime_ns, stat.st_size, what)


@functools.lru_cache(maxsize=4)
def _parsed(path: Path, mtime_ns: int, size: int, what: str) -> tuple[object, ...]:
    """Read once per process and version of the file (the key holds its time and size)."""
    del mtime_ns, size
    lines = _json_lines(path, what)
    if what == "conversations":
        return tuple(_conversation(f"{path}:{n}", n, value) for n, value in lines)
    prompts = tuple(_prompt(f"{path}:{n}", n, value) for n, value in lines)
    _one_kind(path, prompts)
    return prompts


def _example(what: str) -> str:
    return PROMPT_EXAMPLE if what == "prompts" else CONVERSATION_EXAMPLE


def _json_lines(path: Path, what: str) -> list[tuple[int, object]]:
    """Each non-blank line's number and its JSON value."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DatasetFileError(
            f"{path}: not UTF-8 text (byte {error.start}); save the file as UTF-8"
        ) from None
    except OSError as error:
        raise DatasetFileError(
            f"dataset_path={path}: {error.strerror}; give the path of a JSONL file of {what}"
        ) from None
    values = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            values.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            raise DatasetFileError(
                f"{path}:{number}: not valid JSON ({error.msg} at column {error.colno}); write "
                f"one JSON object a line, like {_example(what)}"
            ) from None
    if not values:
        raise DatasetFileError(
            f"{path}: no {what} (the file is empty); write one JSON object a line, "
            f"like {_example(what)}"
        )
    return values


def _shown(value: object) -> str:
    """A value as JSON on one line, cut short."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _object(where: str, value: object, example: str) -> dict[str, object]:
    if not isinstance(value, dict):
        kind = JSON_KINDS.get(type(value), "value")
        raise DatasetFileError(f"{where}: a JSON {kind}, not an object; write one like {example}")
    return value


def _known_keys(where: str, entry: Mapping[str, object], keys: tuple[str, ...]) -> None:
    for key in entry:
        if key not in keys:
            near = difflib.get_close_matches(key, keys, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise DatasetFileError(
                f'{where}: unknown key "{key}"{hint}; the keys are {", ".join(keys)}'
            )


def _text(where: str, key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DatasetFileError(f'{where}: "{key}" must be a non-empty string, not {_shown(value)}')
    return value


def _output_tokens(where: str, entry: Mapping[str, object]) -> int | None:
    value = entry.get("output_tokens")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise DatasetFileError(
            f'{where}: "output_tokens" must be a whole number above 0 (like 128), '
            f"not {_shown(value)}"
        )
    return value


def _prompt(where: str, line: int, value: object) -> UserPrompt:
    entry = _object(where, value, PROMPT_EXAMPLE)
    _known_keys(where, entry, PROMPT_KEYS)
    if ("prompt" in entry) == ("messages" in entry):
        which = "both" if "prompt" in entry else "neither"
        raise DatasetFileError(
            f'{where}: {which} "prompt" and "messages"; give one: "prompt" (a string, sent to '
            '/v1/completions) or "messages" (a list of {"role", "content"}, sent to '
            "/v1/chat/completions)"
        )
    output = _output_tokens(where, entry)
    if "prompt" in entry:
        return UserPrompt(line, _text(where, "prompt", entry["prompt"]), None, output)
    return UserPrompt(line, None, _messages(where, entry["messages"]), output)


def _messages(where: str, value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not value:
        raise DatasetFileError(
            f'{where}: "messages" must be a non-empty list of {{"role", "content"}} objects, '
            f"not {_shown(value)}"
        )
    return tuple(_message(f"{where}: messages[{i}]", item) for i, item in enumerate(value))


def _message(where: str, value: object) -> tuple[str, str]:
    entry = _object(where, value, '{"role": "user", "content": "Hello"}')
    _known_keys(where, entry, MESSAGE_KEYS)
    role = entry.get("role")
    if role not in ROLES:
        raise DatasetFileError(
            f'{where}: "role" must be one of {", ".join(ROLES)}, not {_shown(role)}'
        )
    return str(role), _text(where, "content", entry.get("content"))


def _one_kind(path: Path, prompts: tuple[UserPrompt, ...]) -> None:
    first = prompts[0]
    for prompt in prompts:
        if prompt.kind != first.kind:
            raise DatasetFileError(
                f'{path}:{prompt.line}: "{prompt.kind}" here, but line {first.line} has '
                f'"{first.kind}"; a file holds one kind ("prompt" lines go to /v1/completions, '
                '"messages" lines to /v1/chat/completions): split it in two'
            )


def _conversation(where: str, line: int, value: object) -> Conversation:
    if isinstance(value, dict):
        _known_keys(where, value, ("turns",))
        value = value.get("turns")
    if not isinstance(value, list) or not value:
        raise DatasetFileError(
            f'{where}: a conversation is a non-empty list of user turns (or {{"turns": [...]}}), '
            f"not {_shown(value)}; write one like {CONVERSATION_EXAMPLE}"
        )
    return Conversation(line, tuple(_turn(f"{where}: turns[{i}]", t) for i, t in enumerate(value)))


def _turn(where: str, value: object) -> Turn:
    if isinstance(value, str):
        return Turn(_text(where, "prompt", value), None)
    entry = _object(where, value, '{"prompt": "Go on", "output_tokens": 64} or "Go on"')
    _known_keys(where, entry, TURN_KEYS)
    return Turn(_text(where, "prompt", entry.get("prompt")), _output_tokens(where, entry))
