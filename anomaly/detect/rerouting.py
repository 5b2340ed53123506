"""Re-routing, hub and general-demand signatures: evidence that spans several series.

Published analyses of sanctions evasion read three patterns across flows rather than
in one flow:

- **substitution**: an exporter's direct flows of a good to Russia drop while its
  flows of the same good to Russia's neighbours rise;
- **onward flows**: a neighbour imports more of a good and exports more of it to
  Russia;
- **general demand**: a destination whose imports of *everything* boom is not a lead;
  its growth in goods not on the control list is the control of a
  difference-in-differences comparison.

Everything here works on the per-series summary table (one row per series, window
totals), so it runs after chunked scoring on a table far smaller than the panel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A control growth needs at least this many uncontrolled series to the destination.
MIN_CONTROL_SERIES = 5
#: Destinations whose direct flows collapse under sanctions.
SANCTIONED = ("RUS", "BLR")


def demand_growth(totals: pd.DataFrame) -> pd.Series:
    """Growth factor of each destination's uncontrolled goods.

    Parameters
    ----------
    totals : pandas.DataFrame
        Per destination (column ``partner``) and ``flow``: ``actual`` and ``expected``
        sums over the scoring window of the series of goods *not* on the control list,
        and ``n`` (how many such series).

    Returns
    -------
    pandas.Series
        ``Σ actual / Σ expected`` indexed by ``(partner, flow)``, for destinations with
        at least :data:`MIN_CONTROL_SERIES` uncontrolled series (elsewhere no control
        is applied: the factor is 1).

    Examples
    --------
    >>> totals = pd.DataFrame({"partner": ["KGZ"], "flow": ["export"],
    ...                        "actual": [30.0], "expected": [10.0], "n": [6]})
    >>> demand_growth(totals).to_dict()
    {('KGZ', 'export'): 3.0}
    """
    usable = totals[(totals["n"] >= MIN_CONTROL_SERIES) & (totals["expected"] > 0)]
    growth = (usable["actual"] / usable["expected"]).clip(lower=1e-3)
    return pd.Series(
        growth.to_numpy(),
        index=pd.MultiIndex.from_frame(usable[["partner", "flow"]]),
        name="growth",
    )


def substitution(summary: pd.DataFrame, transit: frozenset[str]) -> pd.DataFrame:
    """For exports to transit countries: the exporter's direct drop to Russia/Belarus.

    Returns a frame aligned with ``summary`` with ``direct_drop`` (value by which the
    exporter's direct exports of the good to :data:`SANCTIONED` fell short of their
    counterfactual), ``direct_z`` (their calibrated z; strongly negative = collapse)
    and ``substitution_share`` (this series' excess over that drop).

    ``summary`` needs ``reporter, partner, flow, hs, actual, expected, excess_value,
    z``.
    """
    direct = summary[(summary["flow"] == "export") & summary["partner"].isin(SANCTIONED)]
    per_good = direct.groupby(["reporter", "hs"], observed=True).agg(
        direct_drop=("excess_value", lambda x: float(-x.sum())), direct_z=("z", "min")
    )
    to_transit = (summary["flow"] == "export") & summary["partner"].isin(transit)
    joined = summary[["reporter", "hs"]].join(per_good, on=["reporter", "hs"])
    joined.loc[~to_transit.to_numpy(), ["direct_drop", "direct_z"]] = np.nan
    drop = joined["direct_drop"].where(joined["direct_drop"] > 0)
    share = (summary["excess_value"].clip(lower=0) / drop).where(drop.notna())
    return pd.DataFrame(
        {
            "direct_drop": joined["direct_drop"],
            "direct_z": joined["direct_z"],
            "substitution_share": share,
        },
        index=summary.index,
    )


def onward_flows(summary: pd.DataFrame, transit: frozenset[str]) -> pd.DataFrame:
    """For flows into a transit country: that country's own exports of the good to Russia.

    A series "X exports good h to N" (declared by X) or "N imports h from X" (declared
    by N), with N a transit country, gets ``onward_ratio`` (actual over expected of
    N's declared exports of h to Russia) and ``onward_z`` (their calibrated z).
    """
    to_russia = summary[
        (summary["flow"] == "export")
        & (summary["partner"] == "RUS")
        & summary["reporter"].isin(transit)
    ]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = to_russia["actual"] / to_russia["expected"]
    onward = pd.DataFrame(
        {"onward_ratio": ratio.to_numpy(), "onward_z": to_russia["z"].to_numpy()},
        index=pd.MultiIndex.from_arrays(
            [to_russia["reporter"], to_russia["hs"]], names=["hub", "hs"]
        ),
    )
    onward = onward[~onward.index.duplicated()]
    hub = np.where(summary["flow"] == "export", summary["partner"], summary["reporter"])
    into_hub = np.where(
        summary["flow"] == "export",
        summary["partner"].isin(transit),
        (summary["flow"] == "import") & summary["reporter"].isin(transit),
    )
    joined = onward.reindex(pd.MultiIndex.from_arrays([hub, summary["hs"]], names=["hub", "hs"]))
    joined.index = summary.index
    joined.loc[~np.asarray(into_hub, dtype=bool)] = np.nan
    joined["hub"] = np.where(into_hub, hub, None)
    return joined
