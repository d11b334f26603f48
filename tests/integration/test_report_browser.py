"""report.html in a real browser with the network cut off: Debian's chromium, driven headless by
Playwright (no browser download). The charts must draw from the inlined script alone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from reports.build import render_run
from tests.run_folders import Measured, RunSpec, eval_task, make_run, spec_check

pytestmark = pytest.mark.integration
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("READINESS_BROWSER_TESTS") == "required":
        pytest.fail("chromium is not installed, and .ci/run said it would be")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def release_folder(folder: Path) -> Path:
    at_4 = {"isl": 128, "osl": 32, "concurrency": 4, "ttft_ms": 400.0, "tput_user": 40.0}
    spec = RunSpec(
        status="complete",
        perf_reference=[
            {"isl": 128, "osl": 32, "concurrency": 1, "ttft_ms": 100.0, "tput_user": 50.0},
            at_4 | {"tput": 160.0},
        ],
    )
    points = [Measured(), Measured(concurrency=4, ttft_ms=900.0, tpot_ms=100.0)]
    tasks = [eval_task("readiness_basics", "PASS")]
    return make_run(folder, spec, points, tasks, [spec_check("chat")])


def test_report_html_draws_its_charts_offline(tmp_path: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    rendered = render_run(release_folder(tmp_path / "run"))
    charts = 3  # TTFT and per-user throughput against concurrency, total against per-user
    requested: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = browser.new_context(offline=True)

            def only_files(route: Route) -> None:
                if route.request.url.startswith("file:"):
                    route.continue_()
                else:
                    requested.append(route.request.url)
                    route.abort()

            context.route("**/*", only_files)
            page = context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(rendered.files["html"].as_uri())
            page.wait_for_function(
                f"document.querySelectorAll('.plot .main-svg').length >= {charts}",
                timeout=30_000,
            )
            traces = page.evaluate("document.querySelectorAll('.plot .scatterlayer .trace').length")
            titles = page.evaluate(
                "Array.from(document.querySelectorAll('.plot .gtitle')).map(t => t.textContent)"
            )
            verdict = page.inner_text("#verdict")
        finally:
            browser.close()
    assert not requested, f"the report asked the network for {requested}"
    assert not errors, errors
    assert traces >= 6  # measured lines plus the tiers' target lines
    assert "TTFT, ISL 128 / OSL 32" in titles
    assert "NOT ACCEPTED" in verdict
