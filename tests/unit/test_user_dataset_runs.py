"""A user's prompts and conversations sent to the emulator by `python -m benchmarking`: the
requests it received (count, route, content, order) against the files, and the lengths and
per-turn figures the results report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarking.emulator.openai_fields import TOKEN_TEXT
from tests.helpers import Emulator, benchmarking_process, point_files, records

FAST = ("--ttft-ms", "5", "--itl-ms", "1", "--record-prompts")


def write_lines(path: Path, entries: list[object]) -> Path:
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    return path


def run(url: str, out: Path, args: dict[str, object]) -> str:
    process = benchmarking_process(url, out, {"warmups": 0} | args)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    return output


def received(url: str, document: dict[str, Any], rows: list[dict[str, Any]]) -> list[Any]:
    """What the emulator recorded of each row's request, in row order."""
    truth = records(url)
    tag = f"{document['dataset']}_maxcon-{document['concurrency']}_n-"
    [stem] = {key.rsplit("-", 1)[0] for key in truth if key.startswith(tag)}
    return [truth[f"{stem}-{row['index']}"] for row in rows]


def test_prompt_lines_go_to_completions_with_their_lengths(
    tmp_path: Path, emulator: Emulator
) -> None:
    words = [3, 12, 7, 5, 9]
    entries: list[object] = [
        {"prompt": " ".join(["w"] * n) + f" {i}", "output_tokens": 4 + i}
        for i, n in enumerate(words)
    ]
    path = write_lines(tmp_path / "prompts.jsonl", entries)
    url = emulator(*FAST)
    args = {"dataset": "jsonl", "dataset_path": str(path), "concurrency": 2}
    output = run(url, tmp_path / "out", args)
    [(document, rows)] = point_files(tmp_path / "out")
    assert (document["num_prompts"], document["completed"]) == (5, 5)
    assert document["endpoint_type"] == "/v1/completions" and document["backend"] == "openai"
    sent = received(url, document, rows)
    assert {r["route"] for r in sent} == {"/v1/completions"}
    assert sorted(r["received"] for r in sent) == sorted(e["prompt"] for e in entries)  # type: ignore[index]
    lengths = document["dataset_lengths"]
    assert lengths["isl"] == {"mean": 8.2, "min": 4, "max": 13}, "words plus the number"
    assert lengths["osl"] == {"mean": 6.0, "min": 4, "max": 8}
    assert lengths["tokenizer"] == "server"
    assert [r["prompt_tokens"] for r in rows] == [r["prompt_tokens"] for r in sent]
    assert "dataset jsonl, ISL mean 8.2 (min 4, max 13), OSL mean 6 (min 4, max 8)" in output


def test_message_lines_go_to_chat_as_written(tmp_path: Path, emulator: Emulator) -> None:
    chats = [
        [{"role": "system", "content": "be brief"}, {"role": "user", "content": f"q{i} " * i}]
        for i in range(1, 4)
    ]
    path = write_lines(tmp_path / "chats.jsonl", [{"messages": m} for m in chats])
    url = emulator(*FAST)
    args = {"dataset": "jsonl", "dataset_path": str(path), "osl": 3, "concurrency": 3}
    run(url, tmp_path / "out", args)
    [(document, rows)] = point_files(tmp_path / "out")
    assert document["endpoint_type"] == "/v1/chat/completions" and document["completed"] == 3
    sent = received(url, document, rows)
    assert {r["route"] for r in sent} == {"/v1/chat/completions"}
    assert sorted(map(json.dumps, (r["received"] for r in sent))) == sorted(map(json.dumps, chats))
    assert document["dataset_lengths"]["isl"] == {"mean": 4.0, "min": 3, "max": 5}
    assert document["dataset_lengths"]["osl"] == {"mean": 3.0, "min": 3, "max": 3}


CONVERSATIONS = [
    [" ".join(["a"] * 40), {"prompt": "b " * 40, "output_tokens": 3}, "c"],
    ["d " * 40, "e"],
    [{"prompt": "f " * 40, "output_tokens": 2}],
]


