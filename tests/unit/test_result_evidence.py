"""What counts as evidence for a verdict: only this run's result files (its run id, model and
device), one file per measured point, whose summary agrees with its request rows and whose
figures count the tokens the client received."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from reports.acceptance import Acceptance, judge_run
from reports.requirements import check_requirements
from reports.results import document, write_json
from reports.run_data import load_run
from tests.run_folders import IDENTITY, Measured, passing_run, set_run_id

POINT = "benchmark_isl-128_osl-32_maxcon-1"
OTHER_RUN = "2026-11-01_10-00-00_TinyModel_cpu_release_ffff0001"
SLO = {"slo": {"ttft_ms": 200}, "goodput": {"min_share": 0.9, "priority": "should"}}


def judged(folder: Path) -> Acceptance:
    return judge_run(load_run(folder))


def blocker_messages(acceptance: Acceptance) -> list[str]:
    return [finding.message for finding in acceptance.blockers]


def edit(path: Path, **changes: Any) -> None:
    path.write_text(json.dumps(json.loads(path.read_text()) | changes, indent=2))


def failing_run(folder: Path) -> Path:
    """A release whose one target point is far too slow (TTFT 5 s; a functional model needs
    1 s at most)."""
    return passing_run(folder, points=[Measured(ttft_ms=5000.0)])


def copy_point(source: Path, folder: Path, name: str = POINT) -> Path:
    """Another run's point file and rows, copied into `folder` as `name`."""
    for suffix in (".json", "_requests.jsonl"):
        shutil.copy(
            source / "benchmarks" / f"{POINT}{suffix}", folder / "benchmarks" / f"{name}{suffix}"
        )
    return folder / "benchmarks" / f"{name}.json"


