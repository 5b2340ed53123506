"""Hub detector: a transit country's inflow of a good and its onward exports, as one picture.

Diffuse evasion spreads a good over several suppliers, each rising moderately into a
hub (Kazakhstan, Armenia, ...) whose exports of the good to Russia or Belarus jump.
No supplier's series is striking alone; together they are. Per hub and good the
detector reads the other suppliers' inflow into the hub against its counterfactual —
the excess of their flows over their expected values, over the spread of that sum
(each flow's from its band), so big flows weigh as they should and suppliers that did
not rise count too: nothing is cherry-picked — beside the hub's onward leg
(``onward_z``, from the re-routing detector). A supplier's series that itself rose
(calibrated z at least :data:`MIN_OWN_Z`) carries that evidence: its p-value is the
larger of the two (an intersection-union test: the inflow rose *and* the goods went
on), so a hub's onward trade alone, or a demand boom at the hub (already controlled
in ``z``) without onward trade, is no lead; and one supplier's own surge does not
lend its strength to the hub's bystanders.

A flow into a hub is counted once: from the hub's own import declarations where it
publishes them, else from the suppliers' export declarations.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
from scipy.special import log_ndtr

from anomaly.detect.base import BaseDetector
from anomaly.detect.baseline import rise_z
from anomaly.detect.config import DetectionConfig
from anomaly.schema import INWARD_FLOWS, OUTWARD_FLOWS

#: A supplier's own flow must have risen at least this much (calibrated z) to carry the
#: hub's evidence: a supplier whose flow stayed flat is not a lead of the scheme.
MIN_OWN_Z = 2.0


def hub_inflow(table: pd.DataFrame, config: DetectionConfig) -> pd.DataFrame:
    """Per series into a transit country: the combined rise of the *other* flows of the
    good into that hub (``hub_inflow_z``) and how many flows the hub has (``hub_suppliers``).

    ``hub_inflow_z`` is ``Σ (actual - expected) / √Σ sd²`` over the other flows of the
    good into the hub, ``sd`` of each flow's window total read from its band (``lower``,
    ``upper``: a normal band's width is ``2 × config.band_z`` sd).

    ``table`` needs ``reporter, partner, flow, hs, actual, expected, lower, upper``;
    rows not into a hub get ``NaN``.

    Examples
    --------
    >>> table = pd.DataFrame({"reporter": ["DEU", "FRA", "POL", "DEU"],
    ...     "partner": ["KAZ", "KAZ", "KAZ", "FRA"], "flow": ["export"] * 4,
    ...     "hs": ["854231"] * 4, "actual": [130.0, 130.0, 100.0, 900.0],
    ...     "expected": [100.0] * 4, "lower": [70.0] * 4, "upper": [133.0] * 4})
    >>> config = DetectionConfig(transit=("KAZ",))
    >>> hub_inflow(table, config)["hub_inflow_z"].round(2).tolist()
    [1.11, 1.11, 2.22, nan]
    """
    frame, counted = _inflows(table, config)
    combined = counted.groupby(["hub", "hs"], observed=True).agg(
        excess=("excess", "sum"), variance=("variance", "sum"), size=("excess", "size")
    )
    found = combined.reindex(pd.MultiIndex.from_arrays([frame["hub"], frame["hs"]]))
    # The other flows' inflow: one supplier's own surge does not lend its strength to
    # the hub's bystanders, nor to itself (whichever side's declaration was counted).
    by_flow = counted.groupby(["hub", "supplier", "hs"], observed=True)[["excess", "variance"]]
    own = by_flow.sum().reindex(pd.MultiIndex.from_frame(frame[["hub", "supplier", "hs"]]))
    own = own.fillna(0.0)
    excess = found["excess"].to_numpy() - own["excess"].to_numpy()
    variance = found["variance"].to_numpy() - own["variance"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        others = np.where(variance > 0, excess / np.sqrt(variance), np.nan)
    out = pd.DataFrame(
        {"hub_inflow_z": np.nan, "hub_suppliers": np.nan}, index=table.index, dtype=np.float64
    )
    out.loc[frame.index, "hub_inflow_z"] = others
    out.loc[frame.index, "hub_suppliers"] = found["size"].to_numpy(dtype=np.float64)
    return out


def _inflows(table: pd.DataFrame, config: DetectionConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every flow into a hub (``hub, supplier, hs, excess, variance``, indexed like
    ``table``), and those counted in a hub's inflow: each flow once, from the hub's
    own declaration where it published one, else the supplier's; flows without
    history left out (their expected value is a guess)."""
    transit = config.transit_set
    flow = table["flow"].to_numpy()
    exported = np.isin(flow, OUTWARD_FLOWS) & table["partner"].isin(transit).to_numpy()
    imported = np.isin(flow, INWARD_FLOWS) & table["reporter"].isin(transit).to_numpy()
    hub = np.where(exported, table["partner"], np.where(imported, table["reporter"], None))
    supplier = np.where(exported, table["reporter"], table["partner"])
    sd = (table["upper"].to_numpy(np.float64) - table["lower"].to_numpy(np.float64)) / (
        2 * config.band_z
    )
    frame = pd.DataFrame(
        {
            "hub": hub,
            "supplier": supplier,
            "hs": table["hs"].to_numpy(),
            "excess": table["actual"].to_numpy(np.float64) - table["expected"].to_numpy(np.float64),
            "variance": sd**2,
        },
        index=table.index,
    )[exported | imported]
    # The hub's own declaration of a flow when it published one, else the supplier's.
    publishing_hubs = set(frame.loc[imported[exported | imported], "hub"])
    from_hub = imported[exported | imported]
    counted = frame[from_hub | ~frame["hub"].isin(publishing_hubs).to_numpy()]
    counted = counted[np.isfinite(counted["excess"]) & np.isfinite(counted["variance"])]
    if "history_known" in table:  # an expected value without history is only a guess
        counted = counted[table.loc[counted.index, "history_known"].to_numpy(dtype=bool)]
    return frame, counted


