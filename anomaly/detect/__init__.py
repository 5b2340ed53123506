"""Stage 4: detectors that turn deviations from the counterfactual into calibrated evidence.

Every detector follows one protocol (:mod:`~anomaly.detect.base`): fit and calibrate
on the placebo window, summarise a chunk of series, give calibrated statistics,
evidence as a log p-value (lower = more anomalous) and named signals, and save and
restore its own state. One module per detector:

- :mod:`~anomaly.detect.residual`: each series against its predictive distribution;
- :mod:`~anomaly.detect.regularity`: how often each series trades, against how often it
  did in training;
- :mod:`~anomaly.detect.mirror`: exports declared against imports declared received;
- :mod:`~anomaly.detect.rerouting`: substitution and onward flows through hubs;
- :mod:`~anomaly.detect.hub`: several suppliers' rises into a hub with its onward
  exports, as one picture;
- :mod:`~anomaly.detect.iforest`: isolation forest over engineered features (its trees
  as arrays in :mod:`~anomaly.detect.forest`).

:mod:`~anomaly.detect.ensemble` combines them into one score (higher = more
anomalous, everywhere), :mod:`~anomaly.detect.scope` decides which series can alert,
:mod:`~anomaly.detect.config` holds the settings they share and
:mod:`~anomaly.detect.registry` the classes an artifact may name.
"""

from anomaly.detect.base import (
    BaseDetector,
    Detector,
    DetectorState,
    PlaceboEvidence,
    ScoringWindow,
)
from anomaly.detect.baseline import BaselineDetector
from anomaly.detect.calibration import BinnedZCalibration, ZCalibration, empirical_upper_p
from anomaly.detect.config import DetectionConfig
from anomaly.detect.ensemble import (
    Ensemble,
    cauchy_combination,
    combined_scores,
    log_cauchy_combination,
    score_from_log_p,
)
from anomaly.detect.hub import HubDetector, hub_inflow
from anomaly.detect.iforest import FEATURES, IsolationForestDetector, series_features
from anomaly.detect.mirror import MirrorDetector, MirrorRatios, mirror_summary
from anomaly.detect.registry import (
    DETECTORS,
    default_detectors,
    detector_class,
    register_detector,
)
from anomaly.detect.regularity import RegularityDetector, regularity_statistic
from anomaly.detect.rerouting import ReroutingDetector, onward_flows, substitution
from anomaly.detect.residual import ResidualDetector, residual_summary
from anomaly.detect.scope import in_scope

__all__ = [
    "DETECTORS",
    "FEATURES",
    "BaseDetector",
    "BaselineDetector",
    "BinnedZCalibration",
    "DetectionConfig",
    "Detector",
    "DetectorState",
    "Ensemble",
    "HubDetector",
    "IsolationForestDetector",
    "MirrorDetector",
    "MirrorRatios",
    "PlaceboEvidence",
    "RegularityDetector",
    "ReroutingDetector",
    "ResidualDetector",
    "ScoringWindow",
    "ZCalibration",
    "cauchy_combination",
    "combined_scores",
    "default_detectors",
    "detector_class",
    "empirical_upper_p",
    "hub_inflow",
    "in_scope",
    "log_cauchy_combination",
    "mirror_summary",
    "onward_flows",
    "register_detector",
    "regularity_statistic",
    "residual_summary",
    "score_from_log_p",
    "series_features",
    "substitution",
]
