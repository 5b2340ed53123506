"""From the per-series summary to ranked, explained leads.

The detectors' raw statistics are calibrated on the placebo window (:class:`Calibration`),
combined into one score, compared with the alert threshold, and each series gets the
list of signals that fired and a one-line explanation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from anomaly.detect.calibration import BinnedZCalibration, ZCalibration
from anomaly.detect.ensemble import cauchy_combination, score_from_p
from anomaly.detect.iforest import IsolationForestDetector, series_features
from anomaly.detect.rerouting import SANCTIONED, onward_flows, substitution
from anomaly.model.explain import explain

#: A detector "fires" at a calibrated z at or above this (one-sided p ≤ 0.01).
SIGNAL_Z = 2.326

LEAD_COLUMNS: tuple[str, ...] = (
    "rank",
    "reporter",
    "partner",
    "flow",
    "hs",
    "score",
    "alert",
    "actual",
    "expected",
    "lower",
    "upper",
    "excess_value",
    "mirror_gap",
    "signals",
    "explanation",
)


@dataclass
class Calibration:
    """Everything learned on the placebo window that turns raw statistics into scores."""

    residual: ZCalibration
    mirror: BinnedZCalibration
    iforest: IsolationForestDetector
    threshold: float


def calibrated_statistics(
    summary: pd.DataFrame,
    residual: ZCalibration,
    mirror: BinnedZCalibration,
    transit: frozenset[str],
) -> pd.DataFrame:
    """Add calibrated ``z``, ``mirror_z`` and the cross-series columns to a summary."""
    out = summary.copy()
    out["z"] = residual.z(out["stouffer_z"].to_numpy())
    out["mirror_z"] = mirror.z(
        -out["log_departure"].to_numpy(), np.log1p(out["mirror_expected"].to_numpy())
    )
    out = out.join(substitution(out, transit))
    out = out.join(onward_flows(out, transit))
    return out


def detector_pvalues(stats: pd.DataFrame, iforest: IsolationForestDetector) -> pd.DataFrame:
    """One-sided p-value per detector (``NaN`` where a detector does not apply).

    Direction matters: only a flow that rose above its counterfactual can be a lead
    through the isolation forest or through onward flows; a collapse is reported, not
    ranked. A mirror gap counts on its own: declared exports that never arrive are
    the phantom-export signature even without a surge.
    """
    rising = stats["z"].to_numpy() > 0
    p_iforest = iforest.pvalues(series_features(stats))
    onward = stats["onward_z"].to_numpy()
    return pd.DataFrame(
        {
            "p_residual": ndtr(-stats["z"].to_numpy()),
            "p_mirror": ndtr(-stats["mirror_z"].to_numpy()),
            "p_isolation": np.where(rising, p_iforest, np.nan),
            "p_onward": np.where(rising & np.isfinite(onward), ndtr(-onward), np.nan),
        },
        index=stats.index,
    )


def ensemble_scores(pvalues: pd.DataFrame) -> np.ndarray:
    """The combined score (``-log10`` of the Cauchy-combined p-value)."""
    return score_from_p(cauchy_combination(pvalues.to_numpy()))


def build_leads(
    stats: pd.DataFrame,
    pvalues: pd.DataFrame,
    threshold: float,
    *,
    currency: str | None,
    window_label: str,
) -> pd.DataFrame:
    """The leads table: one row per series, best first, with signals and explanations."""
    leads = stats.copy()
    leads["score"] = ensemble_scores(pvalues)
    leads = leads.join(pvalues)
    leads["alert"] = leads["score"] >= threshold
    leads["signals"] = _signals(leads)
    leads = leads.sort_values(
        ["score", "excess_value"], ascending=[False, False], kind="stable"
    ).reset_index(drop=True)
    leads.insert(0, "rank", np.arange(1, len(leads) + 1))
    leads["explanation"] = [
        explain(row, currency=currency, window=window_label) for row in leads.itertuples()
    ]
    ordered = list(LEAD_COLUMNS) + [c for c in leads.columns if c not in LEAD_COLUMNS]
    return leads[ordered]


def _signals(leads: pd.DataFrame) -> list[str]:
    """``;``-separated names of the detectors that fired on each series."""
    z = leads["z"].to_numpy()
    rising = z >= SIGNAL_Z
    new = leads["trained_nonzero"].to_numpy() == 0
    direct_to_sanctioned = (leads["flow"] == "export").to_numpy() & leads["partner"].isin(
        SANCTIONED
    ).to_numpy()
    flags = {
        "surge": rising & ~new,
        "new_flow": rising & new & (leads["actual"].to_numpy() > 0),
        "mirror_gap": leads["mirror_z"].to_numpy() >= SIGNAL_Z,
        "isolation": leads["p_isolation"].to_numpy() <= 0.01,
        "onward_to_RUS": rising & (leads["onward_z"].to_numpy() >= SIGNAL_Z),
        "rerouting": rising & (leads["direct_z"].to_numpy() <= -SIGNAL_Z),
        "compliance_drop": direct_to_sanctioned & (z <= -SIGNAL_Z),
    }
    names = np.array(list(flags))
    matrix = np.column_stack([np.nan_to_num(v, nan=0).astype(bool) for v in flags.values()])
    return [";".join(names[row]) for row in matrix]
