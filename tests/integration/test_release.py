"""`release` for real: the README's main command on the CPU model end to end (one llama.cpp
server for evals, benchmarks and spec tests, then the report and its verdict), the report rebuilt
from the run folder alone, and against the emulator with targets that pass and that fail."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import (
    REPO_ROOT,
    RunningServer,
    free_port,
    processes_mentioning,
    read_until,
    records,
    run_ok,
    runner,
    servers_on,
    start_emulator,
    wait_for,
)
from tests.store_checks import assert_stored_as_reported
from workflows.release_eta import FIRST_RELEASE

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]
CPU = ("--model", "SmolLM2-135M-Instruct", "--device", "cpu")
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
REPORT_FILES = ("report.json", "report.md", "report.html", "junit.xml", "benchmarks.csv")


def read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_release_on_the_cpu_model_end_to_end(tmp_path: Path, cpu_server: RunningServer) -> None:
    """The README's main command: evals (smoke samples, the CPU spec's release default),
    the spec's target points, the spec tests with auth on, then an accepted report."""
    del cpu_server  # built the server environment; the release starts a server of its own
    port = free_port()
    folder, output = run_ok(
        *CPU, "--workflow", "release", "--local-server", "--service-port", str(port),
        logs=tmp_path, timeout=1800,
    )  # fmt: skip
    assert servers_on(port) == []  # one server for the release, stopped at its end
    steps = [line for line in output.splitlines() if line.startswith("release: [")]
    assert steps == [
        "release: [1/3] evals" + FIRST_RELEASE,  # the logs folder holds no earlier release
        "release: [2/3] benchmarks",
        "release: [3/3] spec_tests",
    ]
    assert "release report: SmolLM2-135M-Instruct on cpu: ACCEPTED" in output
    assert {path.name for path in (folder / "report").iterdir()} == set(REPORT_FILES)
    children = read(folder / "release.json")["children"]
    assert [(c["workflow"], c["status"]) for c in children] == [
        ("evals", "passed"),
        ("benchmarks", "passed"),
        ("spec_tests", "passed"),
    ]
    # evals: lm-eval on the shipped tasks, judged against their smoke references
    tasks = read(folder / "evals" / "evals.json")["tasks"]
    assert [(t["task"], t["status"], t.get("n_samples")) for t in tasks] == [
        ("readiness_basics", "PASS", 60),
        ("chat_basics", "PASS", 30),  # the chat template's own check
        ("humaneval_packaged", "SKIPPED", None),
    ], [t["reason"] for t in tasks]
    task = tasks[0]
    assert task["agreement"]["passed"] and task["agreement"]["compared"] == 60, task["reason"]
    samples = [json.loads(line) for line in (folder / task["files"]["samples"][0]).open()]
    exact = [sample["exact_match"] for sample in samples]
    assert task["score"] == pytest.approx(sum(exact) / len(exact))
    assert "requests answered" in output  # progress while lm-eval runs
    # the first task again, on its first 16 documents, under benchmark traffic at concurrency 8:
    # llama.cpp answers them as it did alone (no significant drop)
    assert (
        "evals: readiness_basics again, 16 samples, under benchmark traffic at concurrency 8"
        in (output)
    )
    loaded = task["under_load"]
    assert (loaded["status"], loaded["n_samples"]) == ("PASS", 16), loaded["reason"]
    assert loaded["traffic"]["concurrency"] == 8 and loaded["traffic"]["ended_early"] is None
    peak = loaded["traffic"]["server_peak"]  # llama.cpp's /metrics: the eval's 8 and more
    assert peak["running"] + peak["waiting"] > 8, peak
    assert "no significant drop" in loaded["reason"] and "readiness_basics under load:" in output
    assert [t.get("under_load") is not None for t in tasks] == [True, False, False]
    # benchmarks: exactly the spec's target points
    report = read(folder / "report" / "report.json")
    measured = [(r["isl"], r["osl"], r["concurrency"]) for r in report["benchmarks"]]
    assert measured == [(128, 32, 1), (128, 32, 4)]
    assert all(point["measured"] for point in report["target_checks"])
    # beside each point, the server's own view: llama.cpp's /metrics, scraped with the token
    assert [point["concurrency"] for point in report["server_telemetry"]] == [1, 4]
    for point in report["server_telemetry"]:
        assert (point["available"], point["source"]) == (True, "llama.cpp"), point["reason"]
        assert point["summary"]["decode_tokens"] > 0 and point["summary"]["peak_running"] >= 1
    # spec tests against the server the runner started with a token
    checks = {check["name"]: check["status"] for check in report["spec_tests"]["checks"]}
    assert checks["auth_required"] == "PASS" and checks["completions_logprobs"] == "SKIPPED"
    # what llama.cpp lacks (evals/spec_tests/engine_limits.yaml), each run and confirmed; the
    # rest, structured output, /v1/responses and the sampling parameters among them, passes
    assert sorted(name for name, status in checks.items() if status != "PASS") == [
        "completions_logprobs",
        "echo",
        "prompt_logprobs",
        "tool_calls",
        "tool_calls_stream",
        "unknown_model_error",
    ]
    assert report["spec_tests"]["summary"]["passed"] == 32
    assert checks["answers_under_load"] == "PASS", "answers at concurrency 8 are those alone"
    assert report["acceptance_criteria"] is True and report["acceptance_blockers"] == {}
    outcomes = {check["key"]: check["outcome"] for check in report["acceptance"]["checks"]}
    assert outcomes["evals:readiness_basics.under_load"] == "PASS"
    assert "#### Evals under benchmark traffic" in (folder / "report" / "report.md").read_text()
    assert report["metadata"]["run_command"].endswith(f"--service-port {port}")
    # the same report, rebuilt from the folder alone
    before = (folder / "report" / "report.md").read_text()
    (folder / "report").rename(folder / "report.old")
    rebuilt, _ = run_ok(
        "--workflow", "reports", "--run-dir", str(folder), logs=tmp_path, timeout=300
    )
    del rebuilt
    assert (folder / "report" / "report.md").read_text() == before
    # the results store takes the real release and gives every figure back
    store = f"sqlite:///{tmp_path / 'results.db'}"
    run_ok(
        "--workflow", "reports", "--db", store, "--ingest", str(folder), logs=tmp_path, timeout=300
    )
    assert_stored_as_reported(store, folder)


