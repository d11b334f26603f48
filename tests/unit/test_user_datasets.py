"""A user's own prompts and conversations files: checked line by line before the run (errors
name the file, the line, what is wrong and the fix), their route chosen by what they hold."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarking.datasets import JsonlDataset, WordTokenizer
from benchmarking.endpoints import CHAT, COMPLETIONS
from benchmarking.settings import SettingsError, settings_from
from benchmarking.stress_plan import stress_plan
from benchmarking.sweep import plan_sweep
from benchmarking.user_datasets import (
    DatasetFileError,
    load_conversations,
    load_prompts,
)
from tests.helpers import CliResult
from workflows.cli import _config
from workflows.dispatch import workflow_names
from workflows.options import parse
from workflows.workflow_load import load_args

PROMPT = {"prompt": "one two three", "output_tokens": 8}
MESSAGES = {
    "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "a b"}]
}


def write(tmp_path: Path, *lines: object, name: str = "data.jsonl") -> Path:
    """A JSONL file: each line a JSON value, or a str written as it is."""
    path = tmp_path / name
    text = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    path.write_text("\n".join(text) + "\n")
    return path


BAD_PROMPT_LINES = [
    ('{"prompt": "a",', "not valid JSON (Expecting property name enclosed in double quotes"),
    ('["a", "b"]', 'a JSON list, not an object; write one like {"prompt"'),
    ({"output_tokens": 8}, 'neither "prompt" and "messages"; give one: "prompt" (a string, sent'),
    ({"prompt": "a", "messages": []}, 'both "prompt" and "messages"'),
    ({"prompt": 12}, '"prompt" must be a non-empty string, not 12'),
    ({"prompt": "  "}, '"prompt" must be a non-empty string, not "  "'),
    ({"prompt": "a", "output_tokens": "64"}, '"output_tokens" must be a whole number above 0'),
    ({"prompt": "a", "output_tokens": 0}, '"output_tokens" must be a whole number above 0'),
    ({"prompt": "a", "output_tokens": True}, "(like 128), not true"),
    (
        {"prompt": "a", "output_token": 8},
        'unknown key "output_token" (did you mean output_tokens?)',
    ),
    ({"messages": "hello"}, '"messages" must be a non-empty list of {"role", "content"} objects'),
    ({"messages": [{"role": "bot", "content": "x"}]}, 'messages[0]: "role" must be one of system,'),
    (
        {"messages": [{"role": "user"}]},
        'messages[0]: "content" must be a non-empty string, not null',
    ),
    (MESSAGES, 'line 1 has "prompt"; a file holds one kind'),
]


@pytest.mark.parametrize(("line", "message"), BAD_PROMPT_LINES)
def test_a_bad_prompt_line_is_named_by_its_number(
    tmp_path: Path, line: object, message: str
) -> None:
    path = write(tmp_path, PROMPT, "", line)  # a blank line is skipped, but counted
    with pytest.raises(DatasetFileError) as raised:
        load_prompts(path)
    text = str(raised.value)
    assert text.startswith(f"{path.resolve()}:3: "), text
    assert message in text and "\n" not in text


def test_an_empty_or_missing_file_says_what_to_write(tmp_path: Path) -> None:
    empty = write(tmp_path, "", "  ")
    with pytest.raises(DatasetFileError, match=r"no prompts \(the file is empty\); write one JSON"):
        load_prompts(empty)
    with pytest.raises(DatasetFileError, match=r"nothing\.jsonl: no such file; give the path of a"):
        load_prompts(tmp_path / "nothing.jsonl")
    with pytest.raises(DatasetFileError, match=r"no conversations \(the file is empty\)"):
        load_conversations(empty)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"prompt": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(DatasetFileError, match=r"not UTF-8 text .*save the file as UTF-8"):
        load_prompts(path)


BAD_CONVERSATIONS = [
    ({"turns": []}, "a conversation is a non-empty list of user turns"),
    ({"turn": ["a"]}, 'unknown key "turn" (did you mean turns?)'),
    ("3", "a conversation is a non-empty list of user turns"),
    (["a", 5], "turns[1]: a JSON number, not an object"),
    (["a", {"prompt": "b", "output_tokens": -1}], 'turns[1]: "output_tokens" must be a whole'),
    ([{"output_tokens": 4}], 'turns[0]: "prompt" must be a non-empty string, not null'),
]


@pytest.mark.parametrize(("line", "message"), BAD_CONVERSATIONS)
def test_a_bad_conversation_is_named_by_its_line(
    tmp_path: Path, line: object, message: str
) -> None:
    path = write(tmp_path, ["hello"], line)
    with pytest.raises(DatasetFileError) as raised:
        load_conversations(path)
    assert str(raised.value).startswith(f"{path.resolve()}:2: ") and message in str(raised.value)


def test_conversations_read_in_both_forms(tmp_path: Path) -> None:
    path = write(tmp_path, ["hi", {"prompt": "more", "output_tokens": 4}], {"turns": ["x"]})
    first, second = load_conversations(path)
    assert [(t.prompt, t.output_tokens) for t in first.turns] == [("hi", None), ("more", 4)]
    assert (second.line, len(second.turns)) == (2, 1)


def test_the_route_follows_what_the_file_holds(tmp_path: Path) -> None:
    prompts = str(write(tmp_path, PROMPT, name="p.jsonl"))
    chats = str(write(tmp_path, MESSAGES, name="m.jsonl"))
    talks = str(write(tmp_path, ["a", "b"], name="c.jsonl"))
    assert settings_from({"dataset": "jsonl", "dataset_path": prompts}).endpoint == COMPLETIONS
    asked = {"dataset": "jsonl", "dataset_path": prompts, "endpoint": "chat"}
    assert settings_from(asked).endpoint == CHAT, "a prompt goes to chat as a user message"
    assert settings_from({"dataset": "jsonl", "dataset_path": chats}).endpoint == CHAT
    assert settings_from({"dataset": "conversations", "dataset_path": talks}).endpoint == CHAT
    with pytest.raises(SettingsError, match="endpoint=completions: the dataset holds chat"):
        settings_from({"dataset": "jsonl", "dataset_path": chats, "endpoint": "completions"})


def test_settings_refuse_what_a_user_dataset_cannot_run_with(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="dataset=jsonl needs dataset_path=FILE"):
        settings_from({"dataset": "jsonl"})
    talks = str(write(tmp_path, ["a", "b"]))
    with pytest.raises(SettingsError, match="dataset=conversations does not take rate, workers"):
        settings_from({"dataset": "conversations", "dataset_path": talks, "rate": 2, "workers": 2})
    with pytest.raises(SettingsError, match="dataset=csv: use random, sharegpt, jsonl, conv"):
        settings_from({"dataset": "csv"})


def test_each_concurrency_sends_the_whole_file_unless_num_prompts_says(tmp_path: Path) -> None:
    path = str(write(tmp_path, PROMPT, PROMPT, PROMPT))
    settings = settings_from({"dataset": "jsonl", "dataset_path": path, "concurrency": "1,2"})
    assert [(p.concurrency, p.num_prompts) for p in plan_sweep(4096, 8, settings)] == [
        (1, 3),
        (2, 3),
    ]
    counted = settings_from({"dataset": "jsonl", "dataset_path": path, "num_prompts": 5})
    assert {p.num_prompts for p in plan_sweep(4096, 8, counted)} == {5}


def test_prompts_are_counted_by_the_tokenizer_and_copies_are_marked(tmp_path: Path) -> None:
    path = write(tmp_path, PROMPT, {"prompt": "just two"})
    prompts = JsonlDataset(path, seed=3, output_len=5).prompts(4, WordTokenizer())
    assert sorted({(p.text, p.prompt_tokens, p.output_tokens) for p in prompts[:2]}) == [
        ("just two", 2, 5),  # osl= for a line without its own output_tokens
        ("one two three", 3, 8),
    ]
    first, copies = prompts[:2], prompts[2:]
    assert [p.text for p in copies] == [f"[2] {p.text}" for p in first], "no prompt sent twice"
    assert [p.prompt_tokens for p in copies] == [p.prompt_tokens + 1 for p in first]
    [chat] = JsonlDataset(write(tmp_path, MESSAGES, name="m.jsonl")).prompts(1, WordTokenizer())
    assert chat.messages == (("system", "be brief"), ("user", "a b"))
    assert (chat.prompt_tokens, chat.output_tokens) == (4, 128)
    chats = JsonlDataset(write(tmp_path, MESSAGES, name="m.jsonl")).prompts(2, WordTokenizer())
    assert chats[1].messages == (("system", "[2] be brief"), ("user", "a b"))


def test_a_stress_single_point_runs_a_user_dataset(tmp_path: Path) -> None:
    path = str(write(tmp_path, PROMPT, PROMPT))
    args = {"dataset": "jsonl", "dataset_path": path, "concurrency": 2}
    plan = stress_plan(args | {"run_mode": "single"}, 4096, 8)
    assert [(p.isl, p.concurrency, p.num_prompts) for p in plan.points] == [(0, 2, 2)]
    with pytest.raises(SettingsError, match="add run_mode=single"):
        stress_plan(args, 4096, 8)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.setblocking(False)
        yield sock


def test_the_runner_stops_on_a_bad_line_before_contacting_the_server(
    run_cli: Callable[..., CliResult], listener: socket.socket, tmp_path: Path
) -> None:
    path = write(tmp_path, PROMPT, {"prompt": "a", "output_tokens": 1.5})
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    result = run_cli(
        "--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "benchmarks",
        "--server-url", url, "--workflow-args", f"dataset=jsonl dataset_path={path}",
    )  # fmt: skip
    assert result.code == 2 and "Traceback" not in result.err
    [line] = result.err.strip().splitlines()
    assert f'{path.resolve()}:2: "output_tokens" must be a whole number above 0' in line
    with pytest.raises(BlockingIOError):
        listener.accept()


def test_the_child_gets_the_file_by_its_whole_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load generator runs in the checkout: a path relative to the user's folder would
    name another file there."""
    write(tmp_path, PROMPT, name="mine.jsonl")
    monkeypatch.chdir(tmp_path)
    argv = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "benchmarks"]
    options = parse([*argv, "--workflow-args", "dataset=jsonl dataset_path=mine.jsonl"],
                    workflow_names())  # fmt: skip
    assert options is not None
    args = load_args(_config(options), "benchmarks")
    assert args["dataset_path"] == str(tmp_path / "mine.jsonl")
    monkeypatch.chdir("/")
    assert settings_from(args).dataset_size == 1
