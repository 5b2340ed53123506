"""Metrics that measure the package against planted truth.

- :mod:`~anomaly.evaluate.forecast_metrics`: accuracy of counterfactual forecasts and
  their intervals (RMSSE, MASE, coverage, Winkler score, pinball loss), per series; defined in
  :mod:`anomaly.forecast.accuracy` (forecasters calibrate on them) and re-exported.
- :mod:`~anomaly.evaluate.detection_metrics`: how well a ranking of series finds the
  planted evasion (precision@k, recall, value captured, average precision), the
  false-alarm rate of placebo runs and the delay to the first alert.

All are pure functions of arrays; the simulator and the benchmark supply the arrays.
"""

from anomaly.evaluate.detection_metrics import (
    alert_rate,
    average_precision,
    detection_delay,
    detection_report,
    precision_at_k,
    recall_at_k,
    recall_within_top_fraction,
    value_captured_at_k,
)
from anomaly.evaluate.forecast_metrics import (
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
    "alert_rate",
    "average_precision",
    "detection_delay",
    "detection_report",
    "interval_coverage",
    "mase",
    "pinball_loss",
    "pooled_coverage",
    "precision_at_k",
    "recall_at_k",
    "recall_within_top_fraction",
    "rmsse",
    "scaled_pinball",
    "scaled_winkler",
    "value_captured_at_k",
    "winkler_score",
]
