"""Trace capture: one short request per padded prompt length before anything is measured.

tt-metal compiles a trace per padded prefill length; the first request at each length stalls.
Sending one small request per length up front keeps that stall out of every measurement.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class TraceCaptureError(RuntimeError):
    """A warm-up request failed: the server cannot be measured."""


PADDED_LENGTHS = (128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32640, 65408, 130944)
WARMUP_TOKENS = 4


def warmup_lengths(max_context: int, compiles_traces: bool = True) -> list[int]:
    """Every padded length that fits; an engine without traces gets one first-request check."""
    lengths = [n for n in PADDED_LENGTHS if n + WARMUP_TOKENS <= max_context]
    return lengths if compiles_traces else lengths[:1]


def approximate_prompt(tokens: int) -> str:
    """Text of about `tokens` tokens in common tokenizers (one short word each, with margin)."""
    return " ".join(["hello"] * max(tokens - 16, 1))


def capture_traces(
    base_url: str, headers: dict[str, str], model: str, lengths: list[int], timeout: float = 600
) -> list[float]:
    import requests  # imported when first needed: it costs ~90 ms of start-up

    from benchmarking import deadline_requests
    from benchmarking.deadline import DeadlineExceeded

    durations = []
    for length in lengths:
        started = time.monotonic()
        body = {
            "model": model,
            "prompt": approximate_prompt(length),
            "max_tokens": WARMUP_TOKENS,
            "temperature": 0,
        }
        try:
            response = deadline_requests.post(
                f"{base_url}/v1/completions", json=body, headers=headers, timeout=timeout
            )
        except (requests.RequestException, DeadlineExceeded) as error:
            raise TraceCaptureError(f"trace capture at {length} tokens failed: {error}") from None
        if response.status_code != 200:
            raise TraceCaptureError(
                f"trace capture at {length} tokens got HTTP {response.status_code}: "
                f"{response.text[:200]}"
            )
        durations.append(time.monotonic() - started)
        log.debug("trace capture: %d tokens in %.2fs", length, durations[-1])
    return durations
