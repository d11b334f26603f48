"""report.md, junit.xml and benchmarks.csv from a report document (report.json's content)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jinja2
import pandas as pd
from jinja2.nodes import EvalContext
from markupsafe import Markup

from reports import capacity_view, server_view, sources, tables, under_load
from reports.escaping import csv_cell, markdown_text, xml_text
from reports.junit_cases import CaseFacts, case_facts, run_seconds, suite_seconds

TEMPLATES = Path(__file__).parent / "templates"
METADATA_ROWS = (
    ("Model", "model_name"),
    ("Weights", "model_repo"),
    ("Device", "device"),
    ("Implementation", "model_impl"),
    ("Engine", "inference_engine"),
    ("Engine version", "engine_version"),
    ("Spec version", "version"),
    ("tt-metal commit", "tt_metal_commit"),
    ("vLLM commit", "vllm_commit"),
    ("Docker image", "docker_image"),
    ("Docker image id", "docker_image_id"),
    ("Server", "server_mode"),
    ("Status", "model_status"),
    ("Eval limit", "limit_samples_mode"),
    ("Runner", "runner_version"),
    ("Runner commit", "runner_git_sha"),
    ("Command", "run_command"),
    ("Report id", "report_id"),
)


def environment() -> jinja2.Environment:
    """HTML templates autoescape; in a markdown template every value is escaped as markdown
    text, but for the tables, which come escaped already (Markup)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=jinja2.select_autoescape(["html.j2"]),
        finalize=_markdown_or_as_is,
    )


@jinja2.pass_eval_context
def _markdown_or_as_is(context: EvalContext, value: Any) -> Any:
    if context.autoescape or isinstance(value, Markup):
        return value  # HTML: jinja2 escapes it; a table: escaped already
    return markdown_text(value)


def verdict_line(report: Mapping[str, Any]) -> str:
    blockers = len(report["acceptance"]["blockers"])
    counted = f"{blockers} blocker{'s' if blockers != 1 else ''}"
    partial = report["acceptance"].get("partial") or []
    marginal = len(report["acceptance"].get("marginal") or ())
    also = f"{marginal} marginal: decided by the mean" if marginal else ""
    if partial:
        counted += f"; {also}" if also else ""
        return f"PARTIAL ⚠️: no release verdict ({'; '.join(partial)}; {counted})"
    if report["acceptance_criteria"]:
        return "ACCEPTED ✅" + (f" ({also})" if also else "")
    return f"NOT ACCEPTED ⛔ ({counted}{', ' + also if also else ''})"


DOCKER_ROWS = ("docker_image", "docker_image_id")


def metadata_frame(meta: Mapping[str, Any], markdown: bool = True) -> pd.DataFrame:
    """The run's metadata, a row per field it has; the Docker image, with where it came from,
    only when the server ran in it (a local process or an external server did not)."""
    rows = [
        {"Field": label, "Value": _metadata_value(meta, key, markdown)}
        for label, key in METADATA_ROWS
        if meta.get(key) not in (None, "")
        and (key not in DOCKER_ROWS or meta.get("server_mode") == "docker")
    ]
    return pd.DataFrame(rows)


def _metadata_value(meta: Mapping[str, Any], key: str, markdown: bool) -> Any:
    if key == "run_command" and markdown:
        return f"`{meta[key]}`"
    if key == "docker_image" and meta.get("docker_image_origin"):
        return f"{meta[key]} ({meta['docker_image_origin']})"
    return meta[key]


def spec_tests_summary(report: Mapping[str, Any]) -> str:
    section = report["spec_tests"]
    if not section["summary"]:
        return "Spec tests did not run."
    statuses = [check["status"] for check in section["checks"]]
    counts = ", ".join(
        f"{label} {statuses.count(status)}"
        for label, status in (("passed", "PASS"), ("failed", "FAIL"), ("skipped", "SKIPPED"))
    )
    errors = statuses.count("ERROR")
    return (
        counts
        + (f", errors {errors}" if errors else "")
        + (
            ""
            if section["summary"].get("complete")
            else " (incomplete: the workflow stopped early)"
        )
    )


def words(table: Any) -> Any:
    """The renderer for a table of words: in HTML its cells wrap long words (a path, a
    command) rather than scroll."""
    return functools.partial(tables.html_table, wrap=True) if table is tables.html_table else table


def section_tables(report: Mapping[str, Any], table: Any) -> dict[str, str]:
    """Every table of the report, rendered by `table` (markdown or HTML)."""
    acceptance = report["acceptance"]
    comparison = report.get("comparison")
    return {
        "metadata_table": words(table)(
            metadata_frame(report["metadata"], markdown=table is tables.markdown_table)
        ),
        "categories_table": table(
            tables.category_frame(report["acceptance_criteria_metadata"]["categories"])
        ),
        "blockers_table": table(tables.findings_frame(acceptance["blockers"])),
        "marginal_table": table(tables.findings_frame(acceptance.get("marginal") or [])),
        "waived_table": table(tables.findings_frame(acceptance["waived"])),
        "advisories_table": table(tables.findings_frame(acceptance["advisories"])),
        "targets_table": table(tables.target_frame(report["target_checks"])),
        "benchmarks_table": table(tables.benchmark_frame(report["benchmarks"])),
        "capacity_table": table(capacity_view.capacity_frame(report["capacity"]))
        if report.get("capacity")
        else "",
        "evals_table": table(tables.eval_frame(report["evals"]["tasks"])),
        "evals_under_load_table": table(under_load.under_load_frame(report["evals"]["tasks"]))
        if under_load.loaded_tasks(report["evals"]["tasks"])
        else "",
        "spec_tests_table": table(tables.spec_test_frame(report["spec_tests"]["checks"])),
        "telemetry_table": table(server_view.telemetry_frame(report["server_telemetry"])),
        "stress_table": table(tables.benchmark_frame(report["stress_tests"]))
        if report["stress_tests"]
        else "",
        "comparison_table": table(tables.comparison_frame(comparison["rows"]))
        if comparison
        else "",
        "sources_table": words(table)(
            sources.sources_frame(
                sources.source_rows(report), markdown=table is tables.markdown_table
            )
        ),
    }


