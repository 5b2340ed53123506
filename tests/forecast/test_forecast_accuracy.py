"""anomaly.forecast.accuracy: the forecast metrics' home, re-exported by anomaly.evaluate."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import anomaly.evaluate
import anomaly.evaluate.forecast_metrics
from anomaly.errors import DataError
from anomaly.forecast import accuracy

METRICS = accuracy.__all__


def test_docstring_examples():
    result = doctest.testmod(accuracy, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("name", METRICS)
def test_evaluate_reexports_the_same_function(name):
    # Re-exported, not copied: one definition, so the numbers cannot drift apart.
    assert getattr(anomaly.evaluate, name) is getattr(accuracy, name)
    assert getattr(anomaly.evaluate.forecast_metrics, name) is getattr(accuracy, name)
    assert getattr(accuracy, name).__module__ == "anomaly.forecast.accuracy"


def test_pooled_forecaster_scores_with_the_forecast_layer_metric():
    from anomaly.forecast import pooled

    assert pooled.rmsse is accuracy.rmsse


def test_pinball_loss_hand_computed():
    # Under the quantile the loss is (1 - q) per unit, above it q per unit.
    result = accuracy.pinball_loss([[0.0, 10.0, 4.0]], [[4.0, 4.0, 4.0]], q=0.05)
    assert result == pytest.approx(np.array([[3.8, 0.3, 0.0]]))


def test_pinball_loss_at_the_median_is_half_the_absolute_error():
    rng = np.random.default_rng(0)
    actual, forecast = rng.gamma(2.0, 10.0, size=(2, 5, 7))
    assert accuracy.pinball_loss(actual, forecast, q=0.5) == pytest.approx(
        0.5 * np.abs(actual - forecast)
    )


def test_pinball_loss_is_minimised_by_the_true_quantile():
    rng = np.random.default_rng(1)
    sample = rng.lognormal(0.0, 1.0, size=(1, 20_000))
    true = np.quantile(sample, 0.95)
    losses = [
        np.mean(accuracy.pinball_loss(sample, np.full_like(sample, true * f), q=0.95))
        for f in (0.8, 1.0, 1.25)
    ]
    assert losses[1] < min(losses[0], losses[2])


def test_pinball_loss_rejects_bad_levels_and_shapes():
    with pytest.raises(ValueError, match="q must be in"):
        accuracy.pinball_loss([[1.0]], [[1.0]], q=1.0)
    with pytest.raises(DataError):
        accuracy.pinball_loss([[1.0, 2.0]], [[1.0]], q=0.5)


def test_scaled_pinball_uses_the_mase_scale_and_skips_unobserved_months():
    train = [[1.0, 3.0, 2.0, 4.0]]
    actual = [[3.0, np.nan, 1.0, 7.0]]
    quantile = [[2.0, 99.0, 2.0, 2.0]]
    # Losses 0.9, 0.1, 4.5 over the observed months; scale mean(|2|, |-1|, |2|) = 5/3.
    result = accuracy.scaled_pinball(actual, quantile, train, q=0.9)
    assert result == pytest.approx([(0.9 + 0.1 + 4.5) / 3 / (5 / 3)])
    # At the median it is half the MASE of the same forecast.
    median = accuracy.scaled_pinball(actual, quantile, train, q=0.5)
    assert median == pytest.approx(0.5 * accuracy.mase(actual, quantile, train))


def test_scaled_pinball_nan_for_a_constant_training_series():
    result = accuracy.scaled_pinball([[3.0]], [[2.0]], [[7.0, 7.0, 7.0]], q=0.5)
    assert np.isnan(result).all()