REACHABLE = [{"isl": 128, "osl": 32, "concurrency": 2, "ttft_ms": 50, "tput_user": 200}]
NO_EVALS_REPO = f"{MODEL}-NoEvals"  # no eval configuration: a whole release without lm-eval
NO_EVALS_NAME = NO_EVALS_REPO.split("/")[1]


def registry_with(folder: Path, targets: list[dict[str, Any]]) -> Path:
    """The CPU model's registry entry with other targets, its evals waived (the emulator
    answers nonsense) and its auth check waived (the emulator checks no key): a check that
    cannot be judged blocks unless a known issue names it."""
    spec = yaml.safe_load((REPO_ROOT / "model_specs" / "smollm2.yaml").read_text())
    device = spec["templates"][0]["devices"][0]
    device["perf_reference"] = targets
    device["known_issues"] += [
        {"workflow": "evals", "reason": "the emulator answers nonsense"},
        {"workflow": "spec_tests", "task": "auth_required", "reason": "the emulator checks no key"},
    ]
    folder.mkdir()
    (folder / "smollm2.yaml").write_text(yaml.safe_dump(spec))
    return folder


@pytest.fixture
def emulator() -> Iterator[str]:
    flags = ("--ttft-ms", "5", "--itl-ms", "1", "--max-context", "4096")
    process, url = start_emulator("--model", MODEL, *flags)
    yield url
    process.terminate()
    process.wait(timeout=10)


def release_against(
    url: str, specs: Path, logs: Path, *extra: str, model: str = CPU[1]
) -> tuple[int, str, Path]:
    """A whole release (evals run, and are waived by the registry copy) unless `extra` narrows
    it with `--workflow-args workflows=...`."""
    process = runner(
        "--model", model, "--device", "cpu", "--workflow", "release", "--server-url", url,
        "--model-specs-dir", str(specs), *extra, logs=logs,
    )  # fmt: skip
    output, _ = process.communicate(timeout=600)
    return process.returncode, output, (logs / "latest").resolve()


def test_release_against_the_emulator_passes_and_fails_by_its_targets(tmp_path: Path) -> None:
    """Whole releases of the CPU model under a name with no eval configuration (evals left out
    for want of one, waived by name), so that only the targets decide."""
    process, url = start_emulator(
        "--model", NO_EVALS_REPO, "--ttft-ms", "5", "--itl-ms", "1", "--max-context", "4096"
    )
    try:
        code, output, folder = release_against(
            url, registry_without_evals(tmp_path / "ok", REACHABLE), tmp_path / "logs-ok",
            model=NO_EVALS_NAME,
        )  # fmt: skip
        assert code == 0, output
        assert "release: evals is not run: " in output and "waived: evals did not run" in output
        report = read(folder / "report" / "report.json")
        assert report["acceptance_criteria"] is True

        beyond = [dict(REACHABLE[0], tput_user=200_000)]  # a thousand times what it reaches
        code, output, folder = release_against(
            url, registry_without_evals(tmp_path / "beyond", beyond), tmp_path / "logs-beyond",
            "--compare-to", str(folder), model=NO_EVALS_NAME,
        )  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert code == 5, output
    assert "regression: verdict accepted: ACCEPTED -> NOT ACCEPTED" in output
    assert "NOT ACCEPTED" in output and "exit 5 (not_accepted)" in output
    assert "blocker: ISL 128 OSL 32 concurrency 2, functional tier (10% of theoretical): " in output
    junit = (folder / "report" / "junit.xml").read_text()
    assert 'name="benchmarks:isl-128_osl-32_conc-2.functional.tput_user_check"' in junit


