"""Isolation-forest detector: the protocol, calibrated p-values, state round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kstest

from anomaly.detect import (
    FEATURES,
    DetectionConfig,
    Detector,
    IsolationForestDetector,
    PlaceboEvidence,
    series_features,
)
from anomaly.errors import NotFittedError


@pytest.fixture(scope="module")
def training() -> np.ndarray:
    return np.random.default_rng(7).normal(size=(2000, 3))


@pytest.fixture(scope="module")
def detector(training) -> IsolationForestDetector:
    return IsolationForestDetector(n_estimators=100, random_state=3).fit_features(training)


def test_it_follows_the_detector_protocol(detector):
    assert isinstance(detector, Detector)
    assert detector.pvalue_column == "p_isolation"
    assert detector.signal_names == ("isolation",)


def test_fit_returns_self_and_keeps_the_parameters_as_given(training):
    detector = IsolationForestDetector(n_estimators=20, max_samples=64, random_state=1)
    assert detector.fit_features(training) is detector
    assert detector.get_params() == {"n_estimators": 20, "max_samples": 64, "random_state": 1}


def test_learned_state_lives_in_attributes_ending_in_an_underscore(training):
    detector = IsolationForestDetector(n_estimators=10)
    before = set(vars(detector))
    detector.fit_features(training)
    learned = set(vars(detector)) - before
    assert learned == {"forest_arrays_", "training_scores_"}
    assert all(not name.endswith("_") for name in before)


def test_clone_gives_an_unfitted_copy_with_the_same_parameters(detector):
    copy = detector.clone()
    assert copy.get_params() == detector.get_params()
    assert not hasattr(copy, "training_scores_")
    other = DetectionConfig(signal_z=3.0)
    assert detector.clone(other).config is other


def test_higher_isolation_means_more_anomalous_and_a_smaller_p_value(detector):
    rows = np.array([[0.0, 0.0, 0.0], [1.5, 1.5, 1.5], [8.0, -8.0, 8.0]])
    isolation = detector.isolation(rows)
    assert isolation[0] < isolation[1] < isolation[2]
    p = detector.pvalues(rows)
    assert p[0] > p[1] >= p[2]
    assert p[2] == pytest.approx(1 / (1 + len(detector.training_scores_)))


def test_pvalues_are_uniform_on_fresh_training_like_data(detector):
    fresh = np.random.default_rng(8).normal(size=(4000, 3))
    p = detector.pvalues(fresh)
    assert kstest(p, "uniform").statistic < 0.04
    for level in (0.01, 0.05, 0.2):
        assert (p <= level).mean() == pytest.approx(level, rel=0.3)


def test_the_same_seed_gives_the_same_scores_and_another_seed_other_scores(training):
    rows = training[:50]
    first = IsolationForestDetector(n_estimators=20, random_state=5).fit_features(training)
    again = IsolationForestDetector(n_estimators=20, random_state=5).fit_features(training)
    other = IsolationForestDetector(n_estimators=20, random_state=6).fit_features(training)
    np.testing.assert_array_equal(first.isolation(rows), again.isolation(rows))
    assert not np.array_equal(first.isolation(rows), other.isolation(rows))


def test_a_detector_restored_from_its_state_scores_the_same(detector, training):
    restored = IsolationForestDetector.from_state(detector.to_state(), detector.config)
    assert restored.get_params() == detector.get_params()
    rows = training[:100] * 3
    np.testing.assert_array_equal(restored.isolation(rows), detector.isolation(rows))
    np.testing.assert_array_equal(restored.pvalues(rows), detector.pvalues(rows))


def test_scoring_rows_of_another_width_is_refused(detector):
    with pytest.raises(ValueError, match="shape"):
        detector.isolation(np.zeros((2, 4)))


@pytest.mark.parametrize("method", ["isolation", "pvalues"])
def test_methods_before_fit_raise_not_fitted_error(method):
    with pytest.raises(NotFittedError):
        getattr(IsolationForestDetector(), method)(np.zeros((2, 3)))


def test_fit_grows_the_forest_on_the_placebo_and_only_rising_series_get_evidence():
    rng = np.random.default_rng(2)
    n = 400
    placebo = pd.DataFrame(
        {
            "partner": rng.choice(["KGZ", "ARM", "KAZ"], n),
            "flow": "export",
            "hs": rng.choice(["854231", "854232"], n),
            "actual": rng.gamma(2.0, 10.0, n),
            "expected": rng.gamma(2.0, 10.0, n),
            "z": rng.normal(size=n),
            "mirror_z": rng.normal(size=n),
            "persistence": rng.integers(0, 3, n),
            "n_months": 12,
            "onward_z": np.nan,
            "trained_nonzero": 24,
        }
    )
    detector = IsolationForestDetector(n_estimators=30).fit(None, PlaceboEvidence(placebo, None))
    assert len(detector.training_scores_) == n
    table = placebo.head(3).assign(z=[-1.0, 0.5, 9.0], actual=[1.0, 30.0, 5000.0])
    log_p = detector.log_pvalue(table)
    assert np.isnan(log_p[0]) and np.isfinite(log_p[1:]).all()
    assert log_p[2] < log_p[1]
    assert IsolationForestDetector(n_estimators=5).fit(None, None).get_params()["n_estimators"] == 5


def feature_summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "partner": ["KGZ", "KGZ", "ARM"],
            "flow": ["export"] * 3,
            "hs": ["854231"] * 3,
            "actual": [100.0, 0.0, 50.0],
            "expected": [10.0, 0.0, 50.0],
            "z": [6.0, np.nan, 0.0],
            "mirror_z": [np.nan, np.nan, 1.0],
            "persistence": [12, 0, 0],
            "n_months": [12, 0, 12],
            "onward_z": [np.nan, np.nan, np.nan],
            "trained_nonzero": [0, 5, 70],
        }
    )


def test_series_features_are_finite_with_neutral_zeros_where_a_detector_does_not_apply():
    features = series_features(feature_summary())
    assert features.shape == (3, len(FEATURES))
    assert np.isfinite(features).all()
    column = dict(zip(FEATURES, features.T, strict=True))
    np.testing.assert_allclose(column["z"], [6.0, 0.0, 0.0])
    np.testing.assert_allclose(column["mirror_z"], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(column["persistence_share"], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(column["new_flow"], [1.0, 0.0, 0.0])
    assert column["log_growth"][0] == pytest.approx(np.log(101 / 11))
