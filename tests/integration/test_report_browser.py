"""report.html in a real browser with the network cut off: Debian's chromium, driven headless by
Playwright (no browser download). The charts must draw from the inlined script alone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from reports.build import render_run
from tests.run_folders import Measured, RunSpec, eval_task, make_run, spec_check

if TYPE_CHECKING:
    from playwright.sync_api import Page

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


VIEWPORTS = {"desktop": (1400, 900), "phone": (390, 844)}
CHARTS = {  # id: the y axis's type; every chart's concurrency axis is a log2 one but the last
    "plot-ttft_ms": "log",
    "plot-tput_user": "linear",
    "plot-tput": "linear",
    "plot-throughput": "linear",
}
OVERFLOWING = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => !e.closest('.table-box') && e.getBoundingClientRect().right > innerWidth + 1)
  .map(e => e.tagName + '.' + e.className)"""
WORD_TABLES = """() => Array.from(document.querySelectorAll('.table-box'))
  .filter(box => box.querySelector('table.wrap'))
  .map(box => [box.querySelector('th').innerText, box.scrollWidth > box.clientWidth + 1])"""
CHART_FACTS = """ids => ids.map(id => {
  const plot = document.getElementById(id);
  return {id, traces: plot.data.map(t => t.name), x: plot._fullLayout.xaxis.type,
          y: plot._fullLayout.yaxis.type, ticks: plot._fullLayout.xaxis.tickvals || null,
          width: plot.getBoundingClientRect().width};
})"""


def look_at(page: Page, width: int, height: int, shots: Path) -> dict[str, Any]:
    """What a person sees at this width: where the verdict is, what overflows, the charts."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_function(
        f"document.querySelectorAll('.plot .main-svg').length >= {len(CHARTS)}", timeout=30_000
    )
    page.wait_for_timeout(300)  # the responsive charts redraw at the new width
    page.screenshot(path=str(shots / f"report-{width}.png"))
    verdict = page.locator("#verdict").bounding_box()
    return {
        "verdict": verdict,
        "verdict_text": page.inner_text("#verdict"),
        "page_width": page.evaluate("document.documentElement.scrollWidth"),
        "overflowing": page.evaluate(OVERFLOWING),
        "word_tables": page.evaluate(WORD_TABLES),  # [first header, scrolls]
        "charts": page.evaluate(CHART_FACTS, list(CHARTS)),
    }


def test_report_html_reads_at_desktop_and_phone_widths_offline(tmp_path: Path) -> None:
    """Drawn from the inlined script alone (no request leaves the page), at 1400 and 390 px:
    the verdict is in the first screen, nothing is wider than the page (a wide table scrolls
    in its box), and the charts are the four expected, with their traces and axis types.
    Screenshots land in the test's tmp_path."""
    from playwright.sync_api import Route, sync_playwright

    rendered = render_run(release_folder(tmp_path / "run"))
    requested: list[str] = []
    errors: list[str] = []
    seen: dict[str, dict[str, Any]] = {}
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
            for name, (width, height) in VIEWPORTS.items():
                seen[name] = look_at(page, width, height, tmp_path)
        finally:
            browser.close()
    assert not requested, f"the report asked the network for {requested}"
    assert not errors, errors
    for name, (width, height) in VIEWPORTS.items():
        facts = seen[name]
        box = facts["verdict"]
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, name
        assert "NOT ACCEPTED" in facts["verdict_text"]
        assert facts["page_width"] <= width and not facts["overflowing"], (name, facts)
        assert [(header, scrolls) for header, scrolls in facts["word_tables"]] == [
            ("Field", False),  # the metadata: a long command or path wraps
            ("Section", False),  # the result files
        ], (name, facts["word_tables"])
        charts = {chart["id"]: chart for chart in facts["charts"]}
        for chart_id, y_type in CHARTS.items():
            chart = charts[chart_id]
            assert chart["y"] == y_type and chart["width"] <= width, (name, chart)
            assert chart["traces"][:1] == ["ISL 128 / OSL 32"], (name, chart)
            assert {"functional (10%)", "complete (50%)"} <= set(chart["traces"]), (name, chart)
        assert charts["plot-ttft_ms"]["x"] == "log" and charts["plot-ttft_ms"]["ticks"] == [1, 4]