def hub_total_inflow(table: pd.DataFrame, config: DetectionConfig) -> np.ndarray:
    """Per onward leg (a transit country's export to a sanctioned destination): the
    combined rise of every flow of the good into that hub, ``Σ (actual - expected) /
    √Σ sd²`` as in :func:`hub_inflow`; ``NaN`` for other rows.

    Examples
    --------
    >>> table = pd.DataFrame({"reporter": ["DEU", "FRA", "KAZ"],
    ...     "partner": ["KAZ", "KAZ", "RUS"], "flow": ["export"] * 3,
    ...     "hs": ["854231"] * 3, "actual": [130.0, 130.0, 500.0],
    ...     "expected": [100.0] * 3, "lower": [70.0] * 3, "upper": [133.0] * 3})
    >>> hub_total_inflow(table, DetectionConfig(transit=("KAZ",))).round(2).tolist()
    [nan, nan, 2.22]
    """
    _, counted = _inflows(table, config)
    combined = counted.groupby(["hub", "hs"], observed=True)[["excess", "variance"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        z = combined["excess"] / np.sqrt(combined["variance"].where(combined["variance"] > 0))
    leg = (
        np.isin(table["flow"].to_numpy(), OUTWARD_FLOWS)
        & table["reporter"].isin(config.transit_set).to_numpy()
        & table["partner"].isin(config.sanctioned).to_numpy()
    )
    found = z.reindex(pd.MultiIndex.from_arrays([table["reporter"], table["hs"]])).to_numpy()
    return np.where(leg, found, np.nan)


class HubDetector(BaseDetector):
    """Moderate rises from several suppliers into a hub whose onward exports jump.

    Stateless: it reads the residual detector's ``z`` (or, for a series whose history
    is not in the data, the baseline detector's ``baseline_z``:
    :func:`~anomaly.detect.baseline.rise_z`) and the re-routing detector's
    ``onward_z``. Flows without history do not count in a hub's inflow: their expected
    value is a guess.
    """

    name: ClassVar[str] = "hub"
    pvalue_column: ClassVar[str | None] = "p_hub"
    signal_names: ClassVar[tuple[str, ...]] = ("hub_inflow",)
    provides: ClassVar[tuple[str, ...]] = ("hub_inflow_z", "hub_suppliers")
    requires: ClassVar[tuple[str, ...]] = ("z", "onward_z")

    def statistics(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        inflow = hub_inflow(table, self.config)
        return {name: values.to_numpy() for name, values in inflow.items()}

    def log_pvalue(self, table: pd.DataFrame) -> np.ndarray:
        """The larger of the inflow's and the onward leg's p-values, for a series that
        itself rose (``NaN`` elsewhere)."""
        inflow = table["hub_inflow_z"].to_numpy(dtype=np.float64)
        onward = table["onward_z"].to_numpy(dtype=np.float64)
        own = rise_z(table)
        applies = np.isfinite(inflow) & np.isfinite(onward) & (own >= MIN_OWN_Z)
        with np.errstate(invalid="ignore"):
            log_p = np.maximum(log_ndtr(-inflow), log_ndtr(-onward))
        return np.where(applies, log_p, np.nan)

    def signals(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """``hub_inflow``: the flow rose into a hub whose combined inflow and onward
        exports of the good both rose far beyond their counterfactuals."""
        threshold = self.config.signal_z
        inflow = table["hub_inflow_z"].to_numpy(dtype=np.float64)
        onward = table["onward_z"].to_numpy(dtype=np.float64)
        own = rise_z(table)
        with np.errstate(invalid="ignore"):
            return {
                "hub_inflow": (own >= MIN_OWN_Z) & (inflow >= threshold) & (onward >= threshold)
            }
