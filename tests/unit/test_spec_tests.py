"""The spec_tests suite against the emulator: a conformant server passes, and each way a server
can break the API makes the suite fail, with a message that says how."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarking.server_api import API_KEY_ENV
from evals.spec_tests.catalog import NAMES
from evals.spec_tests.engine_limits import LimitsError, engine_limits
from tests.helpers import REPO_ROOT, RUNTIME_SPEC, Emulator, wait_for

FAST = ("--ttft-ms", "1", "--itl-ms", "1", "--max-context", "4096")


def suite_process(
    url: str, out: Path, *args: str, engine: str = "emulator", token: str | None = None
) -> subprocess.Popen[str]:
    """`python -m evals.spec_tests` against `url`, as the runner starts it, output captured."""
    spec = out.parent / f"{out.name}-runtime_spec.json"
    runtime: dict[str, Any] = json.loads(json.dumps(RUNTIME_SPEC))
    runtime["model_spec"]["inference_engine"] = engine
    spec.write_text(json.dumps(runtime))
    argv = ["--runtime-spec", str(spec), "--server-url", url, "--output-dir", str(out), *args]
    env = {k: v for k, v in os.environ.items() if k != API_KEY_ENV} | (
        {API_KEY_ENV: token} if token else {}
    )
    return subprocess.Popen(
        [sys.executable, "-m", "evals.spec_tests", *argv],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_suite(url: str, out: Path, *args: str, **kw: Any) -> tuple[int, str, dict[str, Any]]:
    """Exit code, console output, and the result file's checks by name (in the file)."""
    process = suite_process(url, out, *args, **kw)
    output, _ = process.communicate(timeout=120)
    path = out / "spec_tests.json"
    document = json.loads(path.read_text()) if path.exists() else {"checks": []}
    document["by_name"] = {check["name"]: check for check in document["checks"]}
    return process.returncode, output, document


def test_a_conformant_server_passes_every_check(emulator: Emulator, tmp_path: Path) -> None:
    code, output, document = run_suite(emulator(*FAST, "--refuse-unknown-models"), tmp_path / "out")
    assert code == 0, output
    statuses = {name: check["status"] for name, check in document["by_name"].items()}
    assert statuses == {name: "PASS" for name in NAMES} | {"auth_required": "SKIPPED"}
    assert document["by_name"]["auth_required"]["message"] == "auth is off"
    assert document["complete"] is True and document["kind"] == "spec_tests"
    assert document["summary"] == {"passed": 37, "failed": 0, "skipped": 1, "errors": 0}
    assert "[ 8/38] stop_sequences" in output and "PASS" in output


def test_models_list_fails_when_the_expected_model_is_absent(
    emulator: Emulator, tmp_path: Path
) -> None:
    """It used to take the first listed model as the expected one: another model passed."""
    url = emulator(*FAST, "--model", "meta-llama/Llama-3.1-70B-Instruct")
    code, output, document = run_suite(url, tmp_path / "out", "--only", "models_list")
    assert code == 1, output
    check = document["by_name"]["models_list"]
    assert check["status"] == "FAIL", check
    assert check["message"] == (
        "the server does not list 'acme/Tiny': GET /v1/models lists "
        "['meta-llama/Llama-3.1-70B-Instruct']"
    )
    assert document["served_model"] == "acme/Tiny", "the requests name the expected model"


def test_a_server_answering_500_fails_and_says_so(emulator: Emulator, tmp_path: Path) -> None:
    url = emulator(*FAST, "--fail-every", "1")
    code, output, document = run_suite(url, tmp_path / "out", "--only", "models_list,chat")
    assert code == 1, output
    assert document["by_name"]["models_list"]["status"] == "PASS"
    chat = document["by_name"]["chat"]
    assert chat["status"] == "FAIL" and "HTTP 500" in chat["message"], chat


