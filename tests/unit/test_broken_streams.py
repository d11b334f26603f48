"""A server that answers a streamed request with something other than a stream of tokens (issue
18, item 5): HTTP 200 with `{}` or an error body, a head whose Content-Length is no number, a
stream that ends without a token. Each used to count as a success, with throughput and tokens
invented for the empty replies; each is a failed request with its reason, and fails the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.requirements import meets_slo
from tests.helpers import Emulator, benchmarking_process, point_files

LOAD = {"isl": 16, "osl": 8, "concurrency": 4, "num_prompts": 8, "warmups": 0}
REASONS = {
    "empty-json": "HTTP 200 without a stream: {}",
    "error-json": 'HTTP 200 without a stream: {"error":{"message":"the model is not loaded"',
    "bad-length": "malformed response: the header Content-Length: 'abc' is not a byte count",
    "no-tokens": "the stream ended without a token",
}
ZERO_TOTALS = ("completed", "total_output_tokens", "output_throughput", "request_goodput")


@pytest.mark.parametrize("reply", sorted(REASONS))
def test_a_reply_without_a_token_stream_is_a_failed_request_with_its_reason(
    emulator: Emulator, tmp_path: Path, reply: str
) -> None:
    url = emulator("--ttft-ms", "1", "--itl-ms", "1", "--stream-reply", reply)
    process = benchmarking_process(url, tmp_path / "out", LOAD | {"goodput": "ttft:60000"})
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output
    assert "8 of 8 requests failed (100%, over max_failed=0)" in output
    assert f"8 x {REASONS[reply]}" in output
    assert "Traceback" not in output and "Fatal error" not in output, output
    [(document, rows)] = point_files(tmp_path / "out")
    assert document["failed"] == 8
    assert {key: document[key] for key in ZERO_TOTALS} == dict.fromkeys(ZERO_TOTALS, 0)
    assert document["total_client_output_tokens"] == 0, "no token is invented for a reply"
    assert [row["success"] for row in rows] == [False] * 8
    assert all(str(row["error"]).startswith(REASONS[reply]) for row in rows), rows
    assert not any(meets_slo(row, {"ttft_ms": 60000.0}) for row in rows), "goodput counts none"


def test_a_bad_content_length_ends_the_response_and_its_connection(
    emulator: Emulator, tmp_path: Path
) -> None:
    """One worker, keep-alive: each bad head costs its own request, not the next one's."""
    url = emulator("--ttft-ms", "1", "--itl-ms", "1", "--stream-reply", "bad-length")
    args = LOAD | {"concurrency": 1, "num_prompts": 3, "workers": 1}
    process = benchmarking_process(url, tmp_path / "out", args)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output
    [(_document, rows)] = point_files(tmp_path / "out")
    assert [row["error"] for row in rows] == [REASONS["bad-length"]] * 3
    assert "Traceback" not in output and "Fatal error" not in output, output
