"""anomaly.forecast.accuracy: the forecast metrics' home, re-exported by anomaly.evaluate."""

from __future__ import annotations

import doctest

import pytest

import anomaly.evaluate
import anomaly.evaluate.forecast_metrics
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
