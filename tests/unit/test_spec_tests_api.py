"""The spec tests of the API features current models are served with (issue 23, part 2):
structured output, tool calls, the Responses API, sampling parameters honoured, echo and prompt
logprobs, list prompts, and OpenAI's error bodies. Each passes against the emulator (in
test_spec_tests.py) and fails, saying how, against an emulator that lacks what it checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.spec_tests.checks_structured import COLOR_SCHEMA, schema_errors
from evals.spec_tests.engine_limits import Limit, LimitsError, engine_limits, expected_lacks
from evals.spec_tests.stream import read_stream
from tests.helpers import Emulator
from tests.unit.test_spec_tests import FAST, run_suite

LACKS = {  # the check -> (emulator flags, what its message says)
    "json_object": (("--ignore-fields", "response_format"), "the answer is not JSON"),
    "json_schema": (("--ignore-fields", "response_format"), "the answer is not JSON"),
    "tool_calls": (("--ignore-fields", "tools"), "tool_choice 'required': no tool_calls"),
    "tool_calls_stream": (("--ignore-fields", "tools"), "the stream carried no tool_calls"),
    "seed_varies": (("--ignore-fields", "seed"), "seeds (1, 2, 3) gave one text"),
    "penalties": (
        ("--ignore-fields", "presence_penalty,frequency_penalty"),
        "presence_penalty and frequency_penalty 2.0 did not cut repetition",
    ),
    "logit_bias": (("--ignore-fields", "logit_bias"), "the banned token ' tok' appeared"),
    "sampling_filters": (
        ("--ignore-fields", "top_k,top_p,min_p"),
        "top_k, top_p, min_p at their narrowest did not give the greedy text",
    ),
    "max_completion_tokens": (
        ("--ignore-fields", "max_completion_tokens"),
        "max_completion_tokens 12 gave 16 tokens",
    ),
    "echo": (("--ignore-fields", "echo"), "echo: the text does not start with the prompt"),
    "prompt_logprobs": (
        ("--ignore-fields", "echo"),
        "1 logprobs for 5 prompt tokens and 1 answered",
    ),
    "bad_parameter_error": (
        ("--ignore-fields", "temperature"),
        "a bad parameter answered HTTP 200",
    ),
    "unknown_model_error": ((), "the unknown model 'no-such-org/no-such-model' answered HTTP 200"),
    "context_overflow_error": (
        ("--overlong-prompt-status", "500"),
        "a prompt of 4112 tokens answered HTTP 500",
    ),
}


@pytest.mark.parametrize("check", sorted(LACKS))
def test_a_server_lacking_the_feature_fails_the_check(
    emulator: Emulator, tmp_path: Path, check: str
) -> None:
    flags, message = LACKS[check]
    code, output, document = run_suite(emulator(*FAST, *flags), tmp_path / "out", "--only", check)
    assert code == 1, output
    result = document["by_name"][check]
    assert result["status"] == "FAIL", result
    assert message in result["message"], result["message"]


def test_the_new_checks_record_what_the_server_answered(emulator: Emulator, tmp_path: Path) -> None:
    only = "json_schema,tool_calls_stream,responses_stream,unknown_model_error,logit_bias"
    url = emulator(*FAST, "--refuse-unknown-models")
    code, output, document = run_suite(url, tmp_path / "out", "--only", only)
    assert code == 0, output
    checks = {name: check["evidence"] for name, check in document["by_name"].items()}
    assert checks["json_schema"]["text"] == '{"color":"red"}'
    assert checks["tool_calls_stream"]["arguments"] == '{"city":"tok"}'
    assert checks["responses_stream"]["types"] == [
        "response.created",
        "response.output_text.delta",
        "response.output_text.done",
        "response.incomplete",
    ]
    assert checks["responses_stream"]["usage"]["output_tokens"] == 16
    assert checks["unknown_model_error"] == {
        "status": 404,
        "message": "the model 'no-such-org/no-such-model' does not exist",
        "type": "invalid_request_error",
    }
    assert checks["logit_bias"]["banned"] == " tok" and " tok" not in checks["logit_bias"]["tokens"]


def test_streamed_tool_call_deltas_assemble_into_one_call() -> None:
    deltas = [
        {"index": 0, "id": "call_1", "function": {"name": "get_weather", "arguments": ""}},
        {"index": 0, "function": {"arguments": '{"ci'}},
        {"index": 0, "function": {"arguments": 'ty": "Paris"}'}},
    ]
    lines = [b'data: {"choices": [{"delta": {"tool_calls": [%s]}}]}' % _json(d) for d in deltas]
    reply = read_stream([*lines, b"data: [DONE]"])
    assert reply.tool_calls == {
        0: {"id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'}
    }


def _json(value: object) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize(
    ("value", "problems"),
    [
        ({"color": "red"}, []),
        ({"color": "pink"}, ["$.color is 'pink', not one of ['red', 'green', 'blue']"]),
        ({}, ["$ lacks 'color'"]),
        ({"color": "red", "size": 1}, ["$ has 'size', not in the schema"]),
        (["red"], ["$ is ['red'], not an object"]),
    ],
)
def test_an_answer_is_validated_against_its_schema(value: object, problems: list[str]) -> None:
    assert schema_errors(value, COLOR_SCHEMA) == problems


def test_a_tool_lack_is_expected_only_of_a_server_that_does_not_claim_tools(
    emulator: Emulator, tmp_path: Path
) -> None:
    """llama.cpp says in GET /props whether its chat template has tools (the emulator answers
    as it would): a server that claims them is judged as any other, one that says no is
    expected to lack them, and its failure confirms it."""
    only = "tool_calls,tool_calls_stream"
    code, output, document = run_suite(
        emulator(*FAST), tmp_path / "claims", "--only", only, engine="llama_cpp"
    )
    assert code == 0, output
    assert [(c["status"], c["message"]) for c in document["checks"]] == [("PASS", "")] * 2
    url = emulator(*FAST, "--ignore-fields", "tools")
    code, output, document = run_suite(url, tmp_path / "lacks", "--only", only, engine="llama_cpp")
    assert code == 0, output
    check = document["by_name"]["tool_calls"]
    assert check["status"] == "SKIPPED"
    assert check["message"] == (
        "llama-server ignores tools when the model's chat template has none; GET /props "
        "chat_template_caps.supports_tool_calls: false (confirmed: tool_choice 'required': "
        "no tool_calls in the answer)"
    )


def test_what_the_server_says_decides_whether_a_lack_is_expected() -> None:
    limits = {
        "echo": Limit("ignores echo"),
        "tool_calls": Limit("no tools", "/props caps.tools"),
    }
    assert expected_lacks(limits, {"/props caps.tools": True}.get) == {"echo": "ignores echo"}
    assert expected_lacks(limits, {"/props caps.tools": False}.get) == {
        "echo": "ignores echo",
        "tool_calls": "no tools; GET /props caps.tools: false",
    }
    says_nothing: dict[str, object] = {}
    assert expected_lacks(limits, says_nothing.get)["tool_calls"] == (
        "no tools; GET /props caps.tools: null"
    )


def test_a_limit_is_a_reason_or_a_reason_and_what_the_server_says(tmp_path: Path) -> None:
    limits = tmp_path / "limits.yaml"
    limits.write_text(
        "vllm:\n  echo: lacks it\n"
        "  tool_calls: {reason: no tools, unless_server_says: /props caps.tools}\n"
    )
    assert engine_limits("vllm", limits) == {
        "echo": Limit("lacks it"),
        "tool_calls": Limit("no tools", "/props caps.tools"),
    }
    limits.write_text("vllm:\n  echo: {unless_server_says: /props caps.echo}\n")
    with pytest.raises(LimitsError, match="vllm: echo: expected a reason"):
        engine_limits("vllm", limits)
