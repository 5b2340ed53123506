"""Isolation-forest detector: how isolated a flow's whole picture is from normal times.

The forest is grown on the placebo window's per-series features (flows in normal
times: their residual, growth, mirror and onward readings, see
:func:`series_features`), so it learns what ordinary departures from the
counterfactual look like, and scores the scoring window's flows by how isolated they
are from that. Its evidence is calibrated like the other detectors': the p-value is
the share of placebo flows at least as isolated. The fitted trees are kept as arrays
(:mod:`anomaly.detect.forest`) and scored from them, so a loaded model scores exactly
as the one that was trained.

Only a flow that rose above its counterfactual can be a lead through the forest: a
collapse is reported by the other detectors, not ranked by isolation.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from anomaly.detect.base import BaseDetector, DetectorState, PlaceboEvidence
from anomaly.detect.calibration import empirical_upper_p
from anomaly.detect.config import DetectionConfig
from anomaly.detect.forest import IsolationForestArrays, export_isolation_forest
from anomaly.errors import NotFittedError
from anomaly.panel import Panel

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
#: A flow "is isolated" (the ``isolation`` signal) at a p-value at or below this.
ISOLATION_P = 0.01


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


class IsolationForestDetector(BaseDetector):
    """Isolation forest over :func:`series_features`, calibrated on the placebo window.

    Parameters
    ----------
    config : DetectionConfig, optional
    n_estimators : int
        Trees in the forest.
    max_samples : int or "auto"
        Samples drawn to grow each tree.
    random_state : int
        Seed of the forest.

    Attributes
    ----------
    forest_arrays_ : dict of str to numpy.ndarray
        The fitted trees as arrays (:func:`~anomaly.detect.forest.export_isolation_forest`).
    training_scores_ : numpy.ndarray
        Sorted isolation of the placebo rows, the reference of :meth:`pvalues`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> detector = IsolationForestDetector(n_estimators=50).fit_features(rng.normal(size=(500, 3)))
    >>> p = detector.pvalues(np.array([[0.0, 0.0, 0.0], [8.0, 8.0, 8.0]]))
    >>> bool(p[1] < 0.01 < p[0])
    True
    """

    name: ClassVar[str] = "isolation"
    pvalue_column: ClassVar[str | None] = "p_isolation"
    signal_names: ClassVar[tuple[str, ...]] = ("isolation",)
    requires: ClassVar[tuple[str, ...]] = ("z", "mirror_z", "onward_z")

    def __init__(
        self,
        config: DetectionConfig | None = None,
        *,
        n_estimators: int = 200,
        max_samples: int | str = "auto",
        random_state: int = 0,
    ) -> None:
        super().__init__(config)
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        return {
            "n_estimators": self.n_estimators,
            "max_samples": self.max_samples,
            "random_state": self.random_state,
        }

    def fit(self, train: Panel, placebo: PlaceboEvidence | None) -> Self:
        """Grow the forest on the placebo series' features (nothing without a placebo)."""
        if placebo is not None:
            self.fit_features(series_features(placebo.table))
        return self

    def fit_features(self, X: np.ndarray) -> Self:
        """Grow the forest on a feature matrix (rows = flows in normal times)."""
        # Imported here: scoring replays the stored trees without scikit-learn.
        from sklearn.ensemble import IsolationForest

        X = np.asarray(X, dtype=np.float64)
        forest = IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=self.max_samples,
            random_state=self.random_state,
        ).fit(X)
        self.forest_arrays_ = export_isolation_forest(forest)
        self.training_scores_ = np.sort(self.isolation(X))
        return self

    def isolation(self, X: np.ndarray) -> np.ndarray:
        """Isolation of each row: higher = more anomalous (the paper's anomaly score)."""
        if not hasattr(self, "forest_arrays_"):
            raise NotFittedError("the isolation forest is not fitted; call fit() first")
        return -IsolationForestArrays(self.forest_arrays_).score_samples(X)

    def pvalues(self, X: np.ndarray) -> np.ndarray:
        """Share of placebo rows at least as isolated as each row."""
        isolation = self.isolation(X)  # checks it is fitted first
        return empirical_upper_p(self.training_scores_, isolation)

    def log_pvalue(self, table: pd.DataFrame) -> np.ndarray:
        """Log p-value of each rising series (``NaN`` where the flow did not rise)."""
        rising = table["z"].to_numpy() > 0
        log_p = np.full(len(table), np.nan)
        # Only where it applies: the forest's descent is the costliest step of ranking.
        features = series_features(table)[rising]
        if len(features):
            log_p[rising] = np.log(self.pvalues(features))
        return log_p

    def signals(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        return {"isolation": table[self.pvalue_column].to_numpy() <= ISOLATION_P}

    def to_state(self) -> DetectorState:
        arrays = {f"forest.{name}": value for name, value in self.forest_arrays_.items()}
        arrays["training_scores"] = self.training_scores_
        return DetectorState(params=self.get_params(), arrays=arrays)

    @classmethod
    def from_state(cls, state: DetectorState, config: DetectionConfig) -> Self:
        detector = cls(config, **state.params)
        forest = {
            name.removeprefix("forest."): value
            for name, value in state.arrays.items()
            if name.startswith("forest.")
        }
        IsolationForestArrays(forest)  # refuses missing arrays or broken trees now
        detector.forest_arrays_ = forest
        detector.training_scores_ = state.arrays["training_scores"]
        return detector
