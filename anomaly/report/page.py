"""Assemble the report's HTML: summary, top-leads table and chart figures.

The page is one self-contained file: inline CSS, charts as ``data:`` URIs, no script,
no external resource, and a Content-Security-Policy that forbids them, so it opens
offline and an injected tag could not fetch or run anything even if one slipped
through. Every value that comes from the data goes through :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from anomaly.report.formatting import MISSING, format_money, format_score
from anomaly.report.summary import Summary

__all__ = [
    "ChartFigure",
    "charts_section",
    "document",
    "leads_section",
    "signal_list",
    "summary_section",
]

_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1b1f24; margin: 0; background: #fafbfc; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid #d8dde3; }
h3 { font-size: 14px; margin: 12px 0 6px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0; }
dl.facts dt { color: #57606a; }
dl.facts dd { margin: 0; font-weight: 600; }
.breakdowns { display: flex; flex-wrap: wrap; gap: 32px; }
table { border-collapse: collapse; background: #fff; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e4e8ec; text-align: left;
  vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.leads td.explanation { min-width: 260px; }
tr.alert td:first-child { border-left: 3px solid #c62828; }
.alert-tag { color: #c62828; font-size: 11px; font-weight: 600; text-transform: uppercase; }
.flow { white-space: nowrap; font-weight: 600; }
.muted { color: #57606a; font-size: 12px; }
.signal { display: inline-block; padding: 0 6px; margin: 1px 2px 1px 0; border-radius: 8px;
  background: #e8eef7; font-size: 12px; white-space: nowrap; }
.note { background: #fff8e1; border: 1px solid #f0d98a; padding: 8px 12px; }
figure { margin: 16px 0 24px; }
figure img { max-width: 100%; height: auto; border: 1px solid #e4e8ec; background: #fff; }
figcaption { font-size: 13px; max-width: 820px; }
footer { color: #57606a; font-size: 12px; padding-bottom: 24px; margin-top: 32px; }
"""

# Inline styles and data: images only; nothing may be fetched, framed or run.
_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'"


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class ChartFigure:
    """One lead's chart and caption, ready to place on the page.

    Attributes
    ----------
    anchor : str
        Element id, linked from the leads table.
    title : str
        ``REP→PAR hs``.
    signals : tuple of str
        Detector names, shown under the title.
    explanation : str
        The lead's explanation.
    png : bytes or None
        The chart, or None when the series has no monthly rows.
    """

    anchor: str
    title: str
    signals: tuple[str, ...]
    explanation: str
    png: bytes | None


def signal_list(signals: str) -> tuple[str, ...]:
    """Split a ``;``-separated signal list, dropping empty items.

    Examples
    --------
    >>> signal_list("surge; mirror_gap;;rerouting")
    ('surge', 'mirror_gap', 'rerouting')
    """
    return tuple(item.strip() for item in signals.split(";") if item.strip())


def _badges(signals: Iterable[str]) -> str:
    return "".join(f'<span class="signal">{_text(s)}</span>' for s in signals) or MISSING


def _breakdown_table(table: pd.DataFrame, label: str, currency: str | None) -> str:
    rows = "".join(
        f'<tr><td>{_text(row.group)}</td><td class="num">{row.alerts}</td>'
        f'<td class="num">{_text(format_money(row.excess_value, currency))}</td></tr>'
        for row in table.itertuples(index=False)
    )
    body = rows or '<tr><td colspan="3" class="muted">no alerts</td></tr>'
    return (
        f"<div><h3>Excess value by {_text(label)}</h3><table>"
        f'<thead><tr><th>{_text(label)}</th><th class="num">alerts</th>'
        f'<th class="num">excess</th></tr></thead><tbody>{body}</tbody></table></div>'
    )


def summary_section(
    summary: Summary,
    *,
    window: str,
    currency: str | None,
    model: str | None,
    coverage: str | None = None,
) -> str:
    """Render the summary: headline facts and the two excess-value breakdowns.

    ``coverage`` names the reporter-months read as missing (partial or not published).

    Examples
    --------
    >>> from anomaly.report.summary import Summary
    >>> empty = pd.DataFrame({"group": [], "alerts": [], "excess_value": []})
    >>> summary = Summary(3, 1, 2e6, empty, empty, "HS chapter")
    >>> text = summary_section(summary, window="2022-01 to 2022-12", currency="EUR", model=None)
    >>> "€2.0M" in text, "not recorded" in text
    (True, True)
    """
    facts = [
        ("Series scored", f"{summary.n_series:,}"),
        ("Alerts", f"{summary.n_alerts:,}"),
        ("Excess value of alerts", format_money(summary.total_excess, currency)),
        ("Scored window", window),
        ("Currency", currency or "not recorded (no currency in run.json)"),
        ("Model", model or "not recorded"),
        ("Read as missing", coverage or "none (every reporter published every month in full)"),
    ]
    items = "".join(f"<dt>{_text(name)}</dt><dd>{_text(value)}</dd>" for name, value in facts)
    return (
        '<section id="summary"><h2>Summary</h2>'
        f'<dl class="facts">{items}</dl>'
        '<p class="muted">Excess value adds up the positive excess over the expected value '
        "of alerted leads only.</p>"
        '<div class="breakdowns">'
        f"{_breakdown_table(summary.by_partner, 'partner', currency)}"
        f"{_breakdown_table(summary.by_group, summary.group_label, currency)}"
        "</div></section>"
    )


def _rank(value: float) -> str:
    if pd.isna(value):
        return MISSING
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"


def _share(value: object) -> str:
    """A mirror gap (share of expected receipts not declared received) as a percentage."""
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):.0%}"


