"""What makes a release less than the whole release its status asks for, read from the run's
own settings (runtime_spec.json's `run_config`), so the workflow that runs the release and the
report that judges it say the same, and an edit of release.json cannot make a run whole.

A child's argument narrows the release unless this module names it as neutral: one that leaves
what is measured, and how it is judged, as the spec asks. A key this module does not know
(a new argument of a child) narrows too, until someone decides otherwise here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

CHILDREN = ("evals", "benchmarks", "spec_tests", "stress_tests")  # the release's, in its order
UNDER_LOAD_SAMPLES = 16  # evals' default under_load_samples (workflows/evals_under_load.py)
LIMIT_MODES = ("smoke", "ci-commit", "ci-nightly", "ci-long", "full")  # workflows/run_config.py

_LOAD_NEUTRAL = (
    "seed",  # which random prompts are drawn: every seed measures the same points
    "percentiles",  # which percentiles the report lists; targets are judged on the means
    "percentile_report",  # a percentile table on the console
    "telemetry_interval",  # how often /metrics is scraped beside a point: shown, not judged
)
# Every other key of the load generator changes what is measured or how it is judged, so it
# narrows: isl, osl, concurrency, sweep, concurrency_sweeps (the points); num_prompts, smoke,
# repeat (how many requests, how often); rate, burstiness, ramp, ramp_start, ramp_end,
# duration, warmup_s, cooldown_s, warmups (the load's shape and what its statistics keep);
# dataset, dataset_path, range_ratio, ignore_eos, endpoint, prefix_cache, prefix_share (the
# requests themselves); max_failed, request_timeout (what a point may lose and still pass);
# tool, workers (who sends the requests); goodput and the search keys (what is graded);
# run_mode (stress tests: the parameter space, one point, or endurance).
NEUTRAL: Mapping[str, tuple[str, ...]] = {
    "benchmarks": _LOAD_NEUTRAL,
    "stress_tests": _LOAD_NEUTRAL,
    # task_timeout: a task cut short by it fails; tasks, and under_load below, are judged by value
    "evals": ("task_timeout",),
    # timeout: the whole suite's limit; a suite cut short is incomplete, which blocks. only: narrows
    "spec_tests": ("timeout",),
}
# Keys whose value decides: neutral when the check says so, narrowing otherwise.
NEUTRAL_VALUES: Mapping[tuple[str, str], Callable[[object], bool]] = {
    # first (a release's default) or all tasks measured again under load; none narrows
    ("evals", "under_load"): lambda value: value in ("first", "all"),
    # fewer documents under load than the default weakens the comparison; more strengthens it
    ("evals", "under_load_samples"): lambda value: (
        isinstance(value, int) and not isinstance(value, bool) and value >= UNDER_LOAD_SAMPLES
    ),
}
# The release's own keys and the runner's: `stress=` adds a child (which is then required),
# `seed=` draws prompts, ready_timeout and served_model reach the server. `workflows=` narrows.
OWN_NEUTRAL = ("stress", "seed", "ready_timeout", "served_model")


def narrows(child: str, key: str, value: object) -> bool:
    """Whether `child.key=value` makes a release less than whole."""
    check = NEUTRAL_VALUES.get((child, key))
    if check is not None:
        return not check(value)
    return key not in NEUTRAL.get(child, ())


def narrowed_by(run_config: Mapping[str, Any], release_limit_mode: str | None) -> list[str]:
    """What narrows the release whose settings `run_config` records (runtime_spec.json's, or a
    RunConfig's fields); `release_limit_mode` is the spec's release sample limit."""
    found = []
    args: Mapping[str, Any] = run_config.get("workflow_args") or {}
    for key, value in args.items():
        child, dot, name = str(key).partition(".")
        if not dot:
            if key not in OWN_NEUTRAL:
                found.append(f"{key}={_text(value)}")
        elif narrows(child, name.replace("-", "_"), value):
            found.append(f"{key}={_text(value)}")
    if run_config.get("eval_samples"):
        found.append("--eval-samples")
    mode, release_mode = run_config.get("limit_samples_mode"), release_limit_mode or "full"
    if _rank(mode) < _rank(release_mode):
        found.append(f"--limit-samples-mode {mode} (below the spec's release mode, {release_mode})")
    return found


def _rank(mode: object) -> int:
    """A sample limit's place among LIMIT_MODES; none (or one unknown) ranks as full."""
    return LIMIT_MODES.index(str(mode)) if mode in LIMIT_MODES else len(LIMIT_MODES) - 1


def required_children(run_config: Mapping[str, Any]) -> tuple[str, ...]:
    """The children a whole release runs: all but stress tests, which `stress=true` adds."""
    args: Mapping[str, Any] = run_config.get("workflow_args") or {}
    stress = args.get("stress") is True
    return tuple(name for name in CHILDREN if name != "stress_tests" or stress)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
