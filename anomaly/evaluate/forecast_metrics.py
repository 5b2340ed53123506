"""Accuracy of counterfactual forecasts and their prediction intervals, per series.

The metrics are defined in :mod:`anomaly.forecast.accuracy` (the forecast layer uses
:func:`rmsse` to calibrate :class:`~anomaly.forecast.PooledForecaster`, and may not
import this higher layer); they are re-exported here, unchanged, so that
``anomaly.evaluate.rmsse`` and ``anomaly.evaluate.forecast_metrics.rmsse`` keep working.
See :mod:`anomaly.forecast.accuracy` for the conventions on shapes and missing values.
"""

from __future__ import annotations

from anomaly.forecast.accuracy import (
    interval_coverage,
    mase,
    pinball_loss,
    pooled_coverage,
    rmsse,
    scaled_pinball,
    scaled_winkler,
    winkler_score,
)

__all__ = [
    "interval_coverage",
    "mase",
    "pinball_loss",
    "pooled_coverage",
    "rmsse",
    "scaled_pinball",
    "scaled_winkler",
    "winkler_score",
]
