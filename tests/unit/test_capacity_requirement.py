"""`capacity:` in a requirements file: checked when the run starts, turned into a search beside
a release's target points, and graded (a must that is missed, or never measured, blocks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reports.acceptance import judge_run
from reports.requirements import RequirementsError, check_requirements
from reports.results import document, write_json
from reports.run_data import load_run
from tests.run_folders import IDENTITY, passing_run
from workflows.run_config import RunConfig
from workflows.workflow_args import parse_workflow_args
from workflows.workflow_release import child_config

SLO = {"slo": {"ttft_ms": 40}, "goodput": {"min_share": 0.9, "priority": "should"}}


def checked(capacity: object) -> dict[str, Any]:
    return check_requirements(SLO | {"capacity": capacity}, "req.yaml")


@pytest.mark.parametrize(
    ("capacity", "message"),
    [
        ({"min_concurrency": 4, "min_rate": 2}, "give one of min_concurrency"),
        ({"min_concurrency": 2.5}, "min_concurrency: expected a whole number"),
        ({"min_rate": -1}, "min_rate: expected a positive number"),
        ({"min_rate": 2, "when": 1}, "unknown field when"),
        ({"min_rate": 2, "priority": "maybe"}, "'maybe' is not must or should"),
    ],
)
def test_a_capacity_that_cannot_be_used_names_its_field(capacity: object, message: str) -> None:
    with pytest.raises(RequirementsError) as error:
        checked(capacity)
    assert str(error.value).startswith("--requirements req.yaml: capacity: ")
    assert message in str(error.value)
    with pytest.raises(RequirementsError, match=r"needs slo and goodput\.min_share"):
        check_requirements({"capacity": {"min_rate": 2}, "accuracy": []}, "req.yaml")


def release(requirements: Path, args: str = "") -> RunConfig:
    return RunConfig(
        model="SmolLM2-135M-Instruct",
        device="cpu",
        workflow="release",
        local_server=True,
        workflow_args=parse_workflow_args(args),
        requirements=requirements,
    )


def test_a_release_adds_the_search_beside_its_target_points(tmp_path: Path) -> None:
    path = tmp_path / "req.json"
    path.write_text(json.dumps(SLO | {"capacity": {"min_rate": 2}}))
    args = dict(child_config(release(path), "benchmarks").workflow_args)
    assert args == {
        "search": "goodput",
        "goodput": "ttft:40",
        "goodput_min": 0.9,
        "search_over": "rate",
        "search_with_sweep": True,
        "search_low": 0.5,
        "search_high": 8.0,
    }
    mine = child_config(release(path, "benchmarks.search_high=20"), "benchmarks")
    assert mine.workflow_args["search_high"] == 20, "the user's own argument wins"


def capacity_file(found: float | None, bracket: list[float | None]) -> dict[str, object]:
    tried = [{"load": load, "good": 1, "total": 1} for load in (1, 8, 4, 6, 5)]
    body = {"isl": 128, "osl": 32, "search_over": "concurrency", "found": found,
            "bracket": bracket, "tried": tried}  # fmt: skip
    return document("capacity_search", IDENTITY, body)


@pytest.mark.parametrize(
    ("minimum", "found", "accepted"), [(4, 4, True), (5, 4, False), (1, None, False)]
)
def test_a_capacity_must_is_met_only_by_a_load_found_at_or_above_it(
    tmp_path: Path, minimum: int, found: float | None, accepted: bool
) -> None:
    run = passing_run(tmp_path / "run")
    requirements = checked({"min_concurrency": minimum})
    (run / "requirements.json").write_text(json.dumps(requirements))
    bracket: list[float | None] = [found, found + 1] if found else [None, 1]
    write_json(run / "benchmarks" / "capacity_isl-128_osl-32.json", capacity_file(found, bracket))
    acceptance = judge_run(load_run(run))
    [grade] = [g for g in acceptance.grades if g.key.startswith("capacity")]
    assert (grade.measured, grade.met) == (found, accepted)
    assert acceptance.accepted is accepted
    assert "tried 1, 8, 4, 6, 5" in grade.detail


def test_a_capacity_never_searched_blocks(tmp_path: Path) -> None:
    run = passing_run(tmp_path / "run")
    (run / "requirements.json").write_text(json.dumps(checked({"min_rate": 2})))
    acceptance = judge_run(load_run(run))
    [grade] = [g for g in acceptance.grades if g.key.startswith("capacity")]
    assert grade.key == "capacity:not-measured" and not grade.met
    assert not acceptance.accepted
