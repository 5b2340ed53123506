"""The analysts' baselines: pre-war mean and seasonal naive."""

from __future__ import annotations

import numpy as np
import pytest

from anomaly.forecast import (
    UNSEEN,
    EmpiricalForecast,
    PrewarMeanForecaster,
    SeasonalNaiveForecaster,
)


def test_prewar_mean_is_the_training_mean_with_absent_months_as_zero(tiny_panel):
    panel = tiny_panel([[1.0, 3.0, np.nan, 4.0], [np.nan, np.nan, np.nan, 8.0]])
    forecast = PrewarMeanForecaster().fit(panel).predict("2021-05", "2021-07")
    assert isinstance(forecast, EmpiricalForecast)
    np.testing.assert_allclose(forecast.mean, [[2.0] * 3, [2.0] * 3])


def test_prewar_mean_uses_only_the_training_window(simulated):
    sim = simulated(30, seed=30)
    model = PrewarMeanForecaster().fit(sim.panel, "2019-01", "2021-12")
    expected = np.nan_to_num(sim.panel.window("2019-01", "2021-12").values).mean(axis=1)
    forecast = model.predict("2022-01", "2022-12")
    np.testing.assert_allclose(forecast.mean, np.repeat(expected[:, None], 12, axis=1))


def test_prewar_mean_interval_is_the_range_of_the_training_months(tiny_panel):
    panel = tiny_panel([np.arange(1.0, 101.0)], start="2013-01")
    lower, upper = PrewarMeanForecaster().fit(panel).predict("2021-05", "2021-05").interval(0.9)
    months = np.arange(1.0, 101.0)
    assert lower[0, 0] == pytest.approx(np.quantile(months, 0.05))
    assert upper[0, 0] == pytest.approx(np.quantile(months, 0.95))


def test_prewar_mean_expects_zero_for_unseen_series(tiny_panel):
    panel = tiny_panel([[1.0, 3.0, 5.0]])
    forecast = (
        PrewarMeanForecaster().fit(panel).predict("2021-04", "2021-05", np.array([UNSEEN, 0]))
    )
    np.testing.assert_array_equal(forecast.mean, [[0.0, 0.0], [3.0, 3.0]])
    assert forecast.interval(0.9)[1][0].tolist() == [0.0, 0.0]


def test_seasonal_naive_repeats_last_years_month(tiny_panel):
    year = np.array([5.0, 1.0, 2.0, 3.0, 4.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0])
    panel = tiny_panel([np.tile(year, 3)], start="2019-01")  # perfectly seasonal: no errors
    forecast = SeasonalNaiveForecaster().fit(panel).predict("2022-01", "2023-12")
    np.testing.assert_array_equal(forecast.mean, [np.tile(year, 2)])
    np.testing.assert_array_equal(forecast.interval(0.9)[1], [np.tile(year, 2)])


def test_seasonal_naive_starting_mid_year_reads_the_right_calendar_month(tiny_panel):
    # Training Apr 2020 .. Mar 2022: forecast May 2022 is May 2021's value.
    values = np.arange(24, dtype=np.float64) * 12  # distinct, growing by 144 a year
    panel = tiny_panel([values], start="2020-04")
    model = SeasonalNaiveForecaster().fit(panel)
    point = model.predict("2022-05", "2022-05").point
    may_2021 = panel.month_index("2021-05")
    assert point[0, 0] == values[may_2021]


def test_seasonal_naive_spread_comes_from_past_yearly_differences(tiny_panel):
    rng = np.random.default_rng(31)
    values = 100 + rng.normal(0, 10, size=60)
    panel = tiny_panel([values], start="2017-01")
    forecast = SeasonalNaiveForecaster().fit(panel).predict("2022-01", "2022-01")
    differences = values[12:] - values[:-12]
    expected = np.quantile(values[48] + differences, [0.05, 0.95])
    np.testing.assert_allclose(np.ravel(forecast.interval(0.9)), expected)


@pytest.mark.parametrize("months", [1, 12])
def test_seasonal_naive_refuses_under_thirteen_training_months(tiny_panel, months):
    panel = tiny_panel([np.ones(months)])
    with pytest.raises(ValueError, match="more than 12 training months"):
        SeasonalNaiveForecaster().fit(panel)


def test_seasonal_naive_accepts_thirteen_months(tiny_panel):
    panel = tiny_panel([np.arange(1.0, 14.0)])
    forecast = SeasonalNaiveForecaster().fit(panel).predict("2022-02", "2022-02")
    assert forecast.point[0, 0] == 2.0  # Feb 2021
    assert forecast.mean[0, 0] == 14.0  # plus the one yearly difference, +12


def test_baselines_report_one_row_per_series(tiny_panel):
    panel = tiny_panel(np.ones((3, 14)))
    for model in (PrewarMeanForecaster(), SeasonalNaiveForecaster()):
        info = model.fit(panel).series_info_
        assert len(info) == 3 and (info["reason"] == "baseline").all()
        assert info["n_nonzero"].tolist() == [14, 14, 14]
