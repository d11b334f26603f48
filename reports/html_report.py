"""report.html: the report's content and interactive charts in one file that opens with no
network. Plotly's script is inlined from the pinned `plotly` package; the charts' data is JSON
in the page."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from reports import server_view, tables
from reports.charts import benchmark_charts
from reports.render import environment, template_values
from reports.trend_charts import trend_charts


def plotly_script() -> str:
    script = (resources.files("plotly") / "package_data" / "plotly.min.js").read_text()
    return script.replace("</script", "<\\/script")  # it cannot end the page's script early


def render_html(report: Mapping[str, Any]) -> str:
    charts = benchmark_charts(report)
    trends = trend_charts(report)
    server_charts = server_view.telemetry_plots(report["server_telemetry"])
    template = environment().get_template("report.html.j2")
    return template.render(
        **template_values(report, tables.html_table),
        accepted=report["acceptance_criteria"],
        partial=bool(report["acceptance"].get("partial")),
        plots=charts,
        trend_plots=trends,
        server_plots=server_charts,
        plots_json=json.dumps([*charts, *trends, *server_charts]).replace("</", "<\\/"),
        plotly_js=plotly_script(),
    )
