"""Render a scoring output directory as one self-contained HTML file."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

import pandas as pd

from anomaly._version import __version__
from anomaly.report.charts import PLOT_INSTALL, figure_png, matplotlib_available, series_chart
from anomaly.report.inputs import ScoringOutput, read_scoring_output
from anomaly.report.monthly import read_monthly
from anomaly.report.page import (
    ChartFigure,
    charts_section,
    document,
    leads_section,
    signal_list,
    summary_section,
)
from anomaly.report.summary import summarize

__all__ = ["REPORT_FILE", "render_report"]

REPORT_FILE = "report.html"


def _write_atomically(path: Path, data: bytes) -> None:
    # anomaly.artifacts.atomic does the same, but importing it loads scikit-learn
    # (through anomaly.artifacts) for a report that needs none of it.
    staging = path.parent / f".{path.name}.tmp-{secrets.token_hex(6)}"
    try:
        # Mode "x" creates the file with the umask's permissions, unlike mkstemp's 0600,
        # so the report stays readable by whoever could read the old one.
        with open(staging, "xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()
        raise


def _chart_figures(output: ScoringOutput, leads: pd.DataFrame) -> tuple[list[ChartFigure], str]:
    # Charts of the leads, or none and a note saying why.
    if leads.empty:
        return [], ""
    if output.scores_path is None:
        return [], "No charts: the directory has no scores.parquet with the monthly values."
    if not matplotlib_available():
        return [], f"Charts need matplotlib: {PLOT_INSTALL}"
    keys = list(leads[["reporter", "partner", "flow", "hs"]].itertuples(index=False, name=None))
    monthly = read_monthly(output.scores_path, keys)
    start = output.scored_window[0] if output.scored_window else None
    charts = []
    for number, (key, lead) in enumerate(zip(keys, leads.itertuples(), strict=True), start=1):
        title = f"{lead.reporter}→{lead.partner} {lead.hs}"
        signals = signal_list(lead.signals)
        png = None
        if key in monthly:
            figure = series_chart(
                monthly[key],
                title=title,
                subtitle=" · ".join(signals) or "no signals",
                scoring_start=start,
                currency=output.currency,
            )
            png = figure_png(figure)
        charts.append(ChartFigure(f"lead-{number}", title, signals, lead.explanation, png))
    return charts, ""


def render_report(out_dir: str | Path, *, top: int = 20, path: str | Path | None = None) -> Path:
    """Write an HTML report of the leads in a directory written by ``anomaly score``.

    The page has a summary (series scored, alerts, excess value of the alerts by
    partner and by CHP tier or HS chapter, scored window, currency, model), a table of
    the ``top`` leads and a chart of each of them. It is a single file with inline CSS
    and images, no script and no external resource, so it opens offline; every value
    from the data is HTML-escaped. Output is deterministic: the same directory gives the
    same bytes.

    Parameters
    ----------
    out_dir : str or Path
        Holds ``leads.csv``, and optionally ``run.json`` (currency, model, scored window)
        and ``scores.parquet`` (monthly values, needed for charts).
    top : int, default 20
        Leads listed and charted.
    path : str or Path, optional
        Where to write; default ``out_dir/report.html``. Replaced atomically: a reader
        never sees a half-written file, and a failed render leaves the old one intact.

    Returns
    -------
    Path
        The absolute path of the report.

    Raises
    ------
    DataError
        If ``out_dir`` is not a directory or holds no ``leads.csv``.
    FormatError
        If ``leads.csv`` or ``scores.parquet`` lacks required columns, or a file cannot
        be read (the more specific ``InvalidValueError``, ``PeriodError`` and
        ``DuplicateKeyError`` point at the bad values).
    ValueError
        If ``top`` is negative.

    Notes
    -----
    Without matplotlib (``pip install anomaly[plot]``) the report has its tables and
    says that charts need it.

    Examples
    --------
    >>> import tempfile
    >>> columns = ("rank,reporter,partner,flow,hs,score,alert,actual,expected,lower,"
    ...     "upper,excess_value,signals,explanation")
    >>> row = "1,DEU,KGZ,export,854231,7.2,true,2.1e6,3e5,1e5,5e5,1.8e6,surge,7x expected"
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = Path(tmp, "leads.csv").write_text(columns + "\\n" + row + "\\n")
    ...     report = render_report(tmp)
    ...     page = report.read_text(encoding="utf-8")
    >>> report.name, "DEU→KGZ" in page, "€" in page
    ('report.html', True, False)
    """
    if top < 0:
        raise ValueError(f"top must be 0 or more, got {top}")
    output = read_scoring_output(out_dir)
    leads = output.leads.head(top)
    charts, note = _chart_figures(output, leads)
    anchors = [chart.anchor for chart in charts] if charts else [None] * len(leads)
    window = (
        f"{output.scored_window[0]} to {output.scored_window[1]}"
        if output.scored_window
        else "not recorded (no scored_window in run.json)"
    )
    sections = [
        summary_section(
            summarize(output),
            window=window,
            currency=output.currency,
            model=output.model,
            coverage=output.coverage,
        ),
        leads_section(leads, anchors, output.currency),
        charts_section(charts, note),
    ]
    footer = (
        f"Written by anomaly {__version__} from {output.out_dir.name or output.out_dir}. "
        "A lead is a statistical anomaly to look into, not a finding of sanctions evasion."
    )
    title = "Trade anomaly leads" + (f", {window}" if output.scored_window else "")
    page = document(title, sections, footer)
    target = (Path(path) if path is not None else output.out_dir / REPORT_FILE).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(target, page.encode("utf-8"))
    return target