def test_conversations_replay_each_turn_with_the_answers_before_it(
    tmp_path: Path, emulator: Emulator
) -> None:
    path = write_lines(tmp_path / "talks.jsonl", CONVERSATIONS)
    url = emulator(*FAST, "--prefill-ms-per-token", "2")
    args = {"dataset": "conversations", "dataset_path": str(path), "concurrency": 2, "osl": 4}
    output = run(url, tmp_path / "out", args)
    [(document, rows)] = point_files(tmp_path / "out")
    assert (document["num_prompts"], document["completed"], document["failed"]) == (6, 6, 0)
    assert document["endpoint_type"] == "/v1/chat/completions"
    assert sorted((r["conversation"], r["turn"]) for r in rows) == [
        (1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (3, 1),
    ]  # fmt: skip
    sent = received(url, document, rows)
    by_key = {(row["conversation"], row["turn"]): r for row, r in zip(rows, sent, strict=True)}
    for (line, turn), record in by_key.items():
        assert record["route"] == "/v1/chat/completions"
        assert record["received"] == history(CONVERSATIONS[line - 1], turn), (line, turn)
        if turn > 1:
            before = by_key[(line, turn - 1)]
            assert record["received_ns"] > before["chunk_ns"][-1], "turns wait for the answer"
    assert most_in_flight(sent) == 2, "two conversations at a time, never three"
    turns = document["conversations"]
    assert (turns["conversations"], turns["requests"]) == (3, 6)
    first, second, third = turns["by_turn"]
    assert [t["requests"] for t in (first, second, third)] == [3, 2, 1]
    assert first["cached_share"] == 0 and second["cached_share"] > 0.3
    full_prefill_ms = 5 + 2 * second["mean_prompt_tokens"]
    assert second["mean_ttft_ms"] < full_prefill_ms - 30, "the cached history is not prefilled"
    assert "turn 2: 2/2 completed, ISL mean" in output


def history(conversation: list[Any], turn: int) -> list[dict[str, str]]:
    """The messages turn `turn` should carry: every earlier turn and the emulator's answer to
    it (TOKEN_TEXT once per output token asked for), then its own."""
    messages = []
    for number, entry in enumerate(conversation[:turn], 1):
        prompt = entry if isinstance(entry, str) else entry["prompt"]
        messages.append({"role": "user", "content": prompt})
        if number < turn:
            asked = 4 if isinstance(entry, str) else entry.get("output_tokens", 4)
            messages.append({"role": "assistant", "content": TOKEN_TEXT * asked})
    return messages


def most_in_flight(sent: list[dict[str, Any]]) -> int:
    """The most requests the emulator held at once (received to last chunk)."""
    events = sorted([(r["received_ns"], 1) for r in sent] + [(r["chunk_ns"][-1], -1) for r in sent])
    running = most = 0
    for _, step in events:
        running += step
        most = max(most, running)
    return most


def test_a_failed_turn_ends_its_conversation(tmp_path: Path, emulator: Emulator) -> None:
    """Its later turns have no history to send: they are failed rows, not sent."""
    path = write_lines(tmp_path / "talk.jsonl", [["one", "two", "three"]])
    url = emulator(*FAST, "--fail-every", "2")  # the second request gets HTTP 500
    args = {"dataset": "conversations", "dataset_path": str(path), "concurrency": 1}
    run(url, tmp_path / "out", args | {"osl": 2, "max_failed": 1})
    [(document, rows)] = point_files(tmp_path / "out")
    assert (document["completed"], document["failed"]) == (1, 2)
    assert [(r["turn"], r["success"]) for r in rows] == [(1, True), (2, False), (3, False)]
    assert rows[1]["error"].startswith("HTTP 500")
    assert rows[2]["error"] == "not sent: turn 2 of its conversation failed"
    assert len(records(url)) == 2, "the third turn never reached the server"


def test_a_stress_single_point_sends_the_file(tmp_path: Path, emulator: Emulator) -> None:
    path = write_lines(tmp_path / "prompts.jsonl", [{"prompt": f"p{i} x y"} for i in range(6)])
    url = emulator(*FAST)
    args = {"run_mode": "single", "dataset": "jsonl", "dataset_path": str(path), "concurrency": 3}
    process = benchmarking_process(url, tmp_path / "out", args | {"warmups": 0}, "stress_tests")
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    [(document, _rows)] = point_files(tmp_path / "out")
    assert (document["kind"], document["dataset"], document["completed"]) == (
        "stress_test",
        "jsonl",
        6,
    )
    assert document["dataset_lengths"]["isl"] == {"mean": 3.0, "min": 3, "max": 3}
    assert {r["route"] for r in records(url).values()} == {"/v1/completions"}
