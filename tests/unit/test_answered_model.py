"""A server, or a proxy before it, that lists the expected model in /v1/models and answers as
another (issue 19, what was left): every answer's `model` says which. The spec tests'
response_model check FAILs naming both, and the load generator counts each stream whose first
chunk names another model a failed request, its `response_model` in the request row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from benchmarking.client import driver
from benchmarking.client.connection import RawResponse
from benchmarking.client.result import build_result
from tests.helpers import SPEC_REPO, Emulator, benchmarking_process, point_files
from tests.unit.test_spec_tests import FAST, run_suite

OTHER = "other/model"
ROUTES: dict[str, dict[str, Any]] = {
    "/v1/completions": {"prompt": "Hello"},
    "/v1/chat/completions": {"messages": [{"role": "user", "content": "Hello"}]},
}
SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"


def streamed_models(url: str, path: str, body: dict[str, Any]) -> list[object]:
    """The `model` of each chunk of a streamed answer (usage chunk included)."""
    asked = {"model": SPEC_REPO, "max_tokens": 3, "stream": True, **body}
    asked["stream_options"] = {"include_usage": True}
    with requests.post(f"{url}{path}", json=asked, stream=True, timeout=30) as reply:
        lines = [line for line in reply.iter_lines() if line.startswith(b"data: {")]
    return [json.loads(line[5:]).get("model") for line in lines]


def test_the_emulator_lists_its_model_and_answers_as_another(emulator: Emulator) -> None:
    url = emulator(*FAST, "--answer-as", OTHER)
    listed = requests.get(f"{url}/v1/models", timeout=30).json()["data"]
    assert [entry["id"] for entry in listed] == [SPEC_REPO]
    for path, body in ROUTES.items():
        whole = {"model": SPEC_REPO, "max_tokens": 3, **body}
        assert requests.post(f"{url}{path}", json=whole, timeout=30).json()["model"] == OTHER
        models = streamed_models(url, path, body)
        assert len(models) >= 3 and set(models) == {OTHER}, (path, models)


def test_the_emulator_answers_as_the_model_it_lists_by_default(emulator: Emulator) -> None:
    url = emulator(*FAST)
    for path, body in ROUTES.items():
        assert set(streamed_models(url, path, body)) == {SPEC_REPO}


def test_response_model_fails_naming_both_models(emulator: Emulator, tmp_path: Path) -> None:
    """GET /v1/models alone used to decide: this server passed as acme/Tiny."""
    url = emulator(*FAST, "--answer-as", OTHER)
    only = "models_list,response_model"
    code, output, document = run_suite(url, tmp_path / "out", "--only", only)
    assert code == 1, output
    assert document["by_name"]["models_list"]["status"] == "PASS"
    check = document["by_name"]["response_model"]
    assert check["status"] == "FAIL", check
    assert check["message"] == (
        "the server lists 'acme/Tiny' but answered as 'other/model' "
        "(completions, chat, completions_stream, chat_stream)"
    )
    assert check["evidence"]["named"]["chat_stream"] == [OTHER]


def test_response_model_passes_when_the_answers_name_the_listed_model(
    emulator: Emulator, tmp_path: Path
) -> None:
    code, output, document = run_suite(
        emulator(*FAST), tmp_path / "out", "--only", "response_model"
    )
    assert code == 0, output
    evidence = document["by_name"]["response_model"]["evidence"]
    assert evidence["named"] == {name: [SPEC_REPO] for name in evidence["named"]}


def stream_of(*models: str | None) -> RawResponse:
    """A whole stream of one token chunk per model (None: a chunk without `model`)."""
    events = []
    for model in models:
        chunk: dict[str, object] = {"choices": [{"index": 0, "text": " tok"}]}
        events.append(chunk if model is None else {"model": model, **chunk})
    body = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    return RawResponse(sent_ns=0, reads=[(1_000_000, SSE_HEAD + body + b"data: [DONE]\n\n")])


def test_a_stream_answered_as_another_model_is_a_failed_request() -> None:
    result = build_result(0, stream_of(OTHER, OTHER), 0, 8, driver.count_words, SPEC_REPO)
    assert not result.success
    assert result.error == f"answered as {OTHER}, not {SPEC_REPO}"
    assert result.response_model == OTHER and result.client_output_tokens == 2


def test_only_the_first_chunk_naming_a_model_is_judged() -> None:
    result = build_result(0, stream_of(None, SPEC_REPO, OTHER), 0, 8, driver.count_words, SPEC_REPO)
    assert (result.success, result.response_model) == (True, SPEC_REPO)
    unnamed = build_result(0, stream_of(None, None), 0, 8, driver.count_words, SPEC_REPO)
    assert (unnamed.success, unnamed.response_model) == (True, None)
    unchecked = build_result(0, stream_of(OTHER), 0, 8, driver.count_words)
    assert (unchecked.success, unchecked.response_model) == (True, OTHER)


def test_a_benchmark_of_a_server_answering_as_another_model_fails(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "1", "--answer-as", OTHER)
    args = {"isl": 16, "osl": 8, "concurrency": 2, "num_prompts": 4, "warmups": 0}
    process = benchmarking_process(url, tmp_path / "out", args)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output
    assert f"4 x answered as {OTHER}, not {SPEC_REPO}" in output
    [(document, rows)] = point_files(tmp_path / "out")
    assert (document["completed"], document["failed"]) == (0, 4)
    assert {row["response_model"] for row in rows} == {OTHER}
    assert not any(row["success"] for row in rows)


def test_a_benchmark_records_the_model_each_request_was_answered_as(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "1")
    args = {"isl": 16, "osl": 8, "concurrency": 2, "num_prompts": 4, "warmups": 0}
    process = benchmarking_process(url, tmp_path / "out", args)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    [(document, rows)] = point_files(tmp_path / "out")
    assert document["failed"] == 0
    assert [row["response_model"] for row in rows] == [SPEC_REPO] * 4
