"""The catalogue's sparkline per (model, device): one figure over its last releases in the
results store, as an inline SVG for catalogue.html (a dot per release in its verdict's colour,
the newest larger) and as block characters for catalogue.md. Nothing to load: plain text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from reports.acceptance import ACCEPTED, NOT_ACCEPTED

WIDTH, HEIGHT, PAD = 120, 24, 3
BLOCKS = "▁▂▃▄▅▆▇█"
VERDICT_COLOURS = {ACCEPTED: "#1a7f37", NOT_ACCEPTED: "#cf222e"}  # else (partial): amber
PARTIAL_COLOUR = "#9a6700"


def _scaled(values: Sequence[float]) -> list[float]:
    """Each value's place between the lowest (0) and the highest (1); all equal: the middle."""
    low, high = min(values), max(values)
    return [0.5 if high == low else (value - low) / (high - low) for value in values]


def _known(trend: Mapping[str, Any]) -> list[tuple[float, str]]:
    return [
        (float(value), str(verdict))
        for value, verdict in zip(trend["values"], trend["verdicts"], strict=True)
        if isinstance(value, (int, float))
    ]


def blocks(trend: Mapping[str, Any]) -> str:
    """The series as block characters, oldest first ('' without two figures)."""
    known = _known(trend)
    if len(known) < 2:
        return ""
    places = _scaled([value for value, _ in known])
    return "".join(BLOCKS[round(place * (len(BLOCKS) - 1))] for place in places)


def svg(trend: Mapping[str, Any]) -> Markup:
    """The series as a small inline SVG with its values in the tooltip ('' without two)."""
    known = _known(trend)
    if len(known) < 2:
        return Markup("")
    places = _scaled([value for value, _ in known])
    step = (WIDTH - 2 * PAD) / (len(known) - 1)
    points = [
        (PAD + index * step, HEIGHT - PAD - place * (HEIGHT - 2 * PAD))
        for index, place in enumerate(places)
    ]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3.5 if index == len(points) - 1 else 2}" '
        f'fill="{VERDICT_COLOURS.get(verdict, PARTIAL_COLOUR)}"/>'
        for index, ((x, y), (_, verdict)) in enumerate(zip(points, known, strict=True))
    )
    title = escape(
        f"{trend['label']}, last {len(known)} releases: "
        + ", ".join(f"{value:.3g}" for value, _ in known)
    )
    return Markup(
        f'<svg class="sparkline" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        f'<polyline points="{line}" fill="none" stroke="#6e7781" stroke-width="1.5"/>{dots}</svg>'
    )
