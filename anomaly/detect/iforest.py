"""Isolation-forest detector over per-series engineered features.

The forest is fitted on the placebo window's features (flows in normal times), so
it learns what ordinary departures from the counterfactual look like, and scores the
scoring window's flows by how isolated they are from that. Its score is calibrated
like the other detectors': the p-value is the share of placebo flows at least as
isolated. The fitted trees are kept as arrays (:mod:`anomaly.artifacts.iforest`) and
scored from them, so a loaded model scores exactly as the one that was trained.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OutlierMixin
from sklearn.ensemble import IsolationForest
from sklearn.utils.validation import check_is_fitted, validate_data

from anomaly.artifacts import IsolationForestArrays, export_isolation_forest
from anomaly.detect.calibration import empirical_upper_p

#: Features computed by :func:`series_features`, in column order.
FEATURES: tuple[str, ...] = (
    "z",
    "log_growth",
    "mirror_z",
    "persistence_share",
    "onward_z",
    "share_shift",
    "new_flow",
)


def series_features(summary: pd.DataFrame) -> np.ndarray:
    """Feature matrix (one row per series, :data:`FEATURES` columns, all finite).

    ``summary`` needs ``partner, flow, hs, actual, expected, z, mirror_z,
    persistence, n_months, onward_z, trained_nonzero``; a detector that did not apply
    to a series (no mirror, no onward flow) contributes 0, its neutral value.
    """
    actual = summary["actual"].to_numpy(np.float64)
    expected = summary["expected"].to_numpy(np.float64)
    market = [summary["partner"], summary["flow"], summary["hs"]]
    actual_total = summary.groupby(market, observed=True)["actual"].transform("sum").to_numpy()
    expected_total = summary.groupby(market, observed=True)["expected"].transform("sum").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share_shift = np.log((actual / actual_total + 1e-3) / (expected / expected_total + 1e-3))
        persistence = summary["persistence"].to_numpy() / summary["n_months"].to_numpy()
    columns = [
        summary["z"].to_numpy(np.float64),
        np.log1p(actual) - np.log1p(expected),
        summary["mirror_z"].to_numpy(np.float64),
        persistence,
        summary["onward_z"].to_numpy(np.float64),
        share_shift,
        (summary["trained_nonzero"].to_numpy() == 0).astype(np.float64),
    ]
    return np.nan_to_num(np.column_stack(columns), nan=0.0, posinf=0.0, neginf=0.0)


class IsolationForestDetector(OutlierMixin, BaseEstimator):
    """Isolation forest whose scores are calibrated p-values against its training data.

    Parameters
    ----------
    n_estimators : int
        Trees in the forest.
    max_samples : int or "auto"
        Samples drawn to grow each tree.
    false_alarm_rate : float
        Share of training rows :meth:`predict` calls outliers.
    random_state : int
        Seed of the forest.

    Attributes
    ----------
    forest_arrays_ : dict of str to numpy.ndarray
        The fitted trees as arrays (what artifacts store).
    training_scores_ : numpy.ndarray
        Sorted scores of the training rows, the reference for :meth:`pvalues`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> detector = IsolationForestDetector(n_estimators=50).fit(rng.normal(size=(500, 3)))
    >>> p = detector.pvalues(np.array([[0.0, 0.0, 0.0], [8.0, 8.0, 8.0]]))
    >>> bool(p[1] < 0.01 < p[0])
    True
    """

    def __init__(
        self,
        n_estimators: int = 200,
        max_samples: int | str = "auto",
        false_alarm_rate: float = 0.01,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.false_alarm_rate = false_alarm_rate
        self.random_state = random_state

    def fit(self, X, y=None):
        """Grow the forest on ``X`` (rows = flows in normal times)."""
        X = validate_data(self, X)
        forest = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=self.max_samples,
            random_state=self.random_state,
        ).fit(X)
        self.forest_arrays_ = export_isolation_forest(forest)
        self.training_scores_ = np.sort(self._raw_scores(X))
        self.offset_ = float(np.quantile(self.training_scores_, 1 - self.false_alarm_rate))
        return self

    def restore(
        self, forest_arrays: dict[str, np.ndarray], training_scores: np.ndarray, offset: float
    ) -> IsolationForestDetector:
        """Set the fitted state read back from an artifact (the inverse of :meth:`fit`)."""
        self.forest_arrays_ = forest_arrays
        self.training_scores_ = training_scores
        self.offset_ = offset
        self.n_features_in_ = int(forest_arrays["n_features_in"])
        return self

    def _raw_scores(self, X: np.ndarray) -> np.ndarray:
        return -IsolationForestArrays(self.forest_arrays_).score_samples(X)

    def score_samples(self, X):
        """Isolation score of each row: higher = more anomalous."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self._raw_scores(X)

    def decision_function(self, X):
        """``offset_ - score``: negative for rows flagged as outliers (scikit-learn's sign)."""
        scores = self.score_samples(X)  # checks it is fitted first
        return self.offset_ - scores

    def predict(self, X):
        """-1 for outliers (score above the training ``1 - false_alarm_rate`` quantile), else 1."""
        return np.where(self.decision_function(X) < 0, -1, 1)

    def pvalues(self, X) -> np.ndarray:
        """Share of training rows at least as isolated as each row."""
        scores = self.score_samples(X)  # checks it is fitted first
        return empirical_upper_p(self.training_scores_, scores)
