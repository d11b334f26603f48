"""A secret a server echoes back (a 401 quoting the Authorization header) reaches no console line
and no file of the run folder: not in the load generator, not in the spec tests, not in a report
rebuilt later (issue 19, item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from reports.build import render_run
from reports.redaction import (
    redact,
    redact_file,
    redacting_stream,
    register_environment_secrets,
)
from reports.results import request_row, write_json, write_jsonl
from tests.helpers import Emulator, Run, benchmarking_process
from tests.run_folders import passing_run, spec_check
from tests.unit.test_spec_tests import run_suite
from workflows.auth import mint_jwt
from workflows.redact import register_secret
from workflows.servers.docker_engine import _copy_logs

KEY = "sk-SECRETKEY12345"
ECHOED = f'{{"error": {{"message": "bad token Bearer {KEY}"}}}}'
LOAD = {"isl": 32, "osl": 8, "concurrency": 1, "num_prompts": 2, "warmups": 0}


def files_holding(text: str, folder: Path) -> list[Path]:
    return [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file() and text in path.read_text(errors="replace")
    ]


def test_a_secret_is_masked_whole_or_cut_short() -> None:
    """Error bodies are cut (`body[:200]`, `line[:197] + '...'`): the part of a key before the
    cut used to stay readable."""
    register_secret(KEY)
    assert redact(ECHOED) == '{"error": {"message": "bad token Bearer ***"}}'
    assert redact(f"bad token Bearer {KEY[:-4]}") == "bad token Bearer ***"
    assert redact(f"bad token Bearer {KEY[:12]}...") == "bad token Bearer ***..."
    assert redact("nothing secret here: sk-") == "nothing secret here: sk-"


def test_a_child_registers_the_secrets_of_its_environment() -> None:
    register_environment_secrets({"OPENAI_API_KEY": KEY, "HF_TOKEN": "hf_abcdefgh1234", "X": "x"})
    assert redact(f"{KEY} hf_abcdefgh1234") == "*** ***"


def test_a_redacting_console_never_prints_a_secret(capsys: pytest.CaptureFixture[str]) -> None:
    register_secret(KEY)
    console = Console(file=redacting_stream(), highlight=False, soft_wrap=True)
    console.print(f"error: got HTTP 401: {ECHOED}")
    shown = capsys.readouterr().out
    assert KEY not in shown and "bad token Bearer ***" in shown


def test_result_files_mask_a_secret_in_values_and_keys(tmp_path: Path) -> None:
    register_secret(KEY)
    write_json(tmp_path / "point.json", {"errors": [ECHOED], "error_counts": {ECHOED: 2}})
    write_jsonl(tmp_path / "rows.jsonl", [request_row(index=0, success=False, error=ECHOED)])
    assert files_holding(KEY, tmp_path) == []
    document = json.loads((tmp_path / "point.json").read_text())
    assert document["error_counts"] == {'{"error": {"message": "bad token Bearer ***"}}': 2}


def test_a_tools_log_is_rewritten_without_the_secret(tmp_path: Path) -> None:
    """AIPerf and GuideLLM write their own logs into the run folder, server errors included."""
    register_secret(KEY)
    log = tmp_path / "aiperf.log"
    log.write_text(f"request failed: {ECHOED}\n")
    redact_file(log)
    assert log.read_text() == 'request failed: {"error": {"message": "bad token Bearer ***"}}\n'


def test_a_containers_log_is_copied_without_the_secret(tmp_path: Path) -> None:
    """server.log of a --docker-server run is the container's output, copied by the runner."""

    class Container:
        def logs(self, stream: bool, follow: bool) -> list[bytes]:
            return [b"INFO api_key=" + KEY.encode() + b"\n", "caf\u00e9\n".encode()[:4], b"\xa9\n"]

    register_secret(KEY)
    log = tmp_path / "server.log"
    _copy_logs(Container(), log)
    assert log.read_text() == "INFO api_key=***\ncaf\u00e9\n", "a character split across chunks"


