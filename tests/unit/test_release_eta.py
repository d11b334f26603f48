"""A release says how long its remaining steps may take, from the last release of the same
model and device in the same runs folder; with none, it says nothing rather than guess."""

from __future__ import annotations

import json
from pathlib import Path

from workflows.release_eta import (
    FIRST_RELEASE,
    eta_suffix,
    previous_durations,
    step_suffix,
    time_left,
)

MODEL, DEVICE = "SmolLM2-135M-Instruct", "cpu"


def release(runs: Path, stamp: str, children: list[tuple[str, str, float | None]]) -> Path:
    folder = runs / f"{stamp}_{MODEL}_{DEVICE}_release_{stamp[-2:]}ab"
    folder.mkdir(parents=True)
    record = [{"workflow": w, "status": s, "duration_s": d} for w, s, d in children]
    (folder / "release.json").write_text(json.dumps({"children": record}))
    return folder


def test_the_newest_other_release_with_passed_steps_gives_the_estimate(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    release(runs, "2026-12-01_10-00-01", [("evals", "passed", 90.0), ("benchmarks", "passed", 30)])
    release(runs, "2026-12-02_10-00-02", [("evals", "passed", 80.0), ("benchmarks", "passed", 20)])
    release(runs, "2026-12-03_10-00-03", [("evals", "failed", 5.0)])  # nothing passed: skipped
    other_model = runs / f"2026-12-04_10-00-04_Other_{DEVICE}_release_04ab"
    other_model.mkdir()
    (other_model / "release.json").write_text('{"children": []}')
    current = release(runs, "2026-12-05_10-00-05", [("evals", "not_run", None)])
    durations = previous_durations(current, MODEL, DEVICE)
    assert durations == {"evals": 80.0, "benchmarks": 20.0}
    assert time_left(durations, ("evals", "benchmarks")) == 100.0
    assert eta_suffix(time_left(durations, ("evals", "benchmarks"))) == (
        " (about 1m40s left, as the last release's steps took)"
    )
    assert eta_suffix(time_left(durations, ("benchmarks",))) == (
        " (about 20s left, as the last release's steps took)"
    )


def test_no_estimate_without_a_previous_release_or_with_an_unknown_step(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    current = release(runs, "2026-12-05_10-00-05", [("evals", "not_run", None)])
    assert previous_durations(current, MODEL, DEVICE) == {}
    assert eta_suffix(time_left({}, ("evals",))) == ""
    known = {"evals": 80.0}
    assert time_left(known, ("evals", "spec_tests")) is None, "spec_tests never ran before"
    (runs / f"2026-12-04_10-00-00_{MODEL}_{DEVICE}_release_00ab").mkdir()  # no release.json
    broken = runs / f"2026-12-04_11-00-00_{MODEL}_{DEVICE}_release_11ab"
    broken.mkdir()
    (broken / "release.json").write_text("{not json")
    assert previous_durations(current, MODEL, DEVICE) == {}


def test_a_first_release_says_once_why_it_gives_no_estimate() -> None:
    steps = ("benchmarks", "evals")
    assert step_suffix({}, steps, first=True) == FIRST_RELEASE
    assert "no earlier release" in FIRST_RELEASE
    assert step_suffix({}, steps[1:], first=False) == "", "said once, on the first step"
    durations = {"benchmarks": 80.0, "evals": 20.0}
    assert step_suffix(durations, steps, first=True).startswith(" (about 1m40s left")
