"""The emulator's Prometheus `/metrics`, in vLLM's names or llama.cpp's: gauges that are its
requests in flight and queued, counters that are the tokens it actually took and wrote, so a
test can hold a point's server telemetry against what the emulator did."""

from __future__ import annotations

from dataclasses import dataclass

FAMILIES = ("vllm", "llamacpp", "none")  # none: no /metrics route (HTTP 404)
KV_CACHE_TOKENS = 65536  # the emulated KV cache's size, for vLLM's usage gauge


@dataclass
class ServerMetrics:
    family: str = "vllm"
    kv_cache_tokens: int = KV_CACHE_TOKENS
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    decode_tokens: int = 0
    decode_calls: int = 0
    prompt_seconds: float = 0.0
    decode_seconds: float = 0.0
    held_tokens: int = 0  # the KV cache's content: prompt and output of the requests in flight
    busy_slots: int = 0  # summed over the decode calls, for llama.cpp's average

    def admitted(self, prompt_tokens: int, cached_tokens: int, prefill_s: float) -> None:
        self.prompt_tokens += prompt_tokens
        self.cached_prompt_tokens += cached_tokens
        self.prompt_seconds += prefill_s
        self.held_tokens += prompt_tokens

    def wrote(self, tokens: int, seconds: float, running: int) -> None:
        self.decode_tokens += tokens
        self.decode_calls += 1
        self.busy_slots += running
        self.decode_seconds += seconds
        self.held_tokens += tokens

    def released(self, tokens: int) -> None:
        self.held_tokens -= tokens

    def exposition(self, running: int, waiting: int) -> str:
        """Prometheus text, as the family's server writes it."""
        if self.family == "llamacpp":
            return _text("llamacpp:", self._llama_cpp(running, waiting))
        return _text("vllm:", self._vllm(running, waiting), '{model_name="emulator"}')

    def _vllm(self, running: int, waiting: int) -> list[tuple[str, str, float]]:
        return [
            ("num_requests_running", "gauge", running),
            ("num_requests_waiting", "gauge", waiting),
            ("kv_cache_usage_perc", "gauge", self.held_tokens / self.kv_cache_tokens),
            ("num_preemptions_total", "counter", 0),
            ("prompt_tokens_total", "counter", self.prompt_tokens),
            ("generation_tokens_total", "counter", self.decode_tokens),
            ("prefix_cache_queries_total", "counter", self.prompt_tokens),
            ("prefix_cache_hits_total", "counter", self.cached_prompt_tokens),
        ]

    def _llama_cpp(self, running: int, waiting: int) -> list[tuple[str, str, float]]:
        """No KV cache gauges: the llama.cpp build we serve with exports none. Its prompt
        tokens are those it computed: the ones its cache served are counted apart."""
        busy = self.busy_slots / self.decode_calls if self.decode_calls else 0.0
        computed = self.prompt_tokens - self.cached_prompt_tokens
        return [
            ("prompt_tokens_total", "counter", computed),
            ("prompt_seconds_total", "counter", self.prompt_seconds),
            ("tokens_predicted_total", "counter", self.decode_tokens),
            ("tokens_predicted_seconds_total", "counter", self.decode_seconds),
            ("n_decode_total", "counter", self.decode_calls),
            ("n_busy_slots_per_decode", "gauge", busy),
            ("prompt_tokens_cached_total", "counter", self.cached_prompt_tokens),
            ("requests_processing", "gauge", running),
            ("requests_deferred", "gauge", waiting),
        ]


def _text(prefix: str, metrics: list[tuple[str, str, float]], labels: str = "") -> str:
    lines = []
    for name, kind, value in metrics:
        lines += [
            f"# HELP {prefix}{name} emulated",
            f"# TYPE {prefix}{name} {kind}",
            f"{prefix}{name}{labels} {float(value)}",
        ]
    return "\n".join(lines) + "\n"
