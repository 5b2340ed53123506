"""The result of scoring: leads, series-month detail, how they are written and how they
read in a notebook.

:class:`Scores` holds the run; :meth:`Scores.summary` sums it up in the manner of a
statsmodels results summary (:class:`ScoresSummary`: text, HTML and its tables as
DataFrames), :meth:`Scores.plot` draws one lead with the report's chart, and both
``Scores`` and its summary display as HTML in a notebook.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from anomaly.model.context import destination
from anomaly.model.evidence import WindowEvidence
from anomaly.model.outputs import run_record, write_outputs
from anomaly.money import REPORT, format_money
from anomaly.panel import Panel, positions
from anomaly.reference import CHP_VERSIONS, GOODS_COLUMNS, chp_list, describe_goods
from anomaly.schema import INWARD_FLOWS, SERIES_KEY_COLUMNS

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Leads whose earlier months are kept for charts, and how many months back.
HISTORY_LEADS = 50
HISTORY_MONTHS = 36
#: Leads listed by :meth:`Scores.summary`, and by a notebook's display of :class:`Scores`.
SUMMARY_LEADS = 10
DISPLAY_LEADS = 5
#: The tier of codes that are not on the Common High Priority list.
NOT_LISTED = "not on CHP list"
#: Width of :meth:`ScoresSummary.as_text`, and names listed in one note at most.
TEXT_WIDTH = 78
_NOTE_NAMES = 12


@dataclass(frozen=True)
class Scores:
    """Ranked leads and their monthly evidence.

    Attributes
    ----------
    leads : pandas.DataFrame
        One row per series scored, best first (see ``anomaly.schema.LEAD_COLUMNS``).
    frame : pandas.DataFrame
        One row per series-month of the scoring window: ``period, reporter, partner,
        flow, hs, actual, expected, lower, upper, z`` (``actual`` ``NaN`` where the
        reporter did not publish), then the months before the window of the top leads
        (``in_window`` False; forecast columns empty there), for charts; last, the
        good's ``description`` and ``chp_tier``.
    run : dict
        Window, currency, counts: what ``run.json`` records (see
        :func:`anomaly.model.outputs.run_record`).
    """

    leads: pd.DataFrame
    frame: pd.DataFrame
    run: dict = field(default_factory=dict)

    @classmethod
    def from_evidence(
        cls,
        leads: pd.DataFrame,
        evidence: WindowEvidence,
        panel: Panel | None,
        *,
        currency: str | None,
        coverage: pd.DataFrame | None = None,
    ) -> Scores:
        """Assemble the frame from a window's evidence (and the panel's history, if given);
        ``coverage`` (reporter-months not published in full) goes to ``run.json``."""
        summary, monthly, periods = evidence.summary, evidence.monthly, evidence.periods
        n_series, n_months = monthly["actual"].shape
        frame = pd.DataFrame(
            {"period": np.tile(periods.astype(str), n_series)}
            | {c: np.repeat(summary[c].to_numpy(), n_months) for c in SERIES_KEY_COLUMNS}
            | {name: values.ravel() for name, values in monthly.items()}
        )
        frame["in_window"] = True
        if panel is not None:
            history = _history(leads.head(HISTORY_LEADS), panel, periods[0])
            frame = pd.concat([frame, history], ignore_index=True) if len(history) else frame
        frame = with_goods(frame, leads)
        run = run_record(leads, periods, currency=currency, coverage=coverage)
        return cls(leads, frame, run)

    def write(self, out_dir: str | Path, *, extra: dict | None = None) -> Path:
        """Write ``leads.csv``, ``scores.parquet`` and ``run.json`` into ``out_dir``.

        All three are first written to temporary files beside their targets; only when
        every one is complete are they renamed into place (see
        :func:`anomaly.model.outputs.write_outputs`).
        """
        table = pa.Table.from_pandas(self.frame, preserve_index=False)
        return write_outputs(out_dir, self.leads, [table], self.run | (extra or {}))

    # -- notebook use --------------------------------------------------------------

    def summary(self, top: int = SUMMARY_LEADS) -> ScoresSummary:
        """Sum the run up: window, series, alerts by destination and by CHP tier, top
        leads and notes on coverage.

        Parameters
        ----------
        top : int, default SUMMARY_LEADS
            Leads listed (best first).

        Returns
        -------
        ScoresSummary
            Prints as text, displays as HTML in a notebook; its tables are DataFrames
            (:attr:`ScoresSummary.tables`).

        Examples
        --------
        >>> summary = scores.summary()  # doctest: +SKIP
        >>> print(summary)  # doctest: +SKIP
        >>> summary.by_destination  # doctest: +SKIP
        """
        return ScoresSummary.from_scores(self, top=top)

    def plot(self, lead: int | Sequence[str] | pd.Series = 1) -> Axes:
        """Chart one lead as the report does: actual against expected and its band.

        The months before the window are drawn for the top :data:`HISTORY_LEADS` leads
        (the others show the window only). The figure is the report's
        (:func:`anomaly.report.series_chart`); where pyplot can take in a figure made
        without it (matplotlib 3.10 on), it is also made pyplot's current figure, so
        that a notebook shows it and ``plt.show()`` or ``plt.close`` reach it.

        Parameters
        ----------
        lead : int, (reporter, partner, flow, hs) or pandas.Series, default 1
            The lead's rank, its key, or its row of :attr:`leads`.

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        ImportError
            If matplotlib is not installed (``pip install "anomaly[plot]"``).
        KeyError
            If no lead has that rank or key.

        Examples
        --------
        >>> ax = scores.plot(1)  # doctest: +SKIP
        >>> ax.figure.savefig("lead-1.png")  # doctest: +SKIP
        """
        from anomaly.report.charts import PLOT_INSTALL, matplotlib_available, series_chart
        from anomaly.report.page import signal_list

        if not matplotlib_available():
            raise ImportError(f"Scores.plot needs matplotlib: {PLOT_INSTALL}")
        row = self._lead(lead)
        key = tuple(str(row[column]) for column in SERIES_KEY_COLUMNS)
        window = self.run.get("scored_window")
        figure = series_chart(
            self._monthly(key),
            title=f"{row['reporter']}→{row['partner']} {row['hs']}",
            subtitle=" · ".join(signal_list(str(row["signals"]))) or "no signals",
            scoring_start=pd.Period(window[0], freq="M") if window else None,
            currency=self.run.get("currency"),
        )
        _join_pyplot(figure)
        return figure.axes[0]

    def __repr__(self) -> str:
        return f"<Scores: {_headline(self)}>"

    def _repr_html_(self) -> str:
        top = self.leads.head(DISPLAY_LEADS)
        table = pd.DataFrame(
            {
                "rank": top["rank"].map(_count),
                "flow": [_route(row) for row in top.itertuples()],
                "hs": top["hs"],
                "score": top["score"].map(_score),
                "alert": np.where(top["alert"].astype(bool), "alert", ""),
                "excess value": top["excess_value"].map(self._money),
                "explanation": top["explanation"],
            }
        )
        window = self.run.get("scored_window")
        fields = [
            ("Scored window", f"{window[0]}..{window[-1]}" if window else "not recorded"),
            ("Series", _count(len(self.leads))),
            ("Alerts", _count(self.leads["alert"].sum())),
            ("Currency", self.run.get("currency") or "not recorded"),
        ]
        caption = f"Top {len(top)} of {_count(len(self.leads))} leads; .summary() for more"
        return html_card("Scores", fields, table, caption=caption)

    # -- helpers -------------------------------------------------------------------

    def _money(self, value: float) -> str:
        return format_money(value, self.run.get("currency"), style=REPORT)

    def _lead(self, lead: int | Sequence[str] | pd.Series) -> pd.Series:
        """The row of :attr:`leads` of a rank, a key or a row."""
        leads = self.leads
        if isinstance(lead, Integral):
            found = leads.index[leads["rank"].to_numpy() == int(lead)]
            what = f"rank {lead} (ranks run 1..{len(leads)})"
        else:
            values = lead[list(SERIES_KEY_COLUMNS)] if isinstance(lead, pd.Series) else lead
            key = tuple(str(v) for v in values)
            if len(key) != len(SERIES_KEY_COLUMNS):
                raise TypeError(f"a lead is a rank or a ({', '.join(SERIES_KEY_COLUMNS)}) key")
            match = np.ones(len(leads), dtype=bool)
            for column, value in zip(SERIES_KEY_COLUMNS, key, strict=True):
                match &= leads[column].astype(str).to_numpy() == value
            found = leads.index[match]
            what = "/".join(key)
        if not len(found):
            raise KeyError(f"no lead has {what}")
        return leads.loc[found[0]]

    def _monthly(self, key: tuple[str, ...]) -> pd.DataFrame:
        """One series' months (window and history), complete, indexed by period."""
        frame = self.frame
        match = np.ones(len(frame), dtype=bool)
        for column, value in zip(SERIES_KEY_COLUMNS, key, strict=True):
            match &= frame[column].astype(str).to_numpy() == value
        rows = frame.loc[match, ["period", "actual", "expected", "lower", "upper"]]
        if rows.empty:
            raise KeyError(f"no months of {'/'.join(key)} in these scores")
        periods = pd.PeriodIndex(rows["period"].astype(str), freq="M")
        values = rows.drop(columns="period").astype("float64").set_axis(periods)
        values = values[~values.index.duplicated(keep="last")].sort_index()
        # Absent months are gaps in the lines, not points joined across them.
        months = pd.period_range(values.index.min(), values.index.max(), freq="M")
        return values.reindex(months).rename_axis("period")


