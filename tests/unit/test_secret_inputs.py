"""Secrets a user hands the runner stay out of the run folder: credentials in --server-url are
refused without being shown, and the user's own API_KEY is never copied into the run folder of a
server the runner did not start (issue 19, items 2 and 3)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.helpers import FakeVllm, Run
from tests.unit.test_cli import latest, serve

PASSWORD = "S3cretPassw0rd"
KEY = "sk-USERSOWNKEY98765"


@pytest.mark.parametrize(
    "url",
    [
        f"http://alice:{PASSWORD}@127.0.0.1:8000",
        f"alice:{PASSWORD}@server.example:8000/v1",
        f"https://alice:{PASSWORD}@server.example",
        f"ftp://alice:{PASSWORD}@server.example",
    ],
)
def test_credentials_in_the_server_url_are_refused_and_never_shown(
    run_cli: Run, tmp_path: Path, url: str
) -> None:
    """They used to be printed (`server ready at ...`), stored in run.log and runtime_spec.json,
    and the children then failed with `Name or service not known`."""
    result = run_cli(
        "--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "benchmarks",
        "--server-url", url,
    )  # fmt: skip
    assert result.code == 2, result.out + result.err
    [line] = result.err.strip().splitlines()
    assert "carries credentials" in line and "set API_KEY (or JWT_SECRET)" in line
    assert "://***@server.example" in line or "://***@127.0.0.1:8000" in line
    assert PASSWORD not in result.out + result.err and "alice" not in result.out + result.err
    assert not (tmp_path / "workflow_logs").exists(), "nothing was written"


def test_the_users_key_is_not_copied_into_the_run_folder_of_a_server_it_did_not_start(
    run_cli: Run,
    tiny_registry: Path,
    fake_vllm: FakeVllm,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`<run>/api_token` held the user's API_KEY with --server-url, and CI uploads run folders."""
    assert serve(run_cli, tiny_registry, fake_vllm, "--no-auth").code == 0
    monkeypatch.setenv("API_KEY", KEY)
    result = run_cli(
        "--model", "Tiny-1B-Instruct", "--device", "n150", "--workflow", "server",
        "--model-specs-dir", str(tiny_registry), "--server-url", f"127.0.0.1:{fake_vllm.port}",
    )  # fmt: skip
    assert result.code == 0, result.err
    folder = latest(tmp_path)
    assert not (folder / "api_token").exists()
    holding = [p for p in folder.rglob("*") if p.is_file() and KEY in p.read_text()]
    assert holding == []
    assert 'curl -H "Authorization: Bearer $API_KEY"' in result.out
    assert "auth:  Authorization: Bearer $API_KEY (from API_KEY)" in result.out
    [bench] = [line for line in result.out.splitlines() if "bench:" in line]
    assert "API_KEY=" not in bench and "api_token" not in bench


def test_a_server_the_runner_starts_gets_its_token_file(
    run_cli: Run,
    tiny_registry: Path,
    fake_vllm: FakeVllm,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_KEY", KEY)
    assert serve(run_cli, tiny_registry, fake_vllm).code == 0
    token_file = latest(tmp_path) / "api_token"
    assert token_file.read_text().strip() == KEY
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