@pytest.mark.parametrize("trace_capture", [True, False], ids=["trace-capture", "no-trace-capture"])
def test_the_load_generator_masks_a_token_the_server_echoes(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trace_capture: bool
) -> None:
    """The console used to print `trace capture at 128 tokens got HTTP 401: ... Bearer sk-...`,
    and without trace capture the key landed in benchmark_*.json and *_requests.jsonl."""
    monkeypatch.setenv("EMULATOR_API_KEY", KEY)
    url = emulator("--echo-auth-in-errors", "--ttft-ms", "1", "--itl-ms", "1")
    out = tmp_path / "benchmarks"
    process = benchmarking_process(url, out, LOAD, api_key=KEY, trace_capture=trace_capture)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output
    assert "HTTP 401" in output and "bad token Bearer ***" in output
    assert KEY not in output
    assert files_holding(KEY, tmp_path) == []
    if not trace_capture:
        [rows] = out.glob("*_requests.jsonl")
        assert "bad token Bearer ***" in rows.read_text()


def test_the_spec_tests_mask_a_token_the_server_echoes(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check's message holds the server's error body; 500 so that the suite's first probe,
    which stops at a 401, lets the checks run."""
    monkeypatch.setenv("EMULATOR_API_KEY", KEY)
    url = emulator("--echo-auth-in-errors", "500", "--ttft-ms", "1", "--itl-ms", "1")
    code, output, document = run_suite(url, tmp_path / "out", "--only", "completions", token=KEY)
    assert code == 1, output
    assert "Bearer ***" in document["by_name"]["completions"]["message"]
    assert KEY not in output
    assert files_holding(KEY, tmp_path) == []


def echoing_run(folder: Path, token: str) -> Path:
    """A run folder whose spec test result holds a token (written by a runner without the
    redaction), to be rendered by a later `--workflow reports`."""
    run = passing_run(folder, checks=[spec_check("chat", "FAIL", f"HTTP 401: bad token {token}")])
    path = run / "spec_tests" / "spec_tests.json"
    path.write_text(path.read_text().replace("***", token))
    return run


def test_a_report_masks_the_secrets_its_process_knows(tmp_path: Path) -> None:
    run = echoing_run(tmp_path / "run", KEY)
    register_secret(KEY)
    rendered = render_run(run)
    assert files_holding(KEY, run / "report") == []
    assert "bad token ***" in rendered.files["markdown"].read_text()


def test_a_report_masks_a_secret_its_formats_would_escape(tmp_path: Path) -> None:
    """Masked before rendering: in report.html and junit.xml `&` and `<` become entities, and a
    mask applied to the rendered text alone would miss them."""
    key = "sk-A&B<C>1234567"
    run = echoing_run(tmp_path / "run", key)
    register_secret(key)
    render_run(run)
    for escaped in (key, "sk-A&amp;B&lt;C&gt;1234567", "sk-A&amp;B"):
        assert files_holding(escaped, run / "report") == [], escaped


@pytest.mark.parametrize("variable", ["API_KEY", "JWT_SECRET"])
def test_the_reports_workflow_masks_the_key_and_the_token_made_from_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Run, variable: str
) -> None:
    """`--workflow reports` read no secret: a rebuilt report showed the key or the JWT."""
    secret = "a-jwt-secret-of-the-team-1234" if variable == "JWT_SECRET" else KEY
    token = mint_jwt(secret) if variable == "JWT_SECRET" else KEY
    run = echoing_run(tmp_path / "run", token)
    monkeypatch.setenv(variable, secret)
    result = run_cli("--workflow", "reports", "--run-dir", str(run))
    assert result.code == 5, result.out + result.err  # not accepted: the check failed
    assert files_holding(token, run / "report") == []
    assert token not in result.out + result.err
