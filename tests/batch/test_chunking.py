"""What partitioned scoring relies on: a series' numbers do not depend on its company.

Every per-series quantity must come out bit for bit the same whether a series is
forecast alone, in a partition, or among all the others; a method that adapts to the
values it is given (a grid over their range, a sample of them) would break that.
"""

from __future__ import annotations

import numpy as np

from .conftest import SCORE


def test_a_forecast_does_not_depend_on_the_other_series_in_the_call(model):
    forecaster = model.forecaster_
    rows = np.arange(len(model.keys_))
    alone = forecaster.predict(*SCORE, series=rows[:40])
    # Many more values than any block or table size, spanning every series' scale.
    crowd = forecaster.predict(*SCORE, series=np.concatenate([rows[:40], np.tile(rows, 4)]))
    actual = np.linspace(0.0, 1e6, alone.mean.size).reshape(alone.mean.shape)
    np.testing.assert_array_equal(alone.mean, crowd.mean[:40])
    np.testing.assert_array_equal(alone.std, crowd.std[:40])
    for bound_alone, bound_crowd in zip(alone.interval(0.9), crowd.interval(0.9), strict=True):
        np.testing.assert_array_equal(bound_alone, bound_crowd[:40])
    np.testing.assert_array_equal(
        alone.z(actual), crowd.z(np.vstack([actual, crowd.mean[40:]]))[:40]
    )