def template_values(report: Mapping[str, Any], table: Any) -> dict[str, Any]:
    acceptance = report["acceptance"]
    return {
        "meta": report["metadata"],
        "verdict_line": verdict_line(report),
        "title": "Partial Run Summary" if acceptance.get("partial") else "Model Release Summary",
        "criteria": report["acceptance_criteria_metadata"],
        "waived": acceptance["waived"],
        "advisories": acceptance["advisories"],
        "marginal": acceptance.get("marginal") or [],
        "notes": acceptance["notes"],
        "comparison": report.get("comparison"),
        "spec_tests_summary": spec_tests_summary(report),
        "under_load_heading": under_load.HEADING,
        "capacity_heading": capacity_view.HEADING,
        "sources_heading": sources.HEADING,
        **section_tables(report, table),
    }


def render_markdown(report: Mapping[str, Any]) -> str:
    template = environment().get_template("report.md.j2")
    return template.render(**template_values(report, tables.markdown_table))


NO_FACTS = CaseFacts(None)
JUNIT_SKIPPED = ("WAIVED", "NOT ENFORCED", "SHOULD MISSED", "SKIPPED", "N/A")


def render_junit(report: Mapping[str, Any]) -> str:
    """One test suite per category, one test case per check with the time it took and what
    was measured: a blocking failure fails; a waived, advisory, skipped or not-applicable check
    is skipped with its reason."""
    meta = report["metadata"]
    suites = ElementTree.Element(
        "testsuites", name=f"release {meta['model_name']} on {meta['device']}"
    )
    checks = report["acceptance"]["checks"]
    facts = case_facts(report)
    suite_times: dict[str, float] = {}
    for category in report["acceptance_criteria_metadata"]["categories"]:
        name = category["name"]
        mine = [check for check in checks if check["category"] == name]
        times = [facts.get(check["key"], NO_FACTS).time_s or 0.0 for check in mine]
        seconds = suite_times[name] = suite_seconds(report, name, times)
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=name,
            tests=str(len(mine)),
            failures=str(sum(check["outcome"] == "FAIL" for check in mine)),
            skipped=str(sum(check["outcome"] in JUNIT_SKIPPED for check in mine)),
            time=f"{seconds:.3f}",
        )
        for check in mine:
            _test_case(suite, name, check, facts.get(check["key"], NO_FACTS))
    suites.set("time", f"{run_seconds(report, suite_times):.3f}")
    _telemetry_out(suites, report["server_telemetry"])
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _test_case(
    suite: ElementTree.Element, category: str, check: Mapping[str, Any], facts: CaseFacts
) -> None:
    """One check as a test case; its message (a server's words, often) as text XML can hold,
    and beside a passing one what was measured."""
    case = ElementTree.SubElement(
        suite,
        "testcase",
        classname=f"release.{category}",
        name=xml_text(check["key"]),
        time=f"{facts.time_s or 0.0:.3f}",
    )
    message = xml_text(check["message"])
    if check.get("marginal"):  # decided by the mean: the CI log says so beside the result
        ElementTree.SubElement(case, "properties").append(
            ElementTree.Element("property", name="marginal", value="true")
        )
    if check["outcome"] == "FAIL":
        ElementTree.SubElement(case, "failure", message=message).text = message
    elif check["outcome"] in JUNIT_SKIPPED:
        ElementTree.SubElement(case, "skipped", message=f"{check['outcome']}: {message}".strip())
    said = [part for part in (message, xml_text(facts.measured)) if part]
    if check["outcome"] == "PASS" and said:
        ElementTree.SubElement(case, "system-out").text = "\n".join(dict.fromkeys(said))
    elif check.get("marginal"):
        ElementTree.SubElement(case, "system-out").text = message


def _telemetry_out(suites: ElementTree.Element, rows: list[dict[str, Any]]) -> None:
    """The server's view of each point, as system-out of its workflow's suite."""
    for suite in suites.iter("testsuite"):
        lines = [
            server_view.junit_line(row) for row in rows if row["workflow"] == suite.get("name")
        ]
        if lines:
            ElementTree.SubElement(suite, "system-out").text = xml_text("\n".join(lines))


def render_csv(report: Mapping[str, Any]) -> str:
    frame = tables.benchmark_csv_frame(report["benchmarks"]).map(csv_cell)
    text: str = frame.to_csv(index=False)
    return text
