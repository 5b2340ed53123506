"""The Forecaster contract every model shares: fit/predict, errors, rows and state."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.errors import DataError, NotFittedError
from anomaly.forecast import (
    UNSEEN,
    Forecast,
    PooledForecaster,
    PrewarMeanForecaster,
    SeasonalNaiveForecaster,
)

FAST_MODELS = [PooledForecaster, PrewarMeanForecaster, SeasonalNaiveForecaster]


@pytest.fixture(params=FAST_MODELS, ids=lambda cls: cls.__name__)
def model_class(request):
    return request.param


def test_fit_returns_self_and_predict_gives_a_forecast_per_row_and_month(model_class, simulated):
    sim = simulated(40, n_months=48, seed=50)
    model = model_class()
    assert model.fit(sim.panel) is model
    forecast = model.predict("2019-01", "2019-06")
    assert isinstance(forecast, Forecast)
    assert forecast.periods.equals(pd.period_range("2019-01", "2019-06", freq="M"))
    assert forecast.mean.shape == forecast.std.shape == (40, 6)
    assert len(model.series_info_) == model.n_series_ == 40
    assert (forecast.mean >= 0).all()


def test_a_gap_after_the_training_window_is_allowed(model_class, simulated):
    sim = simulated(20, n_months=48, seed=51)
    model = model_class().fit(sim.panel)
    assert np.isfinite(model.predict("2021-01", "2021-03").mean).all()


def test_predict_before_fit_raises_not_fitted_error(model_class):
    with pytest.raises(NotFittedError):
        model_class().predict("2022-01", "2022-12")


def test_predicting_inside_the_training_window_raises_data_error(model_class, simulated):
    sim = simulated(20, n_months=48, seed=52)
    model = model_class().fit(sim.panel, None, "2017-12")
    with pytest.raises(DataError, match="after the training window"):
        model.predict("2017-12", "2018-03")


def test_unseen_rows_give_finite_forecasts(model_class, simulated):
    sim = simulated(20, n_months=48, seed=53)
    forecast = (
        model_class()
        .fit(sim.panel)
        .predict("2019-01", "2019-03", series=np.array([UNSEEN, 3, UNSEEN]))
    )
    assert forecast.mean.shape == (3, 3)
    for array in (forecast.mean, *forecast.interval(0.9)):
        assert np.isfinite(array).all()


def test_negative_values_are_refused(model_class, tiny_panel):
    panel = tiny_panel([[1.0] * 13 + [-1.0]])
    with pytest.raises(DataError, match=">= 0"):
        model_class().fit(panel)


def test_a_panel_without_series_is_refused(model_class, tiny_panel):
    panel = tiny_panel(np.ones((1, 24)))
    with pytest.raises(DataError, match="no series"):
        model_class().fit(panel.select(np.array([], dtype=np.int64)))


def test_a_refused_fit_leaves_the_model_unfitted(tiny_panel):
    model = SeasonalNaiveForecaster()
    with pytest.raises(ValueError):
        model.fit(tiny_panel(np.ones((1, 12))))
    with pytest.raises(NotFittedError):
        model.predict("2022-01", "2022-03")


def test_a_refused_refit_keeps_the_previous_fit_consistent(tiny_panel):
    model = SeasonalNaiveForecaster().fit(tiny_panel(np.ones((1, 36)), start="2015-01"))
    with pytest.raises(ValueError):
        model.fit(tiny_panel(np.ones((1, 12)), start="2021-01"))
    # Either the old fit stays whole, or the model is unfitted; never a mix of the two.
    if hasattr(model, "train_periods_"):
        assert str(model.train_periods_[-1]) == "2017-12"
    else:
        with pytest.raises(NotFittedError):
            model.predict("2022-01", "2022-03")
