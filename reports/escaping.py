"""Text a server sent (an error body, a check's message, its version string), made inert for the
format it goes into: markdown (HTML and link syntax escaped, one line, table pipes escaped),
XML 1.0 (only the characters it allows) and CSV (no formula a spreadsheet would run). HTML is
escaped by jinja2's autoescape and pandas' `to_html(escape=True)`."""

from __future__ import annotations

import html
import re

MARKDOWN_SPECIAL = str.maketrans({"\\": "\\\\", "|": "\\|"})
LINE_BREAKS = re.compile(r"\r\n|\r|\n")
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def markdown_text(value: object) -> str:
    """One line of markdown that shows `value` as text: no HTML tag, no link or image, no
    cell break in a table."""
    escaped = html.escape(str(value), quote=False).translate(MARKDOWN_SPECIAL)
    escaped = escaped.replace("](", "\\](")  # `[text](url)`, `![alt](src)`: text, not a link
    return LINE_BREAKS.sub(" ", escaped)


def xml_text(value: object) -> str:
    """`value` with the characters XML 1.0 cannot hold (NUL, ESC, ...) replaced; ElementTree
    escapes the rest, but writes those as they are and the file no longer parses."""
    return NOT_XML.sub("\ufffd", str(value))


def csv_cell(value: object) -> object:
    """A text cell a spreadsheet would take as a formula (=, +, -, @) gets a leading quote; a
    number is a number."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
