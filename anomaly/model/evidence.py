"""Per-series evidence of one window: forecasts, residuals, mirror gaps, demand control.

This is the heavy, per-series part of scoring; everything after it works on the
one-row-per-series summary it returns. It needs each export beside its mirror import,
so a batch engine must partition by unordered country pair and HS code, and read one
month beyond the window (for shipping lags).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomaly.detect.mirror import MirrorRatios, mirror_summary, mirror_targets, mirror_values
from anomaly.detect.rerouting import demand_growth
from anomaly.detect.residual import residual_summary
from anomaly.forecast.base import UNSEEN, Forecaster
from anomaly.panel.core import Panel
from anomaly.schema import SERIES_KEY_COLUMNS


@dataclass(frozen=True)
class WindowEvidence:
    """The summary table (one row per series) and the monthly detail of a window."""

    summary: pd.DataFrame
    monthly: dict[str, np.ndarray]
    periods: pd.PeriodIndex


def positions(trained: pd.DataFrame, keys: pd.DataFrame) -> np.ndarray:
    """Row of each ``keys`` series among the ``trained`` series (``UNSEEN`` if absent)."""
    lookup = pd.Series(
        np.arange(len(trained)), index=pd.MultiIndex.from_frame(trained[list(SERIES_KEY_COLUMNS)])
    )
    found = lookup.reindex(pd.MultiIndex.from_frame(keys[list(SERIES_KEY_COLUMNS)]))
    return found.fillna(UNSEEN).to_numpy(np.int64)


def window_evidence(
    forecaster: Forecaster,
    trained_keys: pd.DataFrame,
    ratios: MirrorRatios,
    panel: Panel,
    start: pd.Period,
    end: pd.Period,
    controlled: np.ndarray,
) -> WindowEvidence:
    """Evidence for months ``start..end`` of ``panel``.

    Parameters
    ----------
    forecaster : Forecaster
        Fitted on a window that ends before ``start``.
    trained_keys : pandas.DataFrame
        Keys of the series the forecaster was fitted on, in its row order.
    ratios : MirrorRatios
        Normal mirror ratios learned on the same training window.
    panel : Panel
        Holds at least the window (and the month after it, if available).
    start, end : pandas.Period
    controlled : numpy.ndarray of bool
        Per panel series, whether its good is on the control list (the
        uncontrolled goods give the general-demand control).
    """
    window = panel.window(start, end)
    published = window.published_mask()
    has_data = published.any(axis=1)
    window = window.select(has_data)
    published = published[has_data]
    controlled = controlled[has_data]
    actual = np.nan_to_num(window.values.astype(np.float64), nan=0.0)
    rows = positions(trained_keys, window.keys)
    forecast = forecaster.predict(start, end, series=rows)

    summary = window.keys.copy()
    summary["actual"] = np.where(published, actual, 0.0).sum(axis=1)
    summary["expected"] = np.where(published, forecast.mean, 0.0).sum(axis=1)
    growth = demand_growth(summary, pd.Series(controlled)).to_numpy()
    factor = np.where(controlled, growth, 1.0)
    residual = residual_summary(forecast, actual, published, demand_factor=factor)
    for name in ("n_months", "actual", "expected", "lower", "upper", "excess_value"):
        summary[name] = residual[name]
    summary["stouffer_z"] = residual["stouffer_z"]
    summary["persistence"] = residual["persistence"]
    summary["onset"] = [str(window.periods[i]) if i >= 0 else None for i in residual["onset"]]
    summary["demand_factor"] = factor
    summary["controlled"] = controlled
    info = forecaster.series_info_["n_nonzero"].to_numpy()
    summary["trained_nonzero"] = np.where(rows >= 0, info[np.maximum(rows, 0)], 0)
    summary = summary.join(_mirror_columns(panel, window, published, ratios, start, end))

    lower, upper = forecast.interval(0.9)
    monthly = {
        "actual": np.where(published, actual, np.nan),
        "expected": forecast.mean * factor[:, None],
        "lower": lower * factor[:, None],
        "upper": upper * factor[:, None],
        "z": residual["z_months"],
    }
    return WindowEvidence(summary, monthly, window.periods)


def _mirror_columns(
    panel: Panel,
    window: Panel,
    published: np.ndarray,
    ratios: MirrorRatios,
    start: pd.Period,
    end: pd.Period,
) -> pd.DataFrame:
    """Mirror evidence for each export series of ``window`` whose partner publishes."""
    columns = [
        "mirror_sent",
        "mirror_received",
        "mirror_expected",
        "not_received",
        "mirror_gap",
        "log_departure",
    ]
    out = pd.DataFrame(np.nan, index=window.keys.index, columns=columns)
    publishing = set(window.keys["reporter"][published.any(axis=1)])
    targets = mirror_targets(window, publishing)
    if not len(targets.declared):
        return out
    # One month more on the import side, to read a shipping lag at the window's end.
    extended = panel.window(start, end + 1).select(_rows_of(panel, window.keys))
    extended_published = extended.published_mask()
    imports = mirror_values(extended, targets, extended_published)
    exports = np.where(
        published[targets.declared], np.nan_to_num(window.values[targets.declared]), 0.0
    )
    summary = mirror_summary(exports, imports, ratios.lookup(window.keys.iloc[targets.declared]))
    names = dict(
        zip(
            [
                "sent",
                "received",
                "expected_received",
                "not_received",
                "mirror_gap",
                "log_departure",
            ],
            columns,
            strict=True,
        )
    )
    for source, target in names.items():
        out.iloc[targets.declared, out.columns.get_loc(target)] = summary[source]
    return out


def _rows_of(panel: Panel, keys: pd.DataFrame) -> np.ndarray:
    """Rows of ``panel`` holding the series ``keys`` (all present by construction)."""
    return positions(panel.keys, keys)
