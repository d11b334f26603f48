"""The results store: complete run folders in, the same figures, pins and verdicts out, through
the CLI a person uses (`reports --ingest`, `--history`, `--baseline`), on SQLite always and on a
throwaway PostgreSQL cluster where Debian's binaries are installed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from reports.build import report_of_folder
from reports.store import schema
from tests.helpers import REPO_ROOT, CliResult
from tests.postgres import cluster, postgres_bin
from tests.run_folders import (
    Measured,
    RunSpec,
    eval_task,
    make_run,
    passing_run,
    set_run_id,
    spec_check,
)

Run = Callable[..., CliResult]


def stored_run(folder: Path, stamp: str, suffix: str, **changes: Any) -> Path:
    """A passing release (unless `changes` say otherwise) with a run id of its own."""
    engine = changes.pop("engine_version", None)
    image = changes.pop("image", None)  # the docker_image_used record of runtime_spec.json
    passing_run(folder, **changes)
    runtime_path = folder / "runtime_spec.json"
    runtime = json.loads(runtime_path.read_text())
    runtime["run_id"] = f"{stamp}_TinyModel_cpu_{runtime['run_config']['workflow']}_{suffix}"
    if engine is not None:
        runtime["engine_version"] = engine
    if image is not None:
        runtime["docker_image_used"] = image
    runtime_path.write_text(json.dumps(runtime))
    set_run_id(folder, runtime["run_id"])  # the result files are this run's too
    return folder


def at(ttft: float) -> list[Measured]:
    return [Measured(ttft_ms=ttft), Measured(concurrency=4, ttft_ms=ttft * 2, tpot_ms=20.0)]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'results.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="module")
def postgres_cluster() -> Iterator[str]:
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (Debian package postgresql); SQLite ran")
    with cluster(bindir) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_cluster: str) -> Iterator[str]:
    """The cluster, emptied after each test."""
    yield postgres_cluster
    engine = sa.create_engine(postgres_cluster.replace("postgresql:", "postgresql+psycopg:", 1))
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()


def rows(url: str, table: sa.Table) -> list[dict[str, Any]]:
    engine = sa.create_engine(url.replace("postgresql:", "postgresql+psycopg:", 1))
    with engine.connect() as connection:
        found = [dict(row._mapping) for row in connection.execute(sa.select(table))]
    engine.dispose()
    return found


def ingest(run_cli: Run, url: str, *folders: Path) -> CliResult:
    return run_cli("--workflow", "reports", "--db", url, "--ingest", *map(str, folders))


def test_every_figure_comes_back_as_the_report_has_it(
    tmp_path: Path, run_cli: Run, db_url: str
) -> None:
    folder = stored_run(
        tmp_path / "run", "2026-12-01_10-00-00", "aaaa0001", points=at(80.0),
        stress=[Measured(concurrency=2, ttft_ms=300.0)],
    )  # fmt: skip
    result = ingest(run_cli, db_url, folder)
    assert result.code == 0, result.err
    assert "1 of 1 run(s) stored" in result.out
    report = report_of_folder(folder)
    (run,) = rows(db_url, schema.runs)
    assert (run["model"], run["device"], run["verdict"]) == ("TinyModel", "cpu", "ACCEPTED")
    assert run["runner_git_sha"] == "0123456789abcdef0123456789abcdef01234567"
    assert run["docker_image"] == "local/readiness-llama-cpp-cpu:0.1.0"
    assert run["docker_image_id"] is None and run["docker_image_origin"] is None  # no container
    assert run["engine_version"] == "b11434" and run["spec_version"] == "0.1.0"
    points = rows(db_url, schema.benchmark_points)
    stored = {(p["isl"], p["osl"], p["concurrency"]): p for p in points if p["kind"] == "benchmark"}
    for row in report["benchmarks"]:
        point = stored[(row["isl"], row["osl"], row["concurrency"])]
        for name in (
            "mean_ttft_ms",
            "mean_ttft_ms_ci95_low",
            "tput_user_ci95_high",
            "output_throughput",
            "output_throughput_ci95_low",
            "mean_tpot_ms",
        ):
            assert point[name] == pytest.approx(row[name], rel=1e-12), name  # fmt: skip
    assert stored[(128, 32, 4)]["mean_tpot_ms_ci95_high"] == pytest.approx(20.0 * 1.02)
    assert [p["mean_ttft_ms"] for p in points if p["kind"] == "stress_test"] == [300.0]
    (score,) = rows(db_url, schema.eval_scores)
    assert (score["task"], score["score"], score["score_ci95_low"]) == (
        "readiness_basics",
        0.55,
        0.37,
    )
    assert {c["name"] for c in rows(db_url, schema.spec_checks)} == {"chat", "completions"}
    checks = rows(db_url, schema.verdict_checks)
    assert len(checks) == len(report["acceptance"]["checks"]) and checks


def test_ingesting_a_run_twice_changes_nothing(tmp_path: Path, run_cli: Run) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    folder = stored_run(tmp_path / "run", "2026-12-01_10-00-00", "aaaa0001")
    assert ingest(run_cli, url, folder).code == 0
    again = ingest(run_cli, url, folder)
    assert again.code == 0
    assert "already in the store, unchanged" in again.out and "0 of 1 run(s)" in again.out
    assert len(rows(url, schema.runs)) == 1
    assert len(rows(url, schema.benchmark_points)) == 1


def _running_release(folder: Path) -> Path:
    return make_run(folder, children={"evals": "passed", "benchmarks": "running"})


def _empty_benchmarks(folder: Path) -> Path:
    return make_run(folder, RunSpec(workflow="benchmarks"), points=(), release=False)


def _no_runtime(folder: Path) -> Path:
    folder.mkdir()
    return folder


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_running_release, "is not a complete run: release.json: benchmarks is running"),
        (_empty_benchmarks, "is not a complete run: the benchmarks workflow left no result"),
        (_no_runtime, "is not a run folder (no runtime_spec.json)"),
    ],
)
def test_a_folder_that_is_not_a_complete_run_is_refused_and_nothing_is_stored(
    tmp_path: Path, run_cli: Run, make: Callable[[Path], Path], reason: str
) -> None:
    good = stored_run(tmp_path / "good", "2026-12-01_10-00-00", "aaaa0001")
    store = tmp_path / "r.db"
    result = ingest(run_cli, f"sqlite:///{store}", good, make(tmp_path / "bad"))
    assert result.code == 2
    assert reason in result.err and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err + result.out
    assert not store.exists()  # checked before the store is even opened


def test_the_default_store_is_a_sqlite_file_under_the_logs_folder(
    tmp_path: Path, run_cli: Run
) -> None:
    folder = stored_run(tmp_path / "run", "2026-12-01_10-00-00", "aaaa0001")
    result = run_cli("--workflow", "reports", "--ingest", str(folder))
    assert result.code == 0, result.err
    assert (tmp_path / "workflow_logs" / "results.db").is_file()


def _three_releases(tmp_path: Path, run_cli: Run, url: str) -> None:
    folders = [
        stored_run(tmp_path / "a", "2026-12-01_10-00-00", "aaaa0001", points=at(80.0)),
        stored_run(
            tmp_path / "b",
            "2026-12-02_10-00-00",
            "bbbb0002",
            points=at(90.0),
            engine_version="b11549",
        ),
        stored_run(  # slower than its target: not accepted
            tmp_path / "c",
            "2026-12-03_10-00-00",
            "cccc0003",
            points=at(2000.0),
            engine_version="b11549",
        ),
    ]
    assert ingest(run_cli, url, *reversed(folders)).code == 0


def test_history_is_the_series_over_runs_with_pins_and_verdicts(
    tmp_path: Path, run_cli: Run, db_url: str
) -> None:
    _three_releases(tmp_path, run_cli, db_url)
    args = ("--workflow", "reports", "--db", db_url, "--history", "--model", "tinymodel")
    result = run_cli(*args, "--device", "cpu", "--point", "128,32,1", "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    (point,) = document["points"]
    series = point["series"]
    assert [run["value"] for run in series] == [80.0, 90.0, 2000.0]  # oldest first
    assert [run["verdict"] for run in series] == ["ACCEPTED", "ACCEPTED", "NOT ACCEPTED"]
    assert [run["pins_changed"] for run in series] == [[], ["engine_version"], []]
    assert series[0]["ci95_low"] == pytest.approx(80.0 * 0.98)
    table = run_cli(*args, "--device", "cpu", "--metric", "tpot")
    assert "ISL 128 OSL 32 concurrency 4" in table.out and "TPOT (ms)" in table.out
    assert "bbbb0002" in table.out and "engine" in table.out


def test_baseline_is_the_last_accepted_release(tmp_path: Path, run_cli: Run, db_url: str) -> None:
    args = ("--workflow", "reports", "--db", db_url, "--baseline", "--model", "TinyModel")
    none_yet = run_cli(*args, "--device", "cpu")
    assert none_yet.code == 0 and "no accepted release of TinyModel on cpu" in none_yet.out
    if db_url.startswith("sqlite"):  # a query makes no store file
        assert not Path(db_url.removeprefix("sqlite:///")).exists()
    _three_releases(tmp_path, run_cli, db_url)
    found = json.loads(run_cli(*args, "--device", "cpu", "--json").out)["baseline"]
    assert found["run_id"].endswith("bbbb0002")  # the newest, cccc0003, was not accepted
    assert found["engine_version"] == "b11549"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--history", "--model", "M"], "--device is needed"),
        (["--history", "--model", "M", "--device", "cpu", "--point", "1,2"], "--point 1,2"),
        (["--history", "--model", "M", "--device", "cpu", "--metric", "x"], "--metric x: one of"),
        (["--baseline", "--model", "M", "--device", "cpu", "--point", "1,1,1"], "--point would"),
        (["--ingest", "x", "--history"], "one of them"),
        (["--ingest", "x", "--db", "mysql://u@h/db"], "is not one the store takes"),
    ],
)
def test_store_input_errors_are_one_line(argv: list[str], message: str, run_cli: Run) -> None:
    result = run_cli("--workflow", "reports", *argv)
    assert result.code == 2
    assert message in result.err and "Traceback" not in result.err + result.out


def test_the_password_in_a_store_url_is_never_shown(tmp_path: Path, run_cli: Run) -> None:
    folder = stored_run(tmp_path / "run", "2026-12-01_10-00-00", "aaaa0001")
    url = "postgresql://team:v3ry-s3cret-pw@127.0.0.1:1/results"  # nothing listens on port 1
    result = ingest(run_cli, url, folder)
    assert result.code == 3
    assert "postgresql://team:***@127.0.0.1:1/results" in result.err
    assert "v3ry-s3cret" not in result.err + result.out


def test_an_ingest_that_fails_midway_leaves_nothing(
    tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reports.store import ingest as ingest_module

    def fail(*_: object) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))

    url = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setattr(ingest_module, "_insert_rows", fail)
    result = ingest(run_cli, url, stored_run(tmp_path / "run", "2026-12-01_10-00-00", "a0"))
    assert result.code == 3 and "disk I/O error" in result.err
    assert rows(url, schema.runs) == []  # the run's row went with the rest


def test_two_ingests_at_once_both_land(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"  # neither finds a schema: both migrate at once
    folders = [
        stored_run(tmp_path / name, f"2026-12-0{day}_10-00-00", name, points=at(80.0))
        for day, name in ((1, "aaaa0001"), (2, "bbbb0002"))
    ]
    processes = [
        subprocess.Popen(
            [sys.executable, "run.py", "--workflow", "reports", "--db", url, "--ingest", str(f)],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for f in folders
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert sorted(run["run_id"][-8:] for run in rows(url, schema.runs)) == ["aaaa0001", "bbbb0002"]


def test_the_migrations_make_the_schema_the_code_queries(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from reports.store.database import open_store
    from reports.store.url import store_url

    engine = open_store(store_url(db_url, {}, Path(".")))
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), schema.metadata) == []
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [
            ("0002",)
        ]
    engine.dispose()


BUILT_IMAGE = {
    "reference": "local/readiness-llama-cpp-cpu:0.1.0",
    "id": "sha256:" + "b" * 64,
    "repo_digests": [],
    "origin": "built here",
    "recipe_digest": "sha256:" + "c" * 64,
    "recipe_folder": "docker/cpu",
}
PULLED_IMAGE = BUILT_IMAGE | {
    "id": "sha256:" + "d" * 64,
    "repo_digests": ["local/readiness-llama-cpp-cpu@sha256:" + "e" * 64],
    "origin": "pulled",
    "recipe_digest": None,
    "recipe_folder": None,
}


def test_ingest_stores_the_image_the_container_ran(
    tmp_path: Path, run_cli: Run, db_url: str
) -> None:
    folder = stored_run(tmp_path / "run", "2026-12-01_10-00-00", "aaaa0001", image=BUILT_IMAGE)
    assert ingest(run_cli, db_url, folder).code == 0
    (run,) = rows(db_url, schema.runs)
    assert run["docker_image_id"] == BUILT_IMAGE["id"]
    assert run["docker_image_origin"] == "built here from docker/cpu, recipe sha256:" + "c" * 64
    metadata = report_of_folder(folder)["metadata"]
    assert (run["docker_image_id"], run["docker_image_origin"]) == (
        metadata["docker_image_id"],
        metadata["docker_image_origin"],
    )


def _migrate_to(url: str, revision: str, down: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    from reports.store.database import MIGRATIONS

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url.replace("postgresql:", "postgresql+psycopg:", 1))
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)
    engine.dispose()


def _columns(url: str) -> set[str]:
    engine = sa.create_engine(url.replace("postgresql:", "postgresql+psycopg:", 1))
    found = {column["name"] for column in sa.inspect(engine).get_columns("runs")}
    engine.dispose()
    return found


def test_a_store_from_before_the_image_record_keeps_its_runs(
    tmp_path: Path, run_cli: Run, db_url: str
) -> None:
    _migrate_to(db_url, "0001")
    engine = sa.create_engine(db_url.replace("postgresql:", "postgresql+psycopg:", 1))
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO runs (run_id, model, device, workflow, started_at, ingested_at,"
                " verdict, accepted, blockers, docker_image) VALUES ('old', 'TinyModel', 'cpu',"
                " 'release', '2026-11-01T10:00:00', '2026-11-01T11:00:00', 'ACCEPTED', true, 0,"
                " 'local/readiness-llama-cpp-cpu:0.1.0')"
            )
        )
    engine.dispose()
    folder = stored_run(tmp_path / "run", "2026-12-01_10-00-00", "aaaa0001", image=BUILT_IMAGE)
    assert ingest(run_cli, db_url, folder).code == 0  # the store upgrades on first use
    stored = {run["run_id"]: run for run in rows(db_url, schema.runs)}
    old = stored.pop("old")
    assert old["docker_image"] == "local/readiness-llama-cpp-cpu:0.1.0"
    assert old["docker_image_id"] is None and old["docker_image_origin"] is None
    assert [run["docker_image_id"] for run in stored.values()] == [BUILT_IMAGE["id"]]
    _migrate_to(db_url, "0001", down=True)
    assert "docker_image_id" not in _columns(db_url) and "docker_image" in _columns(db_url)
    engine = sa.create_engine(db_url.replace("postgresql:", "postgresql+psycopg:", 1))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM runs").scalar_one() == 2
    engine.dispose()


def test_compare_to_baseline_says_the_baseline_ran_another_image(
    tmp_path: Path, run_cli: Run
) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    accepted = stored_run(tmp_path / "a", "2026-12-01_10-00-00", "aaaa0001", image=BUILT_IMAGE)
    assert ingest(run_cli, url, accepted).code == 0
    now = stored_run(tmp_path / "b", "2026-12-02_10-00-00", "bbbb0002", image=PULLED_IMAGE)
    result = _rebuild_against_baseline(run_cli, now, url)
    assert result.code == 0, result.out + result.err
    assert (
        f"note: the baseline ran image bbbbbbbbbbbb (built here from docker/cpu, recipe sha256:"
        f"{'c' * 64}), this run dddddddddddd (pulled, sha256:{'e' * 64})"
    ) in result.out
    # the report's comparison says it too, not only the console
    comparison = json.loads((now / "report" / "report.json").read_text())["comparison"]
    assert comparison["image_note"].startswith("the baseline ran image bbbbbbbbbbbb (built here")
    for name in ("report.md", "report.html"):
        assert "Note: the baseline ran image bbbbbbbbbbbb" in (now / "report" / name).read_text()
    same = stored_run(tmp_path / "c", "2026-12-03_10-00-00", "cccc0003", image=BUILT_IMAGE)
    assert "note: the baseline ran image" not in _rebuild_against_baseline(run_cli, same, url).out
    assert "ran image" not in (same / "report" / "report.md").read_text()


def test_eval_rows_keep_a_skipped_task_without_a_score(tmp_path: Path, run_cli: Run) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    tasks = [eval_task("gsm8k", "SKIPPED", None, reason="needs prompt logprobs")]
    folder = stored_run(tmp_path / "run", "2026-12-01_10-00-00", "a1", tasks=tasks,
                        checks=[spec_check("chat", "FAIL", "no")])  # fmt: skip
    assert ingest(run_cli, url, folder).code == 0
    (score,) = rows(url, schema.eval_scores)
    assert score["score"] is None and score["status"] == "SKIPPED"
    assert rows(url, schema.runs)[0]["verdict"] == "NOT ACCEPTED"


def _rebuild_against_baseline(run_cli: Run, folder: Path, url: str) -> CliResult:
    return run_cli(
        "--workflow", "reports", "--run-dir", str(folder), "--compare-to", "baseline", "--db", url
    )


@pytest.mark.parametrize(
    ("ttft", "code", "says"),
    [
        (200.0, 7, "regressed: ISL 128 OSL 32 concurrency 1, TTFT: 80 ms [78.4, 81.6] -> 200 ms"),
        (81.0, 0, "regression gate against 2026-12-01_10-00-00_TinyModel_cpu_release_aaaa0001: 0"),
        (2000.0, 5, "regressed: ISL 128 OSL 32 concurrency 1, TTFT"),  # not accepted: stays 5
    ],
)
def test_compare_to_baseline_gates_on_intervals(
    tmp_path: Path, run_cli: Run, ttft: float, code: int, says: str
) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    accepted = stored_run(tmp_path / "a", "2026-12-01_10-00-00", "aaaa0001", points=at(80.0))
    assert ingest(run_cli, url, accepted).code == 0
    now = stored_run(tmp_path / "b", "2026-12-02_10-00-00", "bbbb0002", points=at(ttft))
    assert ingest(run_cli, url, now).code == 0  # a run is never its own baseline
    result = _rebuild_against_baseline(run_cli, now, url)
    assert result.code == code, result.out + result.err
    assert says in result.out
    gate = json.loads((now / "report" / "report.json").read_text())["comparison"]["gate"]
    assert gate["baseline"].endswith("aaaa0001")
    if code != 0:
        assert {item["what"] for item in gate["regressions"]} >= {"ISL 128 OSL 32 concurrency 1"}
    markdown = (now / "report" / "report.md").read_text()
    html = (now / "report" / "report.html").read_text()
    for text in (markdown, html):  # the gate's finding in every report format, not only json
        assert "Regression gate against 2026-12-01_10-00-00_TinyModel_cpu_release_aaaa0001" in text
        assert ("regressed" in text) is (code != 0)


def test_no_baseline_is_said_and_fails_nothing(tmp_path: Path, run_cli: Run) -> None:
    folder = stored_run(tmp_path / "b", "2026-12-02_10-00-00", "bbbb0002")
    store = tmp_path / "none.db"
    result = _rebuild_against_baseline(run_cli, folder, f"sqlite:///{store}")
    assert result.code == 0, result.err
    assert "baseline: none, the results store" in result.out and not store.exists()
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert ingest(run_cli, url, folder).code == 0  # only itself, later than nothing
    alone = _rebuild_against_baseline(run_cli, folder, url)
    assert alone.code == 0
    assert "baseline: none, no accepted release of TinyModel on cpu" in alone.out


def test_a_later_release_is_not_the_baseline_of_an_earlier_one(
    tmp_path: Path, run_cli: Run
) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    early = stored_run(tmp_path / "a", "2026-12-01_10-00-00", "aaaa0001", points=at(200.0))
    later = stored_run(tmp_path / "b", "2026-12-02_10-00-00", "bbbb0002", points=at(80.0))
    assert ingest(run_cli, url, early, later).code == 0
    result = _rebuild_against_baseline(run_cli, early, url)
    assert result.code == 0 and "baseline: none" in result.out


def test_a_report_charts_each_target_point_over_the_previous_releases(
    tmp_path: Path, run_cli: Run, db_url: str
) -> None:
    earlier = [
        stored_run(tmp_path / name, f"2026-12-0{day}_10-00-00", name, points=at(ttft))
        for day, name, ttft in ((1, "aaaa0001", 80.0), (2, "bbbb0002", 90.0))
    ]
    later = stored_run(tmp_path / "dddd0004", "2026-12-09_10-00-00", "dddd0004", points=at(50.0))
    now = stored_run(tmp_path / "cccc0003", "2026-12-03_10-00-00", "cccc0003", points=at(120.0))
    assert ingest(run_cli, db_url, *earlier, later, now).code == 0
    result = run_cli("--workflow", "reports", "--run-dir", str(now), "--db", db_url)
    assert result.code == 0, result.out + result.err
    report = json.loads((now / "report" / "report.json").read_text())
    (point,) = report["trends"]["points"]  # the one target point, ISL 128 OSL 32 concurrency 1
    series = point["series"]["mean_ttft_ms"]
    assert [entry["value"] for entry in series] == [80.0, 90.0, 120.0]  # not the later release
    assert [entry["current"] for entry in series] == [False, False, True]
    assert series[-1]["run_id"].endswith("cccc0003") and report["trends"]["releases"] == 2
    html = (now / "report" / "report.html").read_text()
    assert "<h2>Trends</h2>" in html and 'id="trend-0"' in html
    assert '"size": [7, 7, 14]' in html  # this run's marker stands out


def test_without_a_store_a_report_has_no_trends(tmp_path: Path, run_cli: Run) -> None:
    folder = stored_run(tmp_path / "run", "2026-12-01_10-00-00", "aaaa0001")
    assert run_cli("--workflow", "reports", "--run-dir", str(folder)).code == 0
    assert "trends" not in json.loads((folder / "report" / "report.json").read_text())
    assert "<h2>Trends</h2>" not in (folder / "report" / "report.html").read_text()


KILLED_MIDWAY = """
import sys, time
from pathlib import Path
from reports.store import ingest as module
from reports.store.database import open_store, transaction
from reports.store.run_record import read_record
from reports.store.url import store_url

