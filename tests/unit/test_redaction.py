"""A secret a server echoes back (a 401 quoting the Authorization header) reaches no console line
and no file of the run folder: not in the load generator, not in the spec tests, not in a report
rebuilt later (issue 19, item 1)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from rich.console import Console

from evals.lm_eval_command import Endpoint
from evals.plan import plan_task
from reports.build import render_run
from reports.redaction import (
    redact,
    redact_file,
    redacting_stream,
    register_environment_secrets,
)
from reports.results import request_row, write_json, write_jsonl
from tests.helpers import (
    EVAL_TASK,
    Emulator,
    Run,
    benchmarking_process,
    free_port,
    wait_for,
)
from tests.run_folders import passing_run, spec_check
from tests.unit.test_spec_tests import run_suite
from workflows import command
from workflows.auth import Auth, mint_jwt
from workflows.bringup_line import last_line
from workflows.command import CommandResult
from workflows.redact import register_secret
from workflows.servers.docker_engine import _copy_logs
from workflows.servers.local import LocalProcessServer
from workflows.workflow_evals import EvalsRun

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


ODD_KEY = 'sk-"quo\\te\u00e9/+ KEY12345'  # JSON-escaped, URL-encoded and base64 all differ


@pytest.mark.parametrize("key", [KEY, ODD_KEY], ids=["plain", "json-special"])
def test_a_key_sent_back_encoded_is_masked(key: str) -> None:
    """A server may echo the key URL-encoded (a query string), JSON-escaped (a body quoted in a
    message, once or twice) or base64 (alone, URL-safe, or in basic auth's `user:key`): only
    the literal key used to be masked."""
    register_secret(key)
    forms = [
        quote(key, safe=""),
        quote_plus(key),
        json.dumps(key)[1:-1],
        json.dumps(json.dumps(key)[1:-1])[1:-1],
        base64.b64encode(key.encode()).decode(),
        base64.urlsafe_b64encode(key.encode()).decode(),
    ]
    for user in ("", "a", "ab", "alice"):  # each offset of the key in a 3-byte group
        forms.append(base64.b64encode(f"{user}:{key}".encode()).decode())
    for form in forms:
        shown = redact(f"error: token {form} refused")
        assert shown.endswith("*** refused"), (form, shown)  # to its end: no tail of the key
        assert len(shown) <= len("error: token YWxpY2U6*** refused"), (form, shown)


def test_masking_json_text_keeps_it_json() -> None:
    """A key with a quote and a backslash in a JSON document, whole or cut inside an escape: the
    masked text still parses (report.json, lm-eval's files are masked as text too)."""
    register_secret(ODD_KEY)
    document = {"answer": f"{ODD_KEY} {ODD_KEY[:9]}", "inner": json.dumps({"k": ODD_KEY})}
    for ascii_only in (True, False):
        text = redact(json.dumps(document, ensure_ascii=ascii_only))
        assert json.loads(text) == {"answer": "*** ***", "inner": '{"k": "***"}'}


def test_lm_evals_own_files_are_masked_when_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lm-eval writes its results and samples itself: a sample holds the server's answer word
    for word, an echoed key too. They are rewritten masked, still JSON, before they are read."""
    register_secret(KEY)
    register_secret(ODD_KEY)
    output = tmp_path / "evals" / "qa"
    results = output / "lm_eval" / "org__model" / "results_2026-12-05T18-00-00.json"
    samples = results.with_name("samples_qa_2026-12-05T18-00-00.jsonl")
    clean = results.with_name("samples_other.jsonl")

    def lm_eval(argv: list[str], **options: Any) -> CommandResult:
        """What lm-eval leaves: its files, and a log line holding the key JSON-escaped."""
        results.parent.mkdir(parents=True)
        results.write_text(json.dumps({"config": {"model_args": f"api_key={KEY}"}}, indent=2))
        rows = [
            {"doc_id": n, "resps": [[f"my key is {key}"]]} for n, key in enumerate([KEY, ODD_KEY])
        ]
        samples.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        clean.write_text('{"doc_id": 0,   "resps": []}\n')
        (output / "lm_eval.log").write_text(f"request body: {json.dumps({'key': ODD_KEY})}\n")
        return CommandResult(tuple(argv), 1, "lm-eval failed")

    monkeypatch.setattr(command, "run", lm_eval)
    evals_run = object.__new__(EvalsRun)
    evals_run.folder = tmp_path / "evals"
    evals_run.endpoint = Endpoint("http://127.0.0.1:8000", "org/model", KEY)
    evals_run.timeout = 60.0
    evals_run.ctx = SimpleNamespace(  # type: ignore[assignment]
        pythons={"evals": Path("python")},
        secrets={},
        console=Console(file=redacting_stream()),
        the_server=SimpleNamespace(death_notice=lambda: None),
        the_folder=SimpleNamespace(path=tmp_path),
    )
    row = evals_run._run_task(plan_task(EVAL_TASK, "vllm", 4096, 8, None, {}), None)
    assert row["files"]["results"] == str(results.relative_to(tmp_path))
    for key in (KEY, ODD_KEY, json.dumps(ODD_KEY)[1:-1]):
        assert files_holding(key, tmp_path) == [], key
    assert json.loads(results.read_text()) == {"config": {"model_args": "api_key=***"}}
    masked = [json.loads(line) for line in samples.read_text().splitlines()]
    assert [row["resps"] for row in masked] == [[["my key is ***"]], [["my key is ***"]]]
    assert clean.read_text() == '{"doc_id": 0,   "resps": []}\n', "a file without one: as it was"


@pytest.mark.parametrize("kept", [False, True], ids=["with-the-run", "kept-running"])
def test_a_local_servers_log_never_holds_the_key(tmp_path: Path, kept: bool) -> None:
    """server.log of a --local-server run is the process's own output: a server that prints the
    key it was given (or one a client sent, URL-encoded) wrote it there as is. The guard copies
    the output masked, also for a server kept running past the runner (`server` workflow)."""
    register_secret(KEY)
    printer = (
        "import os, sys, urllib.parse; key = os.environ['LLAMA_API_KEY']; print(os.getpid()); "
        "print('api key:', key); print('GET /v1?key=' + urllib.parse.quote(key), flush=True); "
        "sys.stdout.write('progress 50%\\r' + key + '\\r'); sys.stdout.flush()"
    )
    log = tmp_path / "server.log"
    server = LocalProcessServer(
        [sys.executable, "-c", printer],
        {"LLAMA_API_KEY": KEY},
        "127.0.0.1",
        free_port(),
        Auth(KEY, "generated"),
        log,
        detach=kept,
    )
    server.start()
    try:
        assert server.process is not None and server.process.wait(timeout=30) == 0
    finally:
        server.stop()
    # kept: the copier is a process of its own, which may write the last line a moment later
    assert wait_for(lambda: log.read_bytes().endswith(b"\r***\r"), 10), log.read_bytes()
    pid, shown = log.read_bytes().split(b"\n", 1)
    assert shown == b"api key: ***\nGET /v1?key=***\nprogress 50%\r***\r"
    if kept:  # the pid the runner prints to stop it (`kill PID`) is the server's own
        assert int(pid) == server.pid
    assert last_line(log) == "***"
