"""How long the runner waits for a server to become ready, and why that long.

A Tenstorrent spec's `tensor_cache_timeout` decides it (a first run builds the tensor cache:
5400 s for the 70B-class models upstream names, 3600 s otherwise); `--workflow-args
ready_timeout=SECONDS` overrides any default; a server that already runs must answer at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.registry.model_spec import ModelSpec
from workflows.workflow_args import WorkflowArgs, number_arg

DEFAULT_READY_TIMEOUT = {"llama_cpp": 300.0, "vllm": 1200.0}  # specs without a tensor cache
EXTERNAL_READY_TIMEOUT = 30.0  # a server that already runs should answer at once


@dataclass(frozen=True)
class ReadyWait:
    seconds: float
    reason: str  # which rule chose `seconds`, for the log and the timeout message

    def describe(self) -> str:
        return f"{self.seconds:g}s ({self.reason})"


def ready_wait(spec: ModelSpec, args: WorkflowArgs, started_by_runner: bool) -> ReadyWait:
    if "ready_timeout" in args:
        return ReadyWait(number_arg(args, "ready_timeout", 0.0), "--workflow-args ready_timeout")
    if not started_by_runner:
        return ReadyWait(EXTERNAL_READY_TIMEOUT, "a server that already runs")
    if spec.tensor_cache_timeout is not None:
        return ReadyWait(
            spec.tensor_cache_timeout,
            f"the spec's tensor_cache_timeout for {spec.model_name} on {spec.device.value}: "
            "a first run builds the tensor cache",
        )
    engine = spec.inference_engine.value
    return ReadyWait(DEFAULT_READY_TIMEOUT[engine], f"the {engine} default")