written = module._insert_rows
def write_then_hang(*args):
    written(*args)
    print("rows written", flush=True)
    time.sleep(120)
module._insert_rows = write_then_hang
url = store_url(sys.argv[1], {}, Path("."))
with transaction(open_store(url), url) as connection:
    module.ingest(connection, read_record(Path(sys.argv[2]), "now"))
"""


def test_an_ingest_killed_midway_leaves_nothing_and_the_store_usable(
    tmp_path: Path, run_cli: Run, db_url: str
) -> None:
    folder = stored_run(tmp_path / "run", "2026-12-01_10-00-00", "aaaa0001", points=at(80.0))
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_MIDWAY, db_url, str(folder)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None and child.stdout.readline().strip() == "rows written"
    child.kill()  # SIGKILL: no handler, no rollback of its own
    child.wait(timeout=30)
    assert rows(db_url, schema.runs) == [] and rows(db_url, schema.benchmark_points) == []
    again = ingest(run_cli, db_url, folder)  # its lock died with it
    assert again.code == 0 and "1 of 1 run(s) stored" in again.out


def test_the_catalogue_has_a_sparkline_per_model_and_device(tmp_path: Path, run_cli: Run) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    releases = [
        stored_run(
            tmp_path / name, f"2026-12-0{day}_10-00-00", name, points=[Measured(tpot_ms=tpot)]
        )
        for day, name, tpot in (
            (1, "aaaa0001", 16.0),
            (2, "bbbb0002", 32.0),  # half the per-user rate
            (3, "cccc0003", 2000.0),  # far below its target: not accepted
        )
    ]
    assert ingest(run_cli, url, *releases).code == 0
    for folder in releases:  # the reports a catalogue merges
        assert run_cli("--workflow", "reports", "--run-dir", str(folder)).code in (0, 5)
    out = tmp_path / "catalogue"
    args = ("--workflow", "reports", "--merge", str(releases[-1]), "--output-dir", str(out))
    assert run_cli(*args, "--db", url).code == 5
    (row,) = json.loads((out / "catalogue.json").read_text())["rows"]
    assert row["trend"]["values"] == pytest.approx([62.5, 31.25, 0.5])
    assert row["trend"]["verdicts"] == ["ACCEPTED", "ACCEPTED", "NOT ACCEPTED"]
    assert "| █▄▁ |" in (out / "catalogue.md").read_text()
    html = (out / "catalogue.html").read_text()
    assert '<svg class="sparkline"' in html and 'fill="#cf222e"' in html
    without = tmp_path / "plain"
    assert run_cli(*args[:-1], str(without)).code == 5  # no store given: the default, absent
    assert "Trend" not in (without / "catalogue.md").read_text()


def test_the_verdict_stored_is_the_one_the_files_give_not_report_json(
    tmp_path: Path, run_cli: Run
) -> None:
    """report.json renders the run's files and can be edited or stale: the store judges the
    files again (with the run's saved requirements), and says when report.json differed. An
    audit edited a NOT ACCEPTED run's report.json to ACCEPTED and the store kept ACCEPTED,
    making it the next release's baseline."""
    failing = [spec_check("chat", "FAIL", "no")]
    folder = stored_run(tmp_path / "run", "2026-12-01_10-00-00", "aaaa0001", checks=failing)
    assert run_cli("--workflow", "reports", "--run-dir", str(folder)).code == 5
    path = folder / "report" / "report.json"
    report = json.loads(path.read_text())
    report["acceptance"]["verdict"] = "ACCEPTED"
    report["acceptance_criteria"] = True
    path.write_text(json.dumps(report))
    url = f"sqlite:///{tmp_path / 'a.db'}"
    result = ingest(run_cli, url, folder)
    assert result.code == 0, result.out + result.err
    assert rows(url, schema.runs)[0]["verdict"] == "NOT ACCEPTED"
    assert (
        "note: report.json says ACCEPTED, but the run's files give NOT ACCEPTED now "
        "(report.json is stale or was edited); stored as NOT ACCEPTED"
    ) in result.out
    del report["acceptance"]["checks"]  # a report.json an older runner wrote: no note needed
    report["acceptance"]["verdict"] = "NOT ACCEPTED"
    path.write_text(json.dumps(report))
    other = f"sqlite:///{tmp_path / 'b.db'}"
    again = ingest(run_cli, other, folder)
    assert rows(other, schema.runs)[0]["verdict"] == "NOT ACCEPTED"
    assert "note:" not in again.out


def test_a_run_that_cannot_be_stored_says_so_and_fails_nothing(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from reports.store.url import store_url
    from workflows.store_commands import record_run

    out = io.StringIO()
    console = Console(file=out, width=200)
    unreachable = store_url("postgresql://u:run-s3cret-pw@127.0.0.1:1/db", {}, tmp_path)
    record_run(stored_run(tmp_path / "run", "2026-12-01_10-00-00", "a1"), unreachable, console)
    record_run(_running_release(tmp_path / "cut"), unreachable, console)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("results store: not stored: results store postgresql://u:***@")
    assert "release.json: benchmarks is running" in lines[1] and len(lines) == 2
