"""The Examples sections of the public docstrings are run, so they stay true.

The forecast metrics are defined (with their examples) in
:mod:`anomaly.forecast.accuracy`; tests/forecast/test_forecast_accuracy.py runs those.
"""

import doctest

import pytest

from anomaly.evaluate import detection_metrics


@pytest.mark.parametrize("module", [detection_metrics])
def test_docstring_examples(module):
    result = doctest.testmod(module, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
