"""Auth: JWT from JWT_SECRET, API_KEY as is, .env support, and no secret in any log line."""

from __future__ import annotations

import logging
from pathlib import Path

import jwt
import pytest

from workflows.auth import JWT_CLAIMS, mint_jwt, resolve_auth
from workflows.redact import RedactingFilter, redact
from workflows.secrets import Secrets, load_secrets


def given(**values: str) -> Secrets:
    return Secrets(values)


def test_jwt_is_hs256_over_fixed_claims_and_stable() -> None:
    token = mint_jwt("s3cret-value")
    with pytest.warns(jwt.warnings.InsecureKeyLengthWarning):
        assert jwt.decode(token, "s3cret-value", algorithms=["HS256"]) == JWT_CLAIMS
    assert mint_jwt("s3cret-value") == token
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_jwt_secret_wins_over_api_key() -> None:
    auth = resolve_auth(given(JWT_SECRET="s3cret-value", API_KEY="key-1234"), False, False)
    assert auth.source == "JWT_SECRET"
    assert auth.headers() == {"Authorization": f"Bearer {mint_jwt('s3cret-value')}"}


def test_api_key_used_as_is_and_no_auth_disables() -> None:
    assert resolve_auth(given(API_KEY="key-1234"), False, False).token == "key-1234"
    assert resolve_auth(given(API_KEY="key-1234"), True, True).headers() == {}


def test_server_we_start_gets_a_random_key_when_none_is_set() -> None:
    first = resolve_auth(given(), False, generate=True)
    second = resolve_auth(given(), False, generate=True)
    assert first.token and second.token and first.token != second.token
    assert resolve_auth(given(), False, generate=False).token is None


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("JWT_SECRET=from-dotenv-file\nAPI_KEY=dotenv-key\n")
    found = load_secrets({"API_KEY": "env-key-99"}, dotenv)
    assert found.get("JWT_SECRET") == "from-dotenv-file" and found.origin("JWT_SECRET") == ".env"
    assert found.get("API_KEY") == "env-key-99" and found.origin("API_KEY") == "environment"


def test_only_secret_variables_are_taken_from_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("HF_TOKEN=hf_fromdotenv123\nPATH=/nowhere\n")
    found = load_secrets({}, dotenv)
    assert found.get("HF_TOKEN") == "hf_fromdotenv123" and found.get("PATH") is None


def test_secrets_are_masked_in_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    found = load_secrets(
        {"HF_TOKEN": "hf_abcdefghijkl", "JWT_SECRET": "jwt-secret-xyz"}, tmp_path / "none"
    )
    token = resolve_auth(found, False, False).token
    assert token is not None
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RedactingFilter())
    logging.getLogger("t").info(
        "token %s and %s, key %s", token, found.get("HF_TOKEN"), "jwt-secret-xyz"
    )
    assert "hf_abcdefghijkl" not in caplog.text and token not in caplog.text
    assert "jwt-secret-xyz" not in caplog.text and "***" in caplog.text
    assert redact(f"Bearer {token}") == "Bearer ***"
