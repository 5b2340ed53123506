"""Stage 4: detectors that turn deviations from the counterfactual into calibrated evidence.

- :mod:`~anomaly.detect.residual`: each series against its predictive distribution;
- :mod:`~anomaly.detect.mirror`: exports declared against imports declared received;
- :mod:`~anomaly.detect.rerouting`: substitution, onward flows, general-demand control;
- :mod:`~anomaly.detect.iforest`: isolation forest over engineered features;
- :mod:`~anomaly.detect.calibration`, :mod:`~anomaly.detect.ensemble`: placebo
  calibration and the combined score (higher = more anomalous, everywhere).
"""

from anomaly.detect.calibration import BinnedZCalibration, ZCalibration, empirical_upper_p
from anomaly.detect.ensemble import cauchy_combination, log_cauchy_combination, score_from_log_p
from anomaly.detect.iforest import FEATURES, IsolationForestDetector, series_features
from anomaly.detect.mirror import MirrorRatios, mirror_summary
from anomaly.detect.rerouting import demand_growth, onward_flows, substitution
from anomaly.detect.residual import residual_summary

__all__ = [
    "FEATURES",
    "BinnedZCalibration",
    "IsolationForestDetector",
    "MirrorRatios",
    "ZCalibration",
    "cauchy_combination",
    "demand_growth",
    "empirical_upper_p",
    "log_cauchy_combination",
    "mirror_summary",
    "onward_flows",
    "residual_summary",
    "score_from_log_p",
    "series_features",
    "substitution",
]
