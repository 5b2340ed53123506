"""The default forecaster fitted over partitions on disk equals its in-memory fit.

Per-series passes run on each partition; sums over series are added partition by
partition, so the last bits may differ: the same tolerance as chunks of one matrix
(``test_chunked_fit_equals_unchunked_fit``).
"""

from __future__ import annotations

import numpy as np
import pytest

from anomaly import build_panel
from anomaly.batch.engines import LocalEngine
from anomaly.batch.partition import pair_partitions
from anomaly.batch.train_rows import PartitionRows, PartitionSlice
from anomaly.forecast import UNSEEN, PooledForecaster
from anomaly.forecast.publication import declared_rows, unpublished_months
from anomaly.simulate import simulate_world

TRAIN = ("2016-01", "2021-12")
#: Absolute tolerance on every fitted number (as for chunks of one matrix).
ATOL = 1e-10


@pytest.fixture(scope="module")
def panel():
    return build_panel(simulate_world(300, seed=4).flows)


def partition_rows(panel, runner, folder, n_partitions=3):
    """The panel's training window as :class:`PartitionRows` over ``n_partitions``
    matrices on disk (each holding its series over all of the panel's months)."""
    part = pair_partitions(panel.keys["reporter"], panel.keys["partner"], n_partitions)
    lo = panel.month_index(TRAIN[0])
    hi = panel.month_index(TRAIN[1]) + 1
    slices, positions = [], []
    for index in range(n_partitions):
        rows = np.flatnonzero(part == index)
        path = folder / f"values-{index}.npy"
        np.save(path, panel.values[rows])
        slices.append(PartitionSlice(str(path), np.arange(len(rows)), (lo, hi)))
        positions.append(rows)
    return PartitionRows(runner, slices, positions)


def unpublished(train):
    """The months each series' reporter did not publish (the world has reporters that
    start after the window does)."""
    found = unpublished_months(*declared_rows(train, train.periods[0], train.periods[-1]))
    assert found is not None
    return found


@pytest.mark.parametrize("jobs", [1, 2])
def test_forecaster_fitted_over_partitions_equals_the_in_memory_fit(panel, tmp_path, jobs):
    expected = PooledForecaster().fit(panel, *TRAIN)
    train = panel.window(*TRAIN)
    with LocalEngine(jobs) as runner:
        rows = partition_rows(panel, runner, tmp_path)
        fitted = PooledForecaster().fit_rows(rows, train.keys, train.periods, unpublished(train))
    assert fitted.state_.keys() == expected.state_.keys()
    for name, array in expected.state_.items():
        np.testing.assert_allclose(fitted.state_[name], array, rtol=0, atol=ATOL, err_msg=name)
    assert fitted.series_info_.equals(expected.series_info_)
    assert fitted.train_periods_.equals(expected.train_periods_)
    series = np.array([UNSEEN, *range(panel.n_series)])
    a, b = (
        fitted.predict("2022-01", "2022-12", series),
        expected.predict("2022-01", "2022-12", series),
    )
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-10, atol=ATOL)


def test_calibration_sample_is_the_in_memory_rows_in_order(panel, tmp_path):
    train = np.nan_to_num(panel.window(*TRAIN).values)
    with LocalEngine(1) as runner:
        rows = partition_rows(panel, runner, tmp_path, n_partitions=4)
        np.testing.assert_array_equal(rows.sample, train)
        gathered = rows.gather([np.full(len(p), i) for i, p in enumerate(rows.positions)])
    part = pair_partitions(panel.keys["reporter"], panel.keys["partner"], 4)
    np.testing.assert_array_equal(gathered, part)