def test_release_requirements_file_decides_against_the_emulator(
    tmp_path: Path, emulator: str
) -> None:
    specs = registry_with(tmp_path / "specs", [])
    requirements = tmp_path / "slo.yaml"
    requirements.write_text(
        "slo: {ttft_ms: 0.5}\ngoodput: {min_share: 0.9, priority: must}\n"  # 0.5 ms: unmeetable
    )
    code, output, folder = release_against(
        emulator, specs, tmp_path / "logs", "--requirements", str(requirements),
        "--workflow-args", "workflows=benchmarks,spec_tests benchmarks.isl=128 benchmarks.osl=32 "
        "benchmarks.concurrency=2 benchmarks.num_prompts=8",
    )  # fmt: skip
    assert code == 5, output  # narrowed, so partial; but a `must` that fails still blocks
    assert "PARTIAL" in output and "partial: narrowed by workflows=benchmarks,spec_tests" in output
    assert (
        "goodput (TTFT <= 0.5 ms): 0 of 8 requests met the SLOs (0%, 95% interval [0%, 32%]), "
        "needs 90%" in output
    )
    assert read(folder / "requirements.json")["goodput"]["min_share"] == 0.9


CAPACITY_SLO = "slo: {ttft_ms: 40}\ngoodput: {min_share: 0.9, priority: must}\n"


def test_a_capacity_must_decides_a_release_against_the_emulator(tmp_path: Path) -> None:
    """2 slots, TTFT 20 ms, a request about 52 ms: up to 2 streams every TTFT is about 20 ms; a
    third waits for a slot (about 72 ms), so the search over concurrency 1 to 4 finds 2. A
    release asking for 2 meets it (partial: its benchmark arguments choose the point and the
    prompts, so nothing blocks and there is no release verdict); its report rebuilt asking for 3
    is blocked by the capacity."""
    process, url = start_emulator(
        "--model", NO_EVALS_REPO, "--ttft-ms", "20", "--itl-ms", "1", "--slots", "2",
        "--max-context", "4096",
    )  # fmt: skip
    meets, misses = tmp_path / "meets.yaml", tmp_path / "misses.yaml"
    meets.write_text(CAPACITY_SLO + "capacity: {min_concurrency: 2, priority: must}\n")
    misses.write_text(CAPACITY_SLO + "capacity: {min_concurrency: 3, priority: must}\n")
    try:
        code, output, folder = release_against(
            url, registry_without_evals(tmp_path / "specs", []), tmp_path / "logs",
            "--requirements", str(meets), "--workflow-args", "benchmarks.isl=128 "
            "benchmarks.osl=32 benchmarks.concurrency=1 benchmarks.num_prompts=8 "
            "benchmarks.search_high=4 benchmarks.seed=3", model=NO_EVALS_NAME,
        )  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert code == 6, output  # narrowed by its benchmark arguments: a partial verdict
    assert "partial: narrowed by benchmarks.num_prompts=8" in output
    assert "capacity at ISL 128 OSL 32 (ttft:40, 90% of requests): concurrency 2 " in output
    report = read(folder / "report" / "report.json")
    assert report["acceptance_criteria"] is False
    [capacity] = report["capacity"]
    assert (capacity["found"], capacity["bracket"]) == (2, [2, 3])
    assert [t["load"] for t in capacity["tried"]] == [1, 4, 2, 3]
    [grade] = [g for g in report["acceptance"]["requirements"] if g["key"].startswith("capacity")]
    assert (grade["measured"], grade["met"]) == (2, True)
    markdown = (folder / "report" / "report.md").read_text()
    assert "| 128 | 32 | concurrency | ttft:40, 90% of requests | 2 | met at 2, missed at 3 |" in (
        markdown
    )

    rebuilt = runner(
        "--workflow", "reports", "--run-dir", str(folder), "--requirements", str(misses),
        logs=tmp_path / "logs-rebuilt",
    )  # fmt: skip
    output, _ = rebuilt.communicate(timeout=120)
    assert rebuilt.returncode == 5, output
    assert "PARTIAL" in output  # still narrowed; the capacity blocks
    assert (
        "blocker: capacity (concurrency meeting goodput, at least 3): found 2 at ISL 128 "
        "OSL 32 (met at 2, missed at 3; tried 1, 4, 2, 3); needs 3" in output
    ), output