@pytest.mark.parametrize(
    "changes",
    [
        {},  # the other run's id, as it wrote it
        {"model": "org/OtherModel", "model_id": "id_llama-cpp_OtherModel_cpu"},
        {"device": "n150"},
        {"date": "20190101-000000", "run_id": "2019-01-01_00-00-00_X_n150_release_00000000"},
    ],
)
def test_another_runs_point_is_no_evidence_and_blocks(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    failing = failing_run(tmp_path / "failing")
    assert judged(failing).verdict == "NOT ACCEPTED"
    other = set_run_id_of(passing_run(tmp_path / "other"), OTHER_RUN)
    copied = copy_point(other, failing)
    edit(copied, **changes)
    acceptance = judged(failing)
    assert acceptance.verdict == "NOT ACCEPTED"
    run = load_run(failing)
    assert [point.problem.startswith("not this run's result") for point in run.benchmarks] == [True]
    assert [target.measured for target in acceptance.target_points] == [None]  # not measured
    [line] = [m for m in blocker_messages(acceptance) if "no evidence" in m]
    assert f"benchmarks/{POINT}.json is no evidence: not this run's result (" in line
    assert "\n" not in line


def test_a_run_with_its_own_point_only_is_judged_on_it(tmp_path: Path) -> None:
    folder = passing_run(tmp_path / "run")
    run = load_run(folder)
    assert run.rejected == () and [p.problem for p in run.benchmarks] == [""]
    assert judged(folder).verdict == "ACCEPTED"


def test_another_runs_spec_tests_are_no_evidence(tmp_path: Path) -> None:
    folder = passing_run(tmp_path / "run")
    edit(folder / "spec_tests" / "spec_tests.json", model="org/OtherModel", device="n150")
    run = load_run(folder)
    assert run.spec_tests is None
    [rejected] = run.rejected
    assert rejected.file == "spec_tests/spec_tests.json"
    assert "model 'org/OtherModel', not 'org/TinyModel'" in rejected.reason
    assert "device 'n150', not 'cpu'" in rejected.reason
    acceptance = judged(folder)
    assert acceptance.verdict == "NOT ACCEPTED"
    # the blocker says why the file is not evidence, not that the workflow wrote nothing
    assert f"{rejected} (no evidence)" in blocker_messages(acceptance)


def test_another_runs_evals_are_named_as_no_evidence(tmp_path: Path) -> None:
    folder = passing_run(tmp_path / "run")
    edit(folder / "evals" / "evals.json", device="n150")
    acceptance = judged(folder)
    assert acceptance.verdict == "NOT ACCEPTED"
    [line] = [m for m in blocker_messages(acceptance) if m.startswith("evals/evals.json")]
    assert "device 'n150', not 'cpu'" in line and line.endswith("(no evidence)")


def set_run_id_of(folder: Path, run_id: str) -> Path:
    set_run_id(folder, run_id)
    return folder


def test_a_second_file_for_one_point_is_an_error_naming_both(tmp_path: Path) -> None:
    failing = failing_run(tmp_path / "failing")
    passing = set_run_id_of(
        passing_run(tmp_path / "other"),
        json.loads((failing / "runtime_spec.json").read_text())["run_id"],
    )
    copy_point(passing, failing, f"{POINT}_zz")  # sorts last: it used to win
    acceptance = judged(failing)
    assert acceptance.verdict == "NOT ACCEPTED"
    assert [target.measured for target in acceptance.target_points] == [None]
    found = [m for m in blocker_messages(acceptance) if "2 result files for one point" in m]
    assert len(found) == 2
    assert f"benchmarks/{POINT}.json and benchmarks/{POINT}_zz.json" in found[0]


def test_prefix_variants_rates_and_windows_of_one_shape_are_not_duplicates(
    tmp_path: Path,
) -> None:
    folder = passing_run(tmp_path / "run")
    bench = folder / "benchmarks"
    original = json.loads((bench / f"{POINT}.json").read_text())
    rows = (bench / f"{POINT}_requests.jsonl").read_text()
    variants = {
        f"{POINT}_prefix-none": {"prefix_cache": {"mode": "shared", "variant": "none"}},
        f"{POINT}_prefix-shared": {"prefix_cache": {"mode": "shared", "variant": "shared"}},
        f"{POINT}_rate-2": {"request_rate": 2.0},
        f"{POINT}_ramp": {"request_rate": "ramp"},
    }
    for name, changes in variants.items():
        (bench / f"{name}.json").write_text(json.dumps(original | changes))
        (bench / f"{name}_requests.jsonl").write_text(rows)
    stress = folder / "stress_tests"
    stress.mkdir()
    for window in (1, 2):  # an endurance run's windows: the same shape, no window field
        name = f"stress_test_isl-128_osl-32_maxcon-1_n-4_window-{window:04d}"
        (stress / f"{name}.json").write_text(json.dumps(original | {"kind": "stress_test"}))
        (stress / f"{name}_requests.jsonl").write_text(rows)
    run = load_run(folder)
    assert [p.problem for p in [*run.benchmarks, *run.stress]] == [""] * 7


def counts(folder: Path, server: int, client: int, rows: bool = False) -> Path:
    """Give the run's point the output token counts the server reported and the client
    received: in the file's totals, or (`rows`) in each request row as well."""
    bench = folder / "benchmarks"
    point = json.loads((bench / f"{POINT}.json").read_text())
    requests = int(point["completed"]) + int(point["failed"])
    edit(
        bench / f"{POINT}.json",
        total_server_output_tokens=server,
        total_client_output_tokens=client,
    )
    if rows:
        rows_file = bench / f"{POINT}_requests.jsonl"
        lines = [json.loads(line) for line in rows_file.read_text().splitlines()]
        each = {
            "server_output_tokens": server // requests,
            "client_output_tokens": client // requests,
        }
        rows_file.write_text("".join(json.dumps(row | each) + "\n" for row in lines))
    return folder


@pytest.mark.parametrize("rows", [False, True])
def test_a_server_inflating_its_token_counts_has_its_throughput_unjudged(
    tmp_path: Path, rows: bool
) -> None:
    folder = counts(passing_run(tmp_path / "run"), server=4 * 1032, client=4 * 32, rows=rows)
    acceptance = judged(folder)
    assert acceptance.verdict == "NOT ACCEPTED"
    [target] = acceptance.target_points
    functional = {check.metric: check.check for check in target.tiers[0].checks}
    assert functional == {"ttft_ms": "PASS", "tput_user": "UNJUDGED", "tput": "UNJUDGED"}
    found = [m for m in blocker_messages(acceptance) if "4128 output tokens" in m]
    assert len(found) == 2 and all("the client received 128" in m for m in found)


@pytest.mark.parametrize(
    ("server", "client"),
    [(128, 128), (131, 128), (132, 128), (0, 128)],  # equal, within 1 a request, no usage
)
def test_token_counts_that_agree_or_were_not_reported_are_judged(
    tmp_path: Path, server: int, client: int
) -> None:
    folder = counts(passing_run(tmp_path / "run"), server=server, client=client)
    assert judged(folder).verdict == "ACCEPTED"


def test_an_interval_that_excludes_its_own_mean_is_not_judged(tmp_path: Path) -> None:
    folder = failing_run(tmp_path / "run")
    intervals = {"mean_ttft_ms": [10.0, 20.0], "mean_tpot_ms": [15.0, 17.0]}
    edit(folder / "benchmarks" / f"{POINT}.json", interval_95=intervals)  # TTFT 5000 ms
    acceptance = judged(folder)
    assert acceptance.verdict == "NOT ACCEPTED"
    [target] = acceptance.target_points
    assert target.tiers[0].checks[0].check == "UNJUDGED"
    [line] = [m for m in blocker_messages(acceptance) if "does not contain its mean" in m]
    assert "its 95% interval [10.0, 20.0] does not contain its mean 5000" in line


ROWS = f"benchmarks/{POINT}_requests.jsonl"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("delete", f"its request rows {ROWS} are missing (4 completed, 0 failed)"),
        ("truncate", f"{ROWS} holds 2 request rows but the summary counts 4 requests"),
        ("empty", f"{ROWS} holds 0 request rows but the summary counts 4 requests"),
        ("garble", f"its request rows {ROWS} are not readable"),
    ],
)
def test_a_point_whose_rows_do_not_add_up_is_not_judged(
    tmp_path: Path, damage: str, reason: str
) -> None:
    folder = passing_run(tmp_path / "run")
    rows = folder / ROWS
    lines = rows.read_text().splitlines(keepends=True)
    if damage == "delete":
        rows.unlink()
    else:
        text = {"truncate": "".join(lines[:2]), "empty": "", "garble": lines[0][:-5] + "\n"}
        rows.write_text(text[damage])
    acceptance = judged(folder)
    assert acceptance.verdict == "NOT ACCEPTED"
    assert [target.measured for target in acceptance.target_points] == [None]
    [line] = [m for m in blocker_messages(acceptance) if "no evidence" in m]
    assert reason in line


