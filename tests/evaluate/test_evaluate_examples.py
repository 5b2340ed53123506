"""The Examples sections of the public docstrings are run, so they stay true."""

import doctest

import pytest

from anomaly.evaluate import detection_metrics, forecast_metrics


@pytest.mark.parametrize("module", [forecast_metrics, detection_metrics])
def test_docstring_examples(module):
    result = doctest.testmod(module, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