def test_sigterm_mid_release_keeps_what_ran_and_leaves_nothing(tmp_path: Path) -> None:
    process_emulator, url = start_emulator(
        "--model", MODEL, "--ttft-ms", "5", "--itl-ms", "40", "--max-context", "4096"
    )
    try:
        specs = registry_with(tmp_path / "specs", [])
        process = runner(
            *CPU, "--workflow", "release", "--server-url", url, "--model-specs-dir", str(specs),
            "--workflow-args", "workflows=benchmarks,spec_tests benchmarks.isl=128 "
            "benchmarks.osl=256 benchmarks.concurrency=1 benchmarks.num_prompts=40",
            logs=tmp_path / "logs",
        )  # fmt: skip
        read_until(process, r"release: \[1/2\] benchmarks", timeout=300)
        # mid-benchmark: the measured requests (not only the warm-up) are reaching the server
        assert wait_for(lambda: len(records(url)) >= 3, 120), "no benchmark requests arrived"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        process_emulator.terminate()
        process_emulator.wait(timeout=10)
    assert process.returncode == 130, output
    folder = (tmp_path / "logs" / "latest").resolve()
    children = read(folder / "release.json")["children"]
    assert [(c["workflow"], c["status"]) for c in children][1:] == [
        ("benchmarks", "interrupted"),
        ("spec_tests", "not_run"),
    ]
    assert read(folder / "report" / "report.json")["acceptance_criteria"] is False
    assert processes_mentioning(str(folder)) == []


def test_release_with_stress_tests_on_request(tmp_path: Path, emulator: str) -> None:
    code, output, folder = release_against(
        emulator, registry_with(tmp_path / "specs", []), tmp_path / "logs", "--workflow-args",
        "workflows=spec_tests,stress_tests stress=true stress_tests.run_mode=single "
        "stress_tests.isl=64 stress_tests.osl=16 stress_tests.concurrency=2 "
        "stress_tests.num_prompts=4",
    )  # fmt: skip
    assert code == 6, output
    assert "release: [2/2] stress_tests" in output
    assert "release: narrowed by workflows=spec_tests,stress_tests" in output
    assert "no release verdict" in output and "exit 6 (partial)" in output
    report = read(folder / "report" / "report.json")
    assert [(r["isl"], r["concurrency"]) for r in report["stress_tests"]] == [(64, 2)]
    categories = report["acceptance_criteria_metadata"]["categories"]
    assert {c["name"]: c["status"] for c in categories}["stress_tests"] == "PASS"
    assert "### Stress Tests" in (folder / "report" / "report.md").read_text()


REJECTIONS = {  # emulator flags, exit code, a line the console must show
    "200 without a stream": (
        ("--model", NO_EVALS_REPO, "--stream-reply", "empty-json"),
        5,
        "requests failed (100%, allowed 0%)",
    ),
    "serves another model": (
        ("--model", "meta-llama/Llama-3.1-70B-Instruct"),
        4,
        "meta-llama/Llama-3.1-70B-Instruct",
    ),
}


def registry_without_evals(folder: Path, targets: list[dict[str, Any]] = REACHABLE) -> Path:
    """The CPU model under a name no eval configuration knows: evals are left out for want of
    one, which a known issue waives, so the release is whole and quick against the emulator."""
    specs = registry_with(folder, targets)
    spec = yaml.safe_load((specs / "smollm2.yaml").read_text())
    spec["templates"][0]["weights"] = [NO_EVALS_REPO]
    (specs / "smollm2.yaml").write_text(yaml.safe_dump(spec))
    return specs


@pytest.mark.parametrize("case", sorted(REJECTIONS))
def test_a_whole_release_against_a_broken_server_is_never_accepted(
    tmp_path: Path, case: str
) -> None:
    """Whole releases (nothing narrowed) against servers that misbehave. A server answering
    nonsense fails evals (tests/integration/test_evals.py), which blocks any release that runs
    them; a template that drops the chat roles fails chat_basics there too."""
    flags, code_wanted, shown = REJECTIONS[case]
    process, url = start_emulator("--ttft-ms", "5", "--itl-ms", "1", *flags)
    try:
        process_run = runner(
            "--model", NO_EVALS_NAME, "--device", "cpu", "--workflow", "release",
            "--server-url", url, "--model-specs-dir", str(registry_without_evals(tmp_path / "s")),
            logs=tmp_path / "logs",
        )  # fmt: skip
        output, _ = process_run.communicate(timeout=600)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process_run.returncode == code_wanted, output
    assert shown in output
    assert "ACCEPTED" not in output.replace("NOT ACCEPTED", "")
    if code_wanted == 5:  # the release ran whole, and its verdict is no
        assert "evals is not run" in output and "narrowed" not in output
        assert "release report: SmolLM2-135M-Instruct-NoEvals on cpu: NOT ACCEPTED" in output
