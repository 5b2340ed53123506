"""Residual detector: each series' scoring window against its predictive distribution."""

from __future__ import annotations

import numpy as np
import pytest

from anomaly.detect import residual_summary

from .conftest import draws, hurdle_forecast


def all_published(n_series: int, n_months: int) -> np.ndarray:
    return np.ones((n_series, n_months), dtype=bool)


def test_actual_at_the_forecast_median_has_zero_z():
    forecast = hurdle_forecast(3, 12, median=[10.0, 1e4, 1e7])
    summary = residual_summary(forecast, forecast.quantile(0.5), all_published(3, 12))
    np.testing.assert_allclose(summary["z_months"], 0.0, atol=1e-9)
    np.testing.assert_allclose(summary["stouffer_z"], 0.0, atol=1e-9)
    assert summary["persistence"].tolist() == [0, 0, 0]
    assert summary["onset"].tolist() == [-1, -1, -1]


def test_a_sustained_surge_has_a_large_positive_z_and_a_collapse_a_negative_one():
    forecast = hurdle_forecast(2, 12, median=1000.0, scale=0.3)
    actual = np.array([[3000.0] * 12, [100.0] * 12])
    summary = residual_summary(forecast, actual, all_published(2, 12))
    assert summary["stouffer_z"][0] > 10
    assert summary["stouffer_z"][1] < -10
    assert summary["persistence"].tolist() == [12, 0]


def test_persistence_and_onset_describe_the_longest_run_above_the_band():
    forecast = hurdle_forecast(1, 10, median=1000.0, scale=0.3)
    upper = forecast.interval(0.9)[1][0, 0]
    above = [False, True, True, False, True, True, True, False, True, False]
    actual = np.where(above, 2 * upper, 1000.0)[None, :]
    summary = residual_summary(forecast, actual, all_published(1, 10))
    assert int(summary["persistence"][0]) == 3
    assert int(summary["onset"][0]) == 4


def test_a_run_ending_in_the_last_month_is_measured_to_the_end():
    forecast = hurdle_forecast(1, 6, median=1000.0, scale=0.3)
    upper = forecast.interval(0.9)[1][0, 0]
    actual = np.array([[1000.0, 1000.0, 1000.0, 2 * upper, 2 * upper, 2 * upper]])
    summary = residual_summary(forecast, actual, all_published(1, 6))
    assert (int(summary["persistence"][0]), int(summary["onset"][0])) == (3, 3)


def test_window_totals_and_excess_value_are_sums_over_published_months():
    forecast = hurdle_forecast(1, 4, median=1000.0, scale=0.2)
    actual = np.array([[1500.0, 0.0, 2500.0, 0.0]])
    published = np.array([[True, True, True, False]])
    summary = residual_summary(forecast, actual, published)
    assert summary["actual"][0] == pytest.approx(4000.0)
    assert summary["expected"][0] == pytest.approx(forecast.mean[0, :3].sum())
    assert summary["excess_value"][0] == pytest.approx(4000.0 - forecast.mean[0, :3].sum())
    assert int(summary["n_months"][0]) == 3


def test_unpublished_months_are_missing_not_zero_trade():
    forecast = hurdle_forecast(2, 6, median=1000.0, scale=0.3)
    actual = np.zeros((2, 6))
    published = np.array([[True, True, True, False, False, False], [False] * 6])
    summary = residual_summary(forecast, actual, published)
    assert np.isnan(summary["z_months"][0, 3:]).all()
    assert np.isfinite(summary["z_months"][0, :3]).all()
    # a reporter that published nothing has no evidence at all, not a collapse
    assert np.isnan(summary["stouffer_z"][1])
    assert summary["expected"][1] == 0.0
    assert int(summary["n_months"][1]) == 0


def test_stouffer_z_combines_only_the_published_months():
    forecast = hurdle_forecast(1, 4, median=1000.0, scale=0.3)
    actual = np.array([[3000.0, 3000.0, 0.0, 0.0]])
    published = np.array([[True, True, False, False]])
    summary = residual_summary(forecast, actual, published)
    z = summary["z_months"][0, :2]
    assert summary["stouffer_z"][0] == pytest.approx(z.sum() / np.sqrt(2))


def test_the_demand_factor_scales_the_counterfactual():
    forecast = hurdle_forecast(2, 12, median=1000.0, scale=0.3)
    actual = 2.5 * forecast.quantile(0.5)
    factor = np.array([2.5, 1.0])
    summary = residual_summary(forecast, actual, all_published(2, 12), demand_factor=factor)
    # a destination whose imports of everything grew 2.5x: not a deviation once controlled
    assert abs(summary["stouffer_z"][0]) < 1e-6
    assert summary["stouffer_z"][1] > 10
    assert summary["expected"][0] == pytest.approx(2.5 * summary["expected"][1])


def test_monthly_z_is_standard_normal_on_draws_from_the_forecast(rng):
    forecast = hurdle_forecast(2000, 12, median=rng.lognormal(7, 1, 2000), scale=0.5)
    summary = residual_summary(forecast, draws(forecast, rng), all_published(2000, 12))
    z = summary["z_months"].ravel()
    assert abs(z.mean()) < 0.03
    assert abs(z.std() - 1) < 0.03


def test_window_total_band_holds_about_ninety_percent_of_draws(rng):
    forecast = hurdle_forecast(4000, 12, median=rng.lognormal(7, 1, 4000), scale=0.4, p_nonzero=0.9)
    summary = residual_summary(forecast, draws(forecast, rng), all_published(4000, 12))
    inside = (summary["actual"] >= summary["lower"]) & (summary["actual"] <= summary["upper"])
    assert 0.87 < inside.mean() < 0.93


def test_window_total_band_contains_the_expected_total():
    forecast = hurdle_forecast(3, 12, median=[10.0, 1e3, 1e6], scale=0.8, p_nonzero=0.5)
    summary = residual_summary(forecast, np.zeros((3, 12)), all_published(3, 12))
    assert (summary["lower"] < summary["expected"]).all()
    assert (summary["expected"] < summary["upper"]).all()
    assert (summary["lower"] > 0).all()


def test_a_series_expected_to_have_no_trade_has_an_empty_band():
    forecast = hurdle_forecast(1, 6, p_nonzero=0.0)
    summary = residual_summary(forecast, np.zeros((1, 6)), all_published(1, 6))
    assert (summary["expected"][0], summary["lower"][0], summary["upper"][0]) == (0.0, 0.0, 0.0)