def _lead_row(lead: pd.Series, anchor: str | None, currency: str | None) -> str:
    def money(column: str) -> str:
        value = lead[column] if column in lead else None
        return _text(format_money(value, currency))

    expected = f'{money("expected")} <span class="muted">[{money("lower")}–{money("upper")}]</span>'
    rank = _rank(lead["rank"])
    # Colour alone does not mark an alert: the word is there for screen readers and print.
    alert_tag = '<br><span class="alert-tag">alert</span>' if lead["alert"] else ""
    row_class = ' class="alert"' if lead["alert"] else ""
    flow = f"{lead['reporter']}→{lead['partner']}"
    flow_cell = f'<span class="flow">{_text(flow)}</span>'
    if anchor is not None:
        flow_cell = f'<a href="#{_text(anchor)}">{flow_cell}</a>'
    hs_cell = _text(lead["hs"])
    if lead.get("description"):
        hs_cell += f'<br><span class="muted">{_text(lead["description"])}</span>'
    cells = [
        f'<td class="num">{_text(rank)}{alert_tag}</td>',
        f'<td>{flow_cell}<br><span class="muted">{_text(lead["flow"])}</span></td>',
        f"<td>{hs_cell}</td>",
        f'<td class="num">{_text(format_score(lead["score"]))}</td>',
        f'<td class="num">{money("actual")}</td>',
        f'<td class="num">{expected}</td>',
        f'<td class="num">{money("excess_value")}</td>',
        f'<td class="num">{_text(_share(lead.get("mirror_gap")))}</td>',
        f"<td>{_badges(signal_list(lead['signals']))}</td>",
        f'<td class="explanation">{_text(lead["explanation"])}</td>',
    ]
    return f"<tr{row_class}>{''.join(cells)}</tr>"


def leads_section(leads: pd.DataFrame, anchors: Sequence[str | None], currency: str | None) -> str:
    """Render the top-leads table; alerted rows are marked, each links to its chart.

    Parameters
    ----------
    leads : pandas.DataFrame
        The leads to list, in order (columns as read by
        :func:`~anomaly.report.read_scoring_output`).
    anchors : sequence of str or None
        Per lead, the id of its chart, or None when it has none.
    currency : str, optional
        For the amounts.

    Examples
    --------
    >>> lead = {"rank": 1, "reporter": "DEU", "partner": "KGZ", "flow": "export",
    ...     "hs": "854231", "score": 7.5, "alert": True, "actual": 2.1e6, "expected": 3e5,
    ...     "lower": 1e5, "upper": 5e5, "excess_value": 1.8e6, "signals": "surge",
    ...     "explanation": "x8 <b>"}
    >>> text = leads_section(pd.DataFrame([lead]), [None], "EUR")
    >>> "DEU→KGZ" in text, "x8 &lt;b&gt;" in text
    (True, True)
    """
    header = (
        '<th class="num">rank</th><th>flow</th><th>HS</th><th class="num">score</th>'
        '<th class="num">actual</th><th class="num">expected [range]</th>'
        '<th class="num">excess</th><th class="num">mirror gap</th><th>signals</th>'
        "<th>explanation</th>"
    )
    rows = "".join(
        _lead_row(lead, anchor, currency)
        for (_, lead), anchor in zip(leads.iterrows(), anchors, strict=True)
    )
    body = rows or '<tr><td colspan="10" class="muted">no leads</td></tr>'
    return (
        f'<section id="leads"><h2>Top {len(leads)} leads</h2>'
        '<p class="muted">Amounts as recorded in leads.csv; a red edge and the word ALERT '
        "mark the leads above the alert threshold.</p>"
        f'<table class="leads"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'
        "</section>"
    )


def _figure(chart: ChartFigure) -> str:
    caption = (
        f"<figcaption><strong>{_text(chart.title)}</strong> {_badges(chart.signals)}"
        f"<br>{_text(chart.explanation)}</figcaption>"
    )
    if chart.png is None:
        image = '<p class="note">No monthly rows for this series in scores.parquet.</p>'
    else:
        data = base64.b64encode(chart.png).decode("ascii")
        alt = f"Monthly values of {chart.title}: actual against expected"
        image = f'<img src="data:image/png;base64,{data}" alt="{_text(alt)}">'
    return f'<figure id="{_text(chart.anchor)}">{image}{caption}</figure>'


def charts_section(charts: Sequence[ChartFigure], note: str = "") -> str:
    """Render the chart figures, or a note saying why there are none.

    Examples
    --------
    >>> charts_section([], "Charts need matplotlib.")
    '<section id="charts"><h2>Charts</h2><p class="note">Charts need matplotlib.</p></section>'
    """
    parts = [f'<p class="note">{_text(note)}</p>'] if note else []
    if charts:
        parts.append(
            '<p class="muted">Solid blue: declared value; orange: expected without the war, '
            "shaded over its range in the scored months; dashed green: the partner's mirror "
            "declaration; dotted: start of scoring.</p>"
        )
    parts.extend(_figure(chart) for chart in charts)
    return f'<section id="charts"><h2>Charts</h2>{"".join(parts)}</section>'


def document(title: str, sections: Iterable[str], footer: str) -> str:
    """Wrap rendered sections in a complete, self-contained HTML page.

    Examples
    --------
    >>> page = document("Leads <1>", ["<p>x</p>"], "anomaly 0.1.0")
    >>> page.startswith("<!DOCTYPE html>"), "<title>Leads &lt;1&gt;</title>" in page
    (True, True)
    """
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head>"
        f"<body><header><h1>{_text(title)}</h1></header>"
        f"<main>{''.join(sections)}</main>"
        f"<footer>{_text(footer)}</footer></body></html>\n"
    )
