"""What a server sent (an error body, a check's message) is text in every report format: no HTML
in report.md or catalogue.md (GitHub renders it), no link, no broken table, a junit.xml that
parses, a CSV without formulas (issue 19, item 4)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd

from reports.build import render_run
from reports.escaping import markdown_text
from reports.merge import render_catalogue
from tests.run_folders import passing_run, spec_check

IMG = "<img src=x onerror=alert(1)>"
BODY = f"HTTP 500: {IMG} | [click](https://evil.example)\nsecond line"


def unescaped_pipes(line: str) -> int:
    return line.replace("\\|", "").count("|")


def tables_of(text: str) -> list[list[str]]:
    """Each markdown table's lines (header, rule, rows)."""
    tables: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    return tables


def hostile_run(folder: Path) -> Path:
    return passing_run(folder, checks=[spec_check("chat"), spec_check("completions", "FAIL", BODY)])


def test_markdown_text_shows_html_links_pipes_and_newlines_as_text() -> None:
    assert markdown_text(BODY) == (
        "HTTP 500: &lt;img src=x onerror=alert(1)&gt; \\| [click\\](https://evil.example) "
        "second line"
    )
    assert markdown_text("a \\| b") == "a \\\\\\| b", "a backslash cannot unescape the pipe"


def test_report_md_shows_a_server_error_body_as_text(tmp_path: Path) -> None:
    """The body used to appear verbatim: GitHub rendered the tag, and its `|` split the row."""
    text = render_run(hostile_run(tmp_path / "run")).files["markdown"].read_text()
    assert IMG not in text and "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "[click](" not in text and "[click\\](https://evil.example)" in text
    for table in tables_of(text):
        assert len({unescaped_pipes(row) for row in table}) == 1, table
    rows = [line for line in text.splitlines() if "onerror" in line]
    assert len(rows) == 2 and all(row.startswith("|") for row in rows), "blockers, spec tests"
    assert all("second line" in row for row in rows), "the body's newline stays in its cell"


def test_report_html_escapes_a_server_error_body(tmp_path: Path) -> None:
    page = render_run(hostile_run(tmp_path / "run")).files["html"].read_text()
    assert IMG not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_catalogue_md_shows_a_server_error_body_as_text(tmp_path: Path) -> None:
    report = render_run(hostile_run(tmp_path / f"run-{IMG}")).files["json"]
    catalogue = render_catalogue([report], tmp_path / "catalogue")
    text = catalogue.files["markdown"].read_text()
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<img" not in catalogue.files["html"].read_text()


def test_a_superseded_runs_note_in_the_catalogue_is_text(tmp_path: Path) -> None:
    """Notes go into `> ...` lines of catalogue.md, outside any table."""
    older = render_run(passing_run(tmp_path / f"old-{IMG}")).files["json"]
    newer = render_run(passing_run(tmp_path / "new")).files["json"]
    catalogue = render_catalogue([older, newer], tmp_path / "catalogue")
    assert any(IMG in note for note in catalogue.document["notes"])
    assert "<img" not in catalogue.files["markdown"].read_text()


def test_junit_xml_parses_whatever_control_characters_a_server_sent(tmp_path: Path) -> None:
    """ElementTree writes ESC and NUL as they are, and the file no longer parses."""
    message = f"\x1b[31mHTTP 500\x00: {IMG}"
    run = passing_run(tmp_path / "run", checks=[spec_check("completions", "FAIL", message)])
    junit = render_run(run).files["junit"]
    root = ElementTree.parse(junit).getroot()
    [failure] = root.iter("failure")
    assert IMG in str(failure.get("message")) and "HTTP 500" in str(failure.text)


def test_benchmarks_csv_never_holds_a_formula(tmp_path: Path) -> None:
    run = passing_run(tmp_path / "run")
    [point] = (run / "benchmarks").glob("*[0-9].json")
    document = json.loads(point.read_text())
    point.write_text(json.dumps(document | {"tool": '=HYPERLINK("https://evil")'}))
    frame = pd.read_csv(io.StringIO(render_run(run).files["csv"].read_text()))
    assert list(frame["tool"]) == ['\'=HYPERLINK("https://evil")']
    assert frame["concurrency"].dtype.kind == "i", "numbers stay numbers"
