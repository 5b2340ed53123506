"""The report's headline numbers: series scored, alerts and where the excess value goes.

Excess value counts alerted leads only, and only their positive excess: a series
that fell short of its counterfactual does not offset one that overshot it, and a
lead below the alert threshold is not evidence enough to add to a total.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from anomaly.report.inputs import ScoringOutput

__all__ = ["BREAKDOWN_ROWS", "Summary", "summarize"]

#: Groups listed in a breakdown; the rest are added up in one "N others" row.
BREAKDOWN_ROWS = 10
#: The tier shown for codes that are not on the Common High Priority list.
NOT_LISTED = "not on CHP list"


@dataclass(frozen=True)
class Summary:
    """Headline numbers of one scoring run.

    Attributes
    ----------
    n_series, n_alerts : int
        Series scored (rows of ``leads.csv``) and those flagged ``alert``.
    total_excess : float
        Sum of the positive ``excess_value`` of alerted leads.
    by_partner, by_group : pandas.DataFrame
        Columns ``group``, ``alerts``, ``excess_value``, largest excess first (ties by
        name), at most :data:`BREAKDOWN_ROWS` groups plus one ``"N others"`` row.
        ``by_group`` groups by CHP tier when ``leads.csv`` has a ``chp_tier`` column, else by
        HS chapter.
    group_label : str
        ``"CHP tier"`` or ``"HS chapter"``.
    """

    n_series: int
    n_alerts: int
    total_excess: float
    by_partner: pd.DataFrame
    by_group: pd.DataFrame
    group_label: str


def _breakdown(groups: pd.Series, excess: pd.Series, limit: int) -> pd.DataFrame:
    table = (
        pd.DataFrame({"group": groups.to_numpy(), "excess_value": excess.to_numpy()})
        .groupby("group", sort=True)
        .agg(alerts=("excess_value", "size"), excess_value=("excess_value", "sum"))
        .reset_index()
        .sort_values(["excess_value", "group"], ascending=[False, True], kind="mergesort")
    )
    if len(table) <= limit:
        return table.reset_index(drop=True)
    rest = table.iloc[limit:]
    others = pd.DataFrame(
        {
            "group": [f"{len(rest)} others"],
            "alerts": [int(rest["alerts"].sum())],
            "excess_value": [float(rest["excess_value"].sum())],
        }
    )
    return pd.concat([table.iloc[:limit], others], ignore_index=True)


def summarize(output: ScoringOutput, *, limit: int = BREAKDOWN_ROWS) -> Summary:
    """Count series and alerts and break the alerted excess value down.

    Parameters
    ----------
    output : ScoringOutput
        As read by :func:`~anomaly.report.read_scoring_output`.
    limit : int, default BREAKDOWN_ROWS
        Groups listed per breakdown before the rest are added up.

    Returns
    -------
    Summary

    Examples
    --------
    >>> from pathlib import Path
    >>> leads = pd.DataFrame({"partner": ["KGZ", "ARM", "KGZ"], "hs": ["854231", "847150",
    ...     "880730"], "alert": [True, True, False], "excess_value": [2e6, -1e5, 9e6]})
    >>> summary = summarize(ScoringOutput(out_dir=Path("."), leads=leads))
    >>> summary.n_series, summary.n_alerts, summary.total_excess, summary.group_label
    (3, 2, 2000000.0, 'HS chapter')
    >>> summary.by_partner["group"].tolist(), summary.by_partner["excess_value"].tolist()
    (['KGZ', 'ARM'], [2000000.0, 0.0])
    """
    leads = output.leads
    alerted = leads.loc[leads["alert"].astype(bool)]
    excess = alerted["excess_value"].clip(lower=0).fillna(0.0)
    if "chp_tier" in leads.columns:
        label = "CHP tier"
        groups = alerted["chp_tier"].where(alerted["chp_tier"] != "", NOT_LISTED)
    else:
        label = "HS chapter"
        groups = alerted["hs"].str[:2]
    return Summary(
        n_series=len(leads),
        n_alerts=len(alerted),
        total_excess=float(excess.sum()),
        by_partner=_breakdown(alerted["partner"], excess, limit),
        by_group=_breakdown(groups, excess, limit),
        group_label=label,
    )
