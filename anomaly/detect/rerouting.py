"""Re-routing and hub signatures: evidence that spans several series.

Published analyses of sanctions evasion read two patterns across flows rather than
in one flow:

- **substitution**: an exporter's direct flows of a good to Russia drop while its
  flows of the same good to Russia's neighbours rise;
- **onward flows**: a neighbour imports more of a good and exports more of it to
  Russia.

Everything here works on the per-series table (one row per series, window totals),
so it runs after chunked scoring on a table far smaller than the panel.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import log_ndtr

from anomaly.detect.base import BaseDetector
from anomaly.detect.baseline import rise_z
from anomaly.detect.config import DetectionConfig
from anomaly.detect.hub import hub_total_inflow
from anomaly.schema import INWARD_FLOWS, OUTWARD_FLOWS

#: Share of the other leg's z a rising flow into (or out of) a hub is credited with.
ONWARD_WEIGHT = 0.5
#: The other leg's z counts up to this much (so at most ONWARD_WEIGHT × ONWARD_CAP).
ONWARD_CAP = 4.0
#: Values below which ``numpy.sum`` adds one by one (its pairwise summation's base case).
_SEQUENTIAL = 8


def substitution(summary: pd.DataFrame, config: DetectionConfig) -> pd.DataFrame:
    """For exports to transit countries: the exporter's direct drop to sanctioned ones.

    Re-exports count as exports throughout (:data:`~anomaly.schema.OUTWARD_FLOWS`).

    Returns a frame aligned with ``summary`` with ``direct_drop`` (value by which the
    exporter's direct exports of the good to ``config.sanctioned`` fell short of their
    counterfactual), ``direct_z`` (their calibrated z; strongly negative = collapse)
    and ``substitution_share`` (this series' excess over that drop).

    ``summary`` needs ``reporter, partner, flow, hs, actual, expected, excess_value,
    z``.
    """
    transit = config.transit_set
    outward = summary["flow"].isin(OUTWARD_FLOWS)
    direct = summary[outward & summary["partner"].isin(config.sanctioned)]
    per_good = _per_good(direct)
    to_transit = outward & summary["partner"].isin(transit)
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


def _per_good(direct: pd.DataFrame) -> pd.DataFrame:
    """Per ``reporter, hs`` of ``direct``: ``direct_drop`` (minus the sum of
    ``excess_value``, missing values left out, as ``pandas.Series.sum``) and
    ``direct_z`` (the least ``z``).

    Examples
    --------
    >>> direct = pd.DataFrame({"reporter": ["B", "A", "B"], "hs": "01",
    ...                        "excess_value": [1.0, np.nan, 2.0], "z": [0.5, -1.0, -2.0]})
    >>> _per_good(direct).to_dict("list")
    {'direct_drop': [-0.0, -3.0], 'direct_z': [-1.0, -2.0]}
    """
    grouped = direct.groupby(["reporter", "hs"], observed=True)
    direct_z = grouped["z"].min()
    values = direct["excess_value"].to_numpy(np.float64)
    total = group_sums(np.where(np.isnan(values), 0.0, values), grouped.ngroup().to_numpy())
    return pd.DataFrame(
        {"direct_drop": -total, "direct_z": direct_z.to_numpy()}, index=direct_z.index
    )


def group_sums(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The sum of each group's ``values`` in row order, rounded as ``numpy.sum`` rounds
    it (groups ``0..n-1``, every one present).

    ``numpy.sum`` adds fewer than :data:`_SEQUENTIAL` values one by one from zero (and
    more pairwise): small groups are summed so, rank by rank across all groups at
    once; the few larger ones by ``numpy.sum`` itself.

    Examples
    --------
    >>> group_sums(np.array([1.0, 2.0, 3.0]), np.array([1, 0, 1])).tolist()
    [2.0, 4.0]
    """
    order = np.argsort(group, kind="stable")
    values, group = values[order], group[order]
    starts = np.flatnonzero(np.diff(group, prepend=-1))
    sizes = np.diff(np.append(starts, len(values)))
    rank = np.arange(len(values)) - np.repeat(starts, sizes)
    total = np.zeros(len(starts))
    for position in range(min(int(sizes.max(initial=0)), _SEQUENTIAL - 1)):
        at = rank == position
        total[group[at]] += values[at]
    for large in np.flatnonzero(sizes >= _SEQUENTIAL):
        total[large] = values[starts[large] : starts[large] + sizes[large]].sum()
    return total


def onward_flows(summary: pd.DataFrame, config: DetectionConfig) -> pd.DataFrame:
    """For flows into a transit country: that country's own exports of the good onward.

    A series "X exports good h to N" (declared by X) or "N imports h from X" (declared
    by N), with N a transit country, gets ``onward_ratio`` (actual over expected of
    N's declared exports of h to a sanctioned destination, Russia or Belarus; of the
    legs, the one that rose most), ``onward_z`` (its calibrated z), ``onward_to``
    (that leg's destination) and ``hub`` (N).
    Re-exports are exports and re-imports imports here: a hub's re-exports to Russia
    are the most literal onward leg.
    A leg whose history is not in the data is read against its months before the
    sanctions (:func:`~anomaly.detect.baseline.rise_z`, ``baseline_ratio``).
    """
    transit = config.transit_set
    outward = summary["flow"].isin(OUTWARD_FLOWS).to_numpy()
    to_russia = summary[
        outward & summary["partner"].isin(config.sanctioned) & summary["reporter"].isin(transit)
    ]
    to_russia = to_russia.assign(_rise=rise_z(to_russia))
    to_russia = to_russia.sort_values("_rise", ascending=False, kind="stable", na_position="last")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = to_russia["actual"] / to_russia["expected"]
    if "baseline_ratio" in to_russia:  # a leg without history grew against its baseline
        ratio = ratio.where(to_russia["z"].notna(), to_russia["baseline_ratio"])
    onward = pd.DataFrame(
        {
            "onward_ratio": ratio.to_numpy(),
            "onward_z": to_russia["_rise"].to_numpy(),
            "onward_to": to_russia["partner"].astype(object).to_numpy(),
        },
        index=pd.MultiIndex.from_arrays(
            [to_russia["reporter"], to_russia["hs"]], names=["hub", "hs"]
        ),
    )
    onward = onward[~onward.index.duplicated()]
    hub = np.where(outward, summary["partner"], summary["reporter"])
    into_hub = np.where(
        outward,
        summary["partner"].isin(transit),
        summary["flow"].isin(INWARD_FLOWS) & summary["reporter"].isin(transit),
    )
    joined = onward.reindex(pd.MultiIndex.from_arrays([hub, summary["hs"]], names=["hub", "hs"]))
    joined.index = summary.index
    joined.loc[~np.asarray(into_hub, dtype=bool)] = np.nan
    joined["hub"] = np.where(into_hub, hub, None)
    return joined


def own_rise_z(table: pd.DataFrame) -> np.ndarray:
    """Each series' own evidence of rising: its value's rise
    (:func:`~anomaly.detect.baseline.rise_z`) or, where ``table`` has the regularity
    detector's ``regularity_z``, that rise and the regularity together (their sum over
    √2), whichever is larger — more regular trade adds to a rise, it never takes from
    one. A flow whose value stayed near its counterfactual but that now trades in every
    month reads as rising.

    The two are read as if independent and the larger is taken, so under no rise this
    exceeds a normal quantile more often than the quantile says: it ranks, and the
    ensemble's alert threshold, set on the placebo window, keeps the false-alarm rate.

    Examples
    --------
    >>> table = pd.DataFrame({"z": [0.5, 3.0, 1.0, -1.0],
    ...     "regularity_z": [3.0, 0.0, np.nan, 3.0]})
    >>> own_rise_z(table).round(2).tolist()
    [2.47, 3.0, 1.0, 1.41]
    """
    return _with_regularity(rise_z(table), table)


def _with_regularity(rise: np.ndarray, table: pd.DataFrame) -> np.ndarray:
    """:func:`own_rise_z` from the series' value ``rise`` already read."""
    if "regularity_z" not in table:  # an ensemble without the regularity detector
        return rise
    regularity = table["regularity_z"].to_numpy(dtype=np.float64)
    together = (rise + regularity) / np.sqrt(2.0)
    return np.where(np.isfinite(regularity), np.fmax(rise, together), rise)


class ReroutingDetector(BaseDetector):
    """Flows into hubs read with the hub's onward trade and the exporter's direct trade.

    Stateless: it reads the residual detector's calibrated ``z`` of the other series
    (the baseline detector's ``baseline_z`` for a series whose history is not in the
    data: :func:`~anomaly.detect.baseline.rise_z`), and the regularity detector's
    ``regularity_z`` where the ensemble has that detector (which reads no other's
    statistics, so its columns are in the table first).

    Its evidence is the flow's own rise with the other leg of the route added: for a
    flow into a hub, the hub's onward exports of the good (``onward_z``); for a hub's
    export to a sanctioned destination, the hub's whole inflow of the good
    (``inflow_z``, :func:`~anomaly.detect.hub.hub_total_inflow`). A rising flow gets
    :data:`ONWARD_WEIGHT` times the other leg's z, at most :data:`ONWARD_CAP` of it:
    the other leg corroborates, it does not make a flat flow a lead (at most
    ``ONWARD_WEIGHT × ONWARD_CAP`` is added). Taking the larger of the two p-values
    instead (an intersection-union test) let the weaker leg decide: diffuse suppliers,
    each rising moderately into a hub whose onward exports jumped, ranked ~400th of
    ~6,000 on the development public worlds.

    A flow's own rise is read in value and, where the ensemble has the regularity
    detector, in how often it trades (:func:`own_rise_z`): a supplier feeding a hub
    month after month may fill its empty months more than it raises its value. The
    ``onward_to_RUS`` signal reads the same rise.
    """

    name: ClassVar[str] = "rerouting"
    pvalue_column: ClassVar[str | None] = "p_onward"
    signal_names: ClassVar[tuple[str, ...]] = ("onward_to_RUS", "rerouting", "compliance_drop")
    provides: ClassVar[tuple[str, ...]] = (
        "direct_drop",
        "direct_z",
        "substitution_share",
        "onward_ratio",
        "onward_z",
        "onward_to",
        "inflow_z",
        "hub",
    )
    requires: ClassVar[tuple[str, ...]] = ("z",)

    def statistics(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        columns = {}
        for frame in (substitution(table, self.config), onward_flows(table, self.config)):
            # Both are indexed like ``table``: their columns are taken as they are.
            columns |= {name: values.to_numpy() for name, values in frame.items()}
        columns["inflow_z"] = hub_total_inflow(table, self.config)
        return columns

    def log_pvalue(self, table: pd.DataFrame) -> np.ndarray:
        """The flow's own rise plus the other leg's corroboration (see the class
        docstring); ``NaN`` where the series has no other leg."""
        own = own_rise_z(table)
        onward = table["onward_z"].to_numpy(dtype=np.float64)
        if "inflow_z" in table:  # a model of an older version reads no inflow
            inflow = table["inflow_z"].to_numpy(dtype=np.float64)
            onward = np.where(np.isfinite(onward), onward, inflow)
        with np.errstate(invalid="ignore"):
            added = np.where(own > 0, ONWARD_WEIGHT * np.clip(onward, 0.0, ONWARD_CAP), 0.0)
        return np.where(np.isfinite(onward) & np.isfinite(own), log_ndtr(-(own + added)), np.nan)

    def signals(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """``onward_to_RUS``: a flow rising (:func:`own_rise_z`: in value, or in value and
        regularity) into a hub whose onward exports rose;
        ``rerouting``: a rising flow to a hub while the exporter's direct exports of
        the good collapsed; ``compliance_drop``: a direct export to a sanctioned
        destination that collapsed."""
        z = table["z"].to_numpy()
        threshold = self.config.signal_z
        rise = rise_z(table)
        with np.errstate(invalid="ignore"):
            rising = rise >= threshold
            rising_or_regular = _with_regularity(rise, table) >= threshold
        direct_to_sanctioned = (
            table["flow"].isin(OUTWARD_FLOWS).to_numpy()
            & table["partner"].isin(self.config.sanctioned).to_numpy()
        )
        return {
            "onward_to_RUS": rising_or_regular & (table["onward_z"].to_numpy() >= threshold),
            "rerouting": rising & (table["direct_z"].to_numpy() <= -threshold),
            "compliance_drop": direct_to_sanctioned & (z <= -threshold),
        }
