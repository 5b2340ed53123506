"""From the per-series summary to ranked, explained leads.

The detectors' raw statistics are calibrated on the placebo window (:class:`Calibration`),
combined into one score, compared with the alert threshold, and each series gets the
list of signals that fired and a one-line explanation.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import log_ndtr

from anomaly.detect.calibration import BinnedZCalibration, StoufferCalibration
from anomaly.detect.ensemble import log_cauchy_combination, score_from_log_p
from anomaly.detect.iforest import IsolationForestDetector, series_features
from anomaly.detect.rerouting import SANCTIONED, onward_flows, substitution
from anomaly.model.explain import EXPLAINED_COLUMNS, explanations
from anomaly.schema import LEAD_COLUMNS

#: A detector "fires" at a calibrated z at or above this (one-sided p ≤ 0.01).
SIGNAL_Z = 2.326
#: The signals a lead can carry, in the order ``signals`` lists them.
SIGNALS = (
    "surge",
    "new_flow",
    "mirror_gap",
    "isolation",
    "onward_to_RUS",
    "rerouting",
    "compliance_drop",
)


@dataclass
class Calibration:
    """Everything learned on the placebo window that turns raw statistics into scores."""

    residual: StoufferCalibration
    mirror: BinnedZCalibration
    iforest: IsolationForestDetector
    threshold: float


def mirror_statistic(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The mirror detector's raw statistic and the size it is calibrated by.

    The statistic is the gap share (1 = nothing received), bounded to [-1, 1]: unlike
    a log ratio it cannot explode when a small flow's receipts are zero, which a
    classification difference or a confidential month can cause; the size is the
    log of the expected receipts (small flows' gaps are noisier).
    """
    gap = summary["mirror_gap"].clip(-1.0, 1.0).to_numpy()
    return gap, np.log1p(summary["mirror_expected"].to_numpy())


def in_scope(summary: pd.DataFrame, transit: frozenset[str]) -> np.ndarray:
    """Series on the routes of the evasion this package looks for.

    A controlled (CHP) good exported to a transit country, Russia or Belarus, or
    imported by a transit country. Other series are scored but never alert: a surge
    of wine to France or of chips between two coalition members is not a lead.
    """
    destinations = transit | set(SANCTIONED)
    exported = summary["flow"].isin(["export", "re-export"]) & summary["partner"].isin(destinations)
    imported = summary["flow"].isin(["import", "re-import"]) & summary["reporter"].isin(transit)
    return (summary["controlled"].astype(bool) & (exported | imported)).to_numpy()


def calibrated_statistics(
    summary: pd.DataFrame,
    residual: StoufferCalibration,
    mirror: BinnedZCalibration,
    transit: frozenset[str],
) -> pd.DataFrame:
    """Add calibrated ``z``, ``mirror_z`` and the cross-series columns to a summary."""
    # A shallow copy: new columns never reach the caller's frame.
    out = summary.copy(deep=False)
    out["z"] = residual.z(out["stouffer_z"].to_numpy(), out["n_months"].to_numpy())
    out["mirror_z"] = mirror.z(*mirror_statistic(out))
    out["in_scope"] = in_scope(out, transit)
    for columns in (substitution(out, transit), onward_flows(out, transit)):
        # Both are indexed like ``out``: their columns are added as they are.
        for name, values in columns.items():
            out[name] = values.to_numpy()
    return out


def detector_pvalues(stats: pd.DataFrame, iforest: IsolationForestDetector) -> pd.DataFrame:
    """Natural log of each detector's one-sided p-value (``NaN`` where it does not apply).

    Direction matters: only a flow that rose above its counterfactual can be a lead
    through the isolation forest; a collapse is reported, not ranked. The onward-flow
    evidence claims two things at once — this flow into a hub rose *and* the hub's
    exports of the good to Russia rose — so its p-value is the larger of the two
    (an intersection-union test): a hub's onward trade does not make every flow into
    it a lead. A mirror gap counts on its own: declared exports that never arrive are
    the phantom-export signature even without a surge. Logs keep strong evidence
    ordered where p-values underflow.
    """
    z = stats["z"].to_numpy()
    log_p_residual = log_ndtr(-z)
    rising = z > 0
    # Only where it applies: the forest's descent is the costliest step of ranking.
    log_p_iforest = np.full(len(stats), np.nan)
    features = series_features(stats)[rising]
    if len(features):
        log_p_iforest[rising] = np.log(iforest.pvalues(features))
    onward = stats["onward_z"].to_numpy()
    mirror = stats["mirror_z"].to_numpy()
    return pd.DataFrame(
        {
            "p_residual": log_p_residual,
            "p_mirror": np.where(np.isfinite(mirror), log_ndtr(-mirror), np.nan),
            "p_isolation": log_p_iforest,
            "p_onward": np.where(
                np.isfinite(onward), np.maximum(log_p_residual, log_ndtr(-onward)), np.nan
            ),
        },
        index=stats.index,
    )


