"""HTML report of a scoring run: summary, top leads and their monthly charts.

:func:`render_report` reads a directory written by ``anomaly score`` and writes one
self-contained ``report.html``; the steps are public for notebooks: read the directory
(:func:`read_scoring_output`), count and break down the alerts (:func:`summarize`),
read a few series' months (:func:`read_monthly`) and chart them (:func:`series_chart`).
Charts need the optional ``matplotlib`` (``pip install anomaly[plot]``).

Examples
--------
>>> from anomaly.report import render_report
>>> render_report("out/")  # doctest: +SKIP
PosixPath('/.../out/report.html')
"""

from anomaly.report.charts import figure_png, series_chart
from anomaly.report.formatting import format_money
from anomaly.report.inputs import LEAD_COLUMNS, ScoringOutput, read_scoring_output
from anomaly.report.monthly import SERIES_COLUMNS, read_monthly
from anomaly.report.render import render_report
from anomaly.report.summary import Summary, summarize

__all__ = [
    "LEAD_COLUMNS",
    "SERIES_COLUMNS",
    "ScoringOutput",
    "Summary",
    "figure_png",
    "format_money",
    "read_monthly",
    "read_scoring_output",
    "render_report",
    "series_chart",
    "summarize",
]
