"""The prompt seed of a run that drives the load generator.

A server that runs for a long time keeps a prompt cache; prompts seeded the same way on every
run would be answered from what an earlier run left there, and TTFT would measure the cache.
So the runner draws one seed per run, before anything starts, unless the user gives `seed=` in
`--workflow-args`. It goes into the run's workflow arguments, so:

- `runtime_spec.json` (its `run_config.workflow_args`) records it, and each point's result file
  records the seed its prompts were made with;
- every load workflow of the run gets it through `--workflow-args-json` (a release passes its
  top-level `seed=` to benchmarks and stress tests alike, unless `benchmarks.seed=` or
  `stress_tests.seed=` names one of their own);
- `--rerun` replays the recorded workflow arguments, seed included, and so measures the same
  prompts. A record from before seeds were drawn has none: its run used the fixed seed 0.

`python -m benchmarking` on its own, given no seed, draws one itself and records it the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from types import MappingProxyType

from benchmarking.settings import draw_seed
from workflows.dispatch import RUNS_LOAD, does
from workflows.run_config import RunConfig

SEED_KEY = "seed"
SEED_BEFORE_DRAWING = 0  # what every run used before each run drew its own


def with_prompt_seed(config: RunConfig, draw: Callable[[], int] = draw_seed) -> RunConfig:
    """The run's settings with a seed of its own, unless it gives one or drives no load."""
    if not does(config.workflow, RUNS_LOAD) or SEED_KEY in config.workflow_args:
        return config
    args = MappingProxyType({**config.workflow_args, SEED_KEY: draw()})
    return dataclasses.replace(config, workflow_args=args)


def with_recorded_seed(config: RunConfig) -> RunConfig:
    """A re-run's settings: the recorded seed, or, for a record that has none, the seed its
    run used. A re-run never draws: it measures the prompts its original measured."""
    return with_prompt_seed(config, lambda: SEED_BEFORE_DRAWING)