def ensemble_scores(log_pvalues: pd.DataFrame) -> np.ndarray:
    """The combined score (``-log10`` of the Cauchy-combined p-value)."""
    return score_from_log_p(log_cauchy_combination(log_pvalues.to_numpy()))


def build_leads(
    stats: pd.DataFrame,
    pvalues: pd.DataFrame,
    threshold: float,
    *,
    currency: str | None,
    window_label: str,
) -> pd.DataFrame:
    """The leads table: one row per series, best first, with signals and explanations."""
    leads = stats.copy(deep=False)
    leads["score"] = ensemble_scores(pvalues)
    for name, log_p in pvalues.items():
        leads[name] = np.exp(log_p.to_numpy())
    leads["alert"] = (leads["score"] >= threshold) & leads["in_scope"]
    flags = signal_flags(leads)
    leads["signals"] = signal_names(flags)
    # Explained in a second thread (Arrow's kernels release the GIL) while the table is
    # sorted here; the thread has its own copy of what it reads.
    explained = leads[list(EXPLAINED_COLUMNS)].copy()
    with ThreadPoolExecutor(max_workers=1) as pool:
        text = pool.submit(explanations, explained, flags, currency=currency, window=window_label)
        leads, order = _sorted(leads)
        leads.insert(LEAD_COLUMNS.index("explanation"), "explanation", text.result()[order])
    return leads


def _sorted(leads: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Leads best first (in scope, then score, then excess value), ranked, in the
    table's column order (``explanation`` left out), and the order taken."""
    order = np.lexsort(
        (
            -leads["excess_value"].to_numpy(dtype=float),
            -leads["score"].to_numpy(dtype=float),
            ~leads["in_scope"].to_numpy(dtype=bool),
        )
    )
    added = ("rank", "explanation")
    columns = [c for c in LEAD_COLUMNS if c not in added]
    columns += [c for c in leads.columns if c not in LEAD_COLUMNS]
    # One take of every column, already in the table's column order (no further copy).
    where = leads.columns.get_indexer(columns)
    if (where < 0).any():
        missing = [c for c, i in zip(columns, where, strict=True) if i < 0]
        raise KeyError(f"the statistics lack the lead columns {missing}")
    leads = leads.iloc[order, where]
    leads.index = pd.RangeIndex(len(leads))
    leads.insert(LEAD_COLUMNS.index("rank"), "rank", np.arange(1, len(leads) + 1))
    return leads, order


def signal_flags(leads: pd.DataFrame) -> dict[str, np.ndarray]:
    """Which detectors fired on each series, by signal name (in :data:`SIGNALS` order)."""
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
    return {name: np.nan_to_num(flags[name], nan=0).astype(bool) for name in SIGNALS}


def signal_names(flags: dict[str, np.ndarray]) -> np.ndarray:
    """``;``-separated names of the signals that fired on each series.

    Each series' set of signals is coded as a bit mask, and the text of every mask is
    written once.

    Examples
    --------
    >>> signal_names({"surge": np.array([True, False]), "isolation": np.array([True, False])})
    array(['surge;isolation', ''], dtype=object)
    """
    names = [name for name in SIGNALS if name in flags]
    mask = np.zeros(len(next(iter(flags.values()), [])), dtype=np.int64)
    for bit, name in enumerate(names):
        mask |= np.asarray(flags[name], dtype=np.int64) << bit
    texts = np.array(
        [
            ";".join(n for bit, n in enumerate(names) if code >> bit & 1)
            for code in range(1 << len(names))
        ],
        dtype=object,
    )
    return texts[mask]