@dataclass(frozen=True)
class ScoresSummary:
    """A scoring run summed up, in the manner of a statsmodels results summary.

    ``print(summary)`` gives the text, a notebook the HTML; the tables are DataFrames.
    Excess value counts alerts only, and only their positive excess (as the report).

    Attributes
    ----------
    window : tuple of str
        First and last scored month.
    currency : str or None
    n_series, n_alerts, n_in_scope : int
        Series scored, alerts, and series that can alert (on a route of evasion).
    excess_value : float
        Positive excess value of the alerts over their counterfactual.
    by_destination : pandas.DataFrame
        Index ``destination`` (the partner of an export, the reporter of an import);
        columns ``series``, ``alerts``, ``excess_value``; most alerts first.
    by_tier : pandas.DataFrame
        Index ``tier`` (the CHP list's tiers, then :data:`NOT_LISTED`), same columns,
        in tier order; tiers without series are left out.
    top_leads : pandas.DataFrame
        The best leads: ``rank, reporter, partner, flow, hs, tier, score, alert,
        actual, expected, excess_value, signals, explanation``.
    notes : tuple of str
        What the numbers do not say by themselves: countries with no data in the
        window, reporters that published only part of it, new flows among the alerts.
    """

    window: tuple[str, str]
    currency: str | None
    n_series: int
    n_alerts: int
    n_in_scope: int
    excess_value: float
    by_destination: pd.DataFrame
    by_tier: pd.DataFrame
    top_leads: pd.DataFrame
    notes: tuple[str, ...]

    @classmethod
    def from_scores(cls, scores: Scores, *, top: int = SUMMARY_LEADS) -> ScoresSummary:
        """Summarise a :class:`Scores`."""
        leads = scores.leads
        run = scores.run
        alert = leads["alert"].to_numpy(dtype=bool)
        excess = np.where(alert, leads["excess_value"].clip(lower=0).fillna(0.0), 0.0)
        tiers = _tiers(leads)
        in_scope = leads["in_scope"] if "in_scope" in leads else pd.Series(True, leads.index)
        by_destination = _breakdown(destination(leads), alert, excess, "destination")
        by_destination = by_destination.sort_values(
            ["alerts", "excess_value", "series"], ascending=False, kind="mergesort"
        )
        order = [*dict.fromkeys(chp_list(CHP_VERSIONS[-1])["tier"]), NOT_LISTED]
        by_tier = _breakdown(tiers, alert, excess, "tier")
        by_tier = by_tier.reindex([t for t in order if t in by_tier.index])
        columns = [
            *("rank", "reporter", "partner", "flow", "hs"),
            *("score", "alert", "actual", "expected", "excess_value", "signals", "explanation"),
        ]
        top_leads = leads.head(top)[[c for c in columns if c in leads]].copy()
        top_leads.insert(top_leads.columns.get_loc("hs") + 1, "tier", tiers[: len(top_leads)])
        window = run.get("scored_window") or [
            str(scores.frame["period"].min()),
            str(scores.frame["period"].max()),
        ]
        return cls(
            window=(str(window[0]), str(window[-1])),
            currency=run.get("currency"),
            n_series=len(leads),
            n_alerts=int(alert.sum()),
            n_in_scope=int(in_scope.astype(bool).sum()),
            excess_value=float(excess.sum()),
            by_destination=by_destination,
            by_tier=by_tier,
            top_leads=top_leads.reset_index(drop=True),
            notes=_notes(scores),
        )

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The summary's tables by name: ``by_destination``, ``by_tier``, ``top_leads``."""
        return {
            "by_destination": self.by_destination,
            "by_tier": self.by_tier,
            "top_leads": self.top_leads,
        }

    @property
    def n_months(self) -> int:
        """Months in the scored window."""
        first, last = (pd.Period(month, freq="M") for month in self.window)
        return (last - first).n + 1

    def _money(self, value: float) -> str:
        return format_money(value, self.currency, style=REPORT)

    def _header(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """The run's facts (left) and counts (right), as ``(name, value)`` pairs."""
        share = self.n_alerts / self.n_series if self.n_series else 0.0
        run = [
            ("Scored window", f"{self.window[0]}..{self.window[1]}"),
            ("Months", _count(self.n_months)),
            ("Currency", self.currency or "not recorded"),
        ]
        counts = [
            ("Series scored", _count(self.n_series)),
            ("In scope (can alert)", _count(self.n_in_scope)),
            ("Alerts", f"{_count(self.n_alerts)} ({share:.1%})"),
            ("Excess value of alerts", self._money(self.excess_value)),
        ]
        return run, counts

    def _shown(self) -> dict[str, pd.DataFrame]:
        """The tables as text, with their titles."""

        def breakdown(table: pd.DataFrame) -> pd.DataFrame:
            return pd.DataFrame(
                {
                    table.index.name: table.index.astype(str),
                    "series": table["series"].map(_count).to_numpy(),
                    "alerts": table["alerts"].map(_count).to_numpy(),
                    "excess value": table["excess_value"].map(self._money).to_numpy(),
                }
            )

        leads = self.top_leads
        top = pd.DataFrame(
            {
                "rank": leads["rank"].map(_count),
                "flow": [_route(row) for row in leads.itertuples()],
                "hs": leads["hs"],
                "tier": leads["tier"].replace(NOT_LISTED, "-"),
                "score": leads["score"].map(_score),
                "alert": np.where(leads["alert"].astype(bool), "yes", "no"),
                "actual": leads["actual"].map(self._money),
                "expected": leads["expected"].map(self._money),
                "signals": leads["signals"].fillna("").str.replace(";", " "),
            }
        )
        return {
            "Alerts by destination": breakdown(self.by_destination),
            "Alerts by CHP tier": breakdown(self.by_tier),
            "Top leads": top,
        }

    def as_text(self) -> str:
        """The summary as plain text, :data:`TEXT_WIDTH` characters wide."""
        rule, thin = "=" * TEXT_WIDTH, "-" * TEXT_WIDTH
        run, counts = self._header()
        column = TEXT_WIDTH // 2 - 1
        lines = ["Trade anomaly scores".center(TEXT_WIDTH).rstrip(), rule]
        for index in range(max(len(run), len(counts))):
            left = _field(*run[index], column) if index < len(run) else ""
            right = _field(*counts[index], column) if index < len(counts) else ""
            lines.append(f"{left:<{column}}  {right}".rstrip())
        for title, table in self._shown().items():
            # The last column (the signals) is cut short rather than wrapped.
            rows = [_clip(line, TEXT_WIDTH) for line in _text_table(table)]
            lines += [rule, title, thin, *rows]
        lines.append(rule)
        if self.notes:
            lines.append("Notes:")
            for number, note in enumerate(self.notes, start=1):
                lines += textwrap.wrap(
                    note,
                    TEXT_WIDTH,
                    initial_indent=f"[{number}] ",
                    subsequent_indent=" " * (len(str(number)) + 3),
                )
        return "\n".join(lines)

    def as_html(self) -> str:
        """The summary as an HTML fragment (what a notebook displays)."""
        parts = [
            html_card("Trade anomaly scores", [pair for side in self._header() for pair in side])
        ]
        for title, table in self._shown().items():
            parts.append(f"<h4>{html.escape(title)}</h4>{_html_table(table)}")
        if self.notes:
            items = "".join(f"<li>{html.escape(note)}</li>" for note in self.notes)
            parts.append(f"<h4>Notes</h4><ol>{items}</ol>")
        return "<div>" + "".join(parts) + "</div>"

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


def html_card(
    title: str,
    fields: Sequence[tuple[str, str]],
    table: pd.DataFrame | None = None,
    *,
    caption: str | None = None,
) -> str:
    """A small HTML block for a notebook: a title, ``name: value`` fields, a table.

    Every text is escaped.

    Examples
    --------
    >>> card = html_card("Run <1>", [("window", "2022-01..2022-11")])
    >>> card.startswith("<div><strong>Run &lt;1&gt;</strong><table><tr>"), "2022-11</td>" in card
    (True, True)
    """
    rows = "".join(
        f'<tr><th style="text-align:left">{html.escape(name)}</th>'
        f'<td style="text-align:left">{html.escape(value)}</td></tr>'
        for name, value in fields
    )
    parts = [f"<strong>{html.escape(title)}</strong>", f"<table>{rows}</table>"]
    if table is not None:
        parts.append(_html_table(table, caption=caption))
    return "<div>" + "".join(parts) + "</div>"


def _html_table(table: pd.DataFrame, *, caption: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _text_table(table: pd.DataFrame) -> list[str]:
    """Columns of text: names and codes left-aligned, numbers right-aligned."""
    left = {"destination", "tier", "flow", "hs", "signals"}
    widths = [max([len(str(c)), *(len(str(v)) for v in table[c])]) for c in table.columns]

    def line(cells) -> str:
        return "  ".join(
            str(v).ljust(w) if c in left else str(v).rjust(w)
            for c, v, w in zip(table.columns, cells, widths, strict=True)
        ).rstrip()

    return [line(table.columns), *(line(row) for row in table.itertuples(index=False))]


def _clip(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def _field(name: str, value: str, width: int) -> str:
    """``name:      value`` filling ``width`` (value right-aligned)."""
    label = f"{name}:"
    return label + value.rjust(max(width - len(label), len(value) + 1))


def _breakdown(groups, alert: np.ndarray, excess: np.ndarray, name: str) -> pd.DataFrame:
    table = pd.DataFrame({name: np.asarray(groups), "alerts": alert, "excess_value": excess})
    return table.groupby(name, sort=True).agg(
        series=("alerts", "size"), alerts=("alerts", "sum"), excess_value=("excess_value", "sum")
    )


def _tiers(leads: pd.DataFrame) -> np.ndarray:
    """Each lead's CHP tier (on the model's list; on the latest where ``leads`` has no
    ``chp_tier``), :data:`NOT_LISTED` off it."""
    if "chp_tier" in leads:
        tiers = leads["chp_tier"]
    else:
        tiers = describe_goods(leads["hs"], CHP_VERSIONS[-1])["chp_tier"]
    return np.where(pd.isna(tiers), NOT_LISTED, tiers.to_numpy(dtype=object))


def with_goods(frame: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (rows of ``scores.parquet``) with the leads' goods columns
    (:data:`~anomaly.reference.GOODS_COLUMNS`) for its HS codes, last."""
    goods = leads.drop_duplicates("hs").set_index("hs")[list(GOODS_COLUMNS)]
    at, distinct = pd.factorize(frame["hs"])
    found = goods.reindex(distinct).to_numpy(dtype=object)
    found = np.where(pd.isna(found), None, found)[at]
    return frame.assign(**{c: found[:, i] for i, c in enumerate(GOODS_COLUMNS)})


def _notes(scores: Scores) -> tuple[str, ...]:
    """Coverage notes: who published nothing or part of the window; new flows."""
    leads, frame = scores.leads, scores.frame
    window = frame.loc[frame["in_window"].astype(bool)] if "in_window" in frame else frame
    months = window["period"].nunique()
    # ``actual`` is missing where the reporter published nothing that month.
    published = window.loc[window["actual"].notna()].groupby("reporter")["period"].nunique()
    countries = sorted(set(leads["reporter"]) | set(leads["partner"]))
    silent = [country for country in countries if published.get(country, 0) == 0]
    partial = [f"{who} ({count} of {months})" for who, count in published.items() if count < months]
    notes = []
    if silent:
        notes.append(
            f"No data from {_names(silent)} in the window: "
            f"{'its' if len(silent) == 1 else 'their'} side of these flows (the mirror of "
            "an export, a hub's onward trade) could not be compared."
        )
    if partial:
        notes.append(
            f"Reporters that published part of the window (months published): "
            f"{_names(partial)}. Months not published are missing data, not zero trade."
        )
    if "trained_nonzero" in leads:
        alert = leads["alert"].to_numpy(dtype=bool)
        new = int((alert & (leads["trained_nonzero"].to_numpy() == 0)).sum())
        if new:
            notes.append(
                f"{_count(new)} of the {_count(alert.sum())} alerts are new flows, without "
                "trade in the training window: their expected value is a prior for such "
                "flows; read their amounts, not their multiples."
            )
    return tuple(notes)


def _join_pyplot(figure) -> None:
    """Make ``figure`` pyplot's current figure, where pyplot can take it in."""
    from matplotlib import pyplot

    try:
        pyplot.figure(figure)
    except (TypeError, ValueError):
        # matplotlib before 3.10 takes in no figure made without pyplot.
        pass


def _headline(scores: Scores) -> str:
    window = scores.run.get("scored_window")
    span = f"{window[0]}..{window[-1]}" if window else "window not recorded"
    alerts = int(scores.leads["alert"].sum()) if "alert" in scores.leads else 0
    currency = scores.run.get("currency") or "currency not recorded"
    return f"{span}, {_count(len(scores.leads))} series, {_count(alerts)} alerts, {currency}"


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_NOTE_NAMES])
    return shown + (f" and {len(names) - _NOTE_NAMES} more" if len(names) > _NOTE_NAMES else "")


def _route(row) -> str:
    inbound = row.flow in INWARD_FLOWS
    return f"{row.reporter}{'←' if inbound else '→'}{row.partner}"


def _count(value: float) -> str:
    return f"{int(value):,}"


def _score(value: float) -> str:
    return f"{value:.2f}" if np.isfinite(value) else REPORT.missing


def _history(top: pd.DataFrame, panel: Panel, start: pd.Period) -> pd.DataFrame:
    """Actual values of the ``top`` leads' series in the months before ``start``."""
    if top.empty:
        return pd.DataFrame()
    before = panel.window(start - HISTORY_MONTHS, start - 1)
    rows = positions(before.keys, top[list(SERIES_KEY_COLUMNS)])
    rows = rows[rows >= 0]
    if not len(rows):
        return pd.DataFrame()
    chosen = before.select(rows)
    published = before.published_mask()[rows]
    actual = np.where(published, np.nan_to_num(chosen.values), np.nan)
    n_months = chosen.n_periods
    frame = pd.DataFrame(
        {"period": np.tile(chosen.periods.astype(str), len(rows))}
        | {c: np.repeat(chosen.keys[c].to_numpy(), n_months) for c in SERIES_KEY_COLUMNS}
        | {"actual": actual.ravel()}
    )
    for name in ("expected", "lower", "upper", "z"):
        frame[name] = np.nan
    frame["in_window"] = False
    return frame
