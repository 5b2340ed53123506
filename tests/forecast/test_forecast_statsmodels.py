"""statsmodels references (ETS, unobserved components): finite, fall back, parallel = serial."""

from __future__ import annotations

import numpy as np
import pytest

from anomaly.errors import DataError
from anomaly.forecast import ETSForecaster, UnobservedComponentsForecaster

MODELS = [ETSForecaster, UnobservedComponentsForecaster]
TRAIN_END = "2019-12"
TEST = ("2020-01", "2020-12")


@pytest.fixture(scope="module")
def six_series(simulated, replace_values):
    """Five regular simulated series and one with only two months of trade."""
    sim = simulated(6, n_months=72, seed=40)
    values = sim.panel.values.copy()
    values[5] = np.nan
    values[5, [3, 40]] = 1_000.0
    return sim, replace_values(sim.panel, values)


@pytest.fixture(scope="module", params=MODELS, ids=lambda cls: cls.__name__)
def serial_fit(request, six_series):
    _, panel = six_series
    return request.param(max_horizon=12).fit(panel, None, TRAIN_END)


def test_forecasts_are_finite_and_near_the_planted_mean(serial_fit, six_series):
    sim, _ = six_series
    forecast = serial_fit.predict(*TEST)
    assert forecast.mean.shape == (6, 12)
    for array in (forecast.mean, forecast.std, *forecast.interval(0.9)):
        assert np.isfinite(array).all()
    ratio = forecast.mean[:5].mean(axis=1) / sim.true_mean[:5, -12:].mean(axis=1)
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio


def test_series_with_two_months_of_trade_falls_back_and_says_so(serial_fit, six_series):
    _, panel = six_series
    info = serial_fit.series_info_
    assert len(info) == 6
    assert (info["model"].iloc[:5] == serial_fit.model_name).all()
    assert (info["reason"].iloc[:5] == "fitted").all()
    assert info["model"].iloc[5] == "mean fallback"
    assert "fewer than 4 months" in info["reason"].iloc[5]
    assert info["n_nonzero"].iloc[5] == 2
    training = np.nan_to_num(panel.window(None, TRAIN_END).values[5])
    np.testing.assert_allclose(serial_fit.state_["loc"][5], training.mean())


def test_parallel_chunked_fit_equals_serial_fit(serial_fit, six_series):
    _, panel = six_series
    parallel = type(serial_fit)(max_horizon=12, n_jobs=2, chunk_size=2).fit(panel, None, TRAIN_END)
    for name in ("loc", "scale"):
        np.testing.assert_allclose(parallel.state_[name], serial_fit.state_[name], rtol=1e-10)
    assert parallel.series_info_.equals(serial_fit.series_info_)


def test_horizons_beyond_the_fitted_table_are_refused(serial_fit):
    with pytest.raises(DataError, match="max_horizon"):
        serial_fit.predict("2020-01", "2021-01")


def test_unseen_rows_get_a_finite_forecast(serial_fit):
    forecast = serial_fit.predict(*TEST, series=np.array([-1, 2]))
    assert np.isfinite(forecast.mean).all()
    np.testing.assert_allclose(forecast.mean[1], serial_fit.predict(*TEST).mean[2])