def test_rows_agree_when_trimmed_ones_are_left_out_and_are_not_required_where_never_written(
    tmp_path: Path,
) -> None:
    folder = passing_run(tmp_path / "run")
    rows = folder / ROWS
    trimmed = json.dumps({"index": 9, "success": True, "trimmed": "warmup"}) + "\n"
    rows.write_text(rows.read_text() + trimmed)  # a timed point's warmup request
    assert judged(folder).verdict == "ACCEPTED"
    guidellm = folder / "benchmarks" / "benchmark_isl-128_osl-32_maxcon-2.json"
    guidellm.write_text(
        json.dumps(json.loads((folder / "benchmarks" / f"{POINT}.json").read_text())
                   | {"concurrency": 2, "tool": "guidellm"})
    )  # fmt: skip
    nothing = folder / "benchmarks" / "benchmark_isl-128_osl-32_maxcon-3.json"
    nothing.write_text(
        json.dumps(json.loads(guidellm.read_text()) | {"concurrency": 3, "tool": "aiperf",
                                                         "completed": 0, "failed": 4})
    )  # fmt: skip
    run = load_run(folder)
    assert [(p.concurrency, p.problem) for p in run.benchmarks] == [(1, ""), (2, ""), (3, "")]


def test_another_runs_capacity_search_is_no_evidence(tmp_path: Path) -> None:
    folder = passing_run(tmp_path / "run")
    (folder / "requirements.json").write_text(
        json.dumps(check_requirements(SLO | {"capacity": {"min_concurrency": 4}}, "req.yaml"))
    )
    found = {"isl": 128, "osl": 32, "search_over": "concurrency", "found": 8, "bracket": [8, 9],
             "tried": [{"load": 8, "good": 1, "total": 1}]}  # fmt: skip
    capacity = folder / "benchmarks" / "capacity_isl-128_osl-32.json"
    write_json(capacity, document("capacity_search", IDENTITY, found))
    assert judged(folder).accepted, "this run's search meets the capacity"
    edit(capacity, run_id=OTHER_RUN)
    acceptance = judged(folder)
    assert not acceptance.accepted
    [line] = [m for m in blocker_messages(acceptance) if "capacity_isl-128_osl-32" in m]
    assert line.startswith("benchmarks/capacity_isl-128_osl-32.json: not this run's result (")