def test_a_stream_with_an_error_event_fails_only_the_streamed_checks(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator(*FAST, "--error-mid-stream-every", "1")
    only = "completions,completions_stream,chat_stream"
    code, output, document = run_suite(url, tmp_path / "out", "--only", only)
    assert code == 1, output
    checks = document["by_name"]
    assert checks["completions"]["status"] == "PASS"
    for name in ("completions_stream", "chat_stream"):
        assert checks[name]["status"] == "FAIL"
        assert (
            "the stream sent an error event: injected mid-stream error" in checks[name]["message"]
        )


def test_a_dropped_connection_is_retried_once_then_an_error(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator(*FAST, "--cut-after-headers-every", "1")
    code, output, document = run_suite(url, tmp_path / "out", "--only", "chat_stream")
    assert code == 1, output
    check = document["by_name"]["chat_stream"]
    assert (check["status"], check["attempts"]) == ("ERROR", 2), check
    assert check["message"].startswith("connection error")


def test_an_ignored_stop_string_fails(emulator: Emulator, tmp_path: Path) -> None:
    url = emulator(*FAST, "--ignore-stop")
    code, output, document = run_suite(url, tmp_path / "out", "--only", "stop_sequences")
    assert code == 1, output
    message = document["by_name"]["stop_sequences"]["message"]
    assert "completions: the text contains the stop string ' 6'" in message


def test_miscounted_usage_fails(emulator: Emulator, tmp_path: Path) -> None:
    url = emulator(*FAST, "--usage-off-by", "1")
    only = "usage_counts,max_tokens_exact"
    code, output, document = run_suite(url, tmp_path / "out", "--only", only)
    assert code == 1, output
    checks = document["by_name"]
    assert checks["usage_counts"]["message"] == "usage.completion_tokens 17 ≠ 16 streamed"
    assert "{'completions': 25, 'chat': 25}" in checks["max_tokens_exact"]["message"]


def test_a_5xx_on_an_overlong_prompt_fails(emulator: Emulator, tmp_path: Path) -> None:
    url = emulator(*FAST, "--overlong-prompt-status", "500")
    only = "max_context_prompt,over_max_context_rejected"
    code, output, document = run_suite(url, tmp_path / "out", "--only", only)
    assert code == 1, output
    checks = document["by_name"]
    assert checks["max_context_prompt"]["status"] == "PASS", "the prompt that fits still works"
    assert "answered HTTP 500, not a 4xx" in checks["over_max_context_rejected"]["message"]


def test_an_engine_lack_the_server_confirms_is_skipped_with_its_reason(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A check the engine is expected to lack still runs: its failure, said beside the reason,
    confirms the expectation."""
    url = emulator(*FAST, "--ignore-fields", "logprobs")  # lacks completions logprobs
    code, output, document = run_suite(
        url, tmp_path / "out", "--only", "completions_logprobs", engine="llama_cpp"
    )
    assert code == 0, output
    skipped = document["by_name"]["completions_logprobs"]
    assert (skipped["status"], skipped["attempts"]) == ("SKIPPED", 1)
    assert "in the chat shape" in skipped["message"] and "in the chat shape" in output
    assert "(confirmed: choices[0].logprobs has no tokens list)" in skipped["message"]
    assert skipped["evidence"]["server_said"] == "choices[0].logprobs has no tokens list"


def test_an_engine_lack_the_server_contradicts_passes_and_says_it_is_stale(
    emulator: Emulator, tmp_path: Path
) -> None:
    only = "chat_logprobs,completions_logprobs"
    code, output, document = run_suite(
        emulator(*FAST), tmp_path / "out", "--only", only, engine="llama_cpp"
    )
    assert code == 0, output
    passed = document["by_name"]["completions_logprobs"]
    assert passed["status"] == "PASS"
    assert passed["message"].startswith("passes, though engine_limits.yaml says the engine lacks")
    assert passed["message"].endswith("stale") and "in the chat shape" in passed["message"]
    assert document["by_name"]["chat_logprobs"]["status"] == "PASS"


def test_an_unknown_check_in_engine_limits_is_named(tmp_path: Path) -> None:
    limits = tmp_path / "limits.yaml"
    limits.write_text("vllm:\n  n_choice: lacks it\n")
    with pytest.raises(LimitsError, match=r"unknown check 'n_choice' \(did you mean n_choices"):
        engine_limits("vllm", limits)


def test_finished_checks_are_on_disk_before_the_suite_ends(
    emulator: Emulator, tmp_path: Path
) -> None:
    """A suite killed mid-check leaves the checks it finished, marked incomplete."""
    url = emulator(*FAST, "--prefill-ms-per-token", "100")  # the long prompt takes minutes
    out = tmp_path / "out"
    process = suite_process(url, out, "--only", "models_list,max_context_prompt")
    result = out / "spec_tests.json"
    try:
        assert wait_for(result.exists, 30)
    finally:
        process.kill()
        process.communicate()
    document = json.loads(result.read_text())
    assert [c["name"] for c in document["checks"]] == ["models_list"]
    assert document["complete"] is False and document["checks"][0]["status"] == "PASS"


def test_auth_is_checked_when_a_token_is_given(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMULATOR_API_KEY", "s3cret")
    url = emulator(*FAST)
    code, output, document = run_suite(
        url, tmp_path / "ok", "--only", "auth_required", token="s3cret"
    )
    assert code == 0, output
    assert document["by_name"]["auth_required"]["evidence"]["statuses"] == {
        "no_token": 401,
        "wrong_token": 401,
    }
    code, output, _ = run_suite(url, tmp_path / "none", "--only", "chat")
    assert code == 3
    assert output.startswith("error: the server at") and "API_KEY or JWT_SECRET" in output


def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path) -> None:
    code, output, _ = run_suite("http://127.0.0.1:9", tmp_path / "out", "--only", "n_choice")
    assert code == 2
    assert output.strip() == "error: --only: unknown check 'n_choice'; did you mean n_choices?"
