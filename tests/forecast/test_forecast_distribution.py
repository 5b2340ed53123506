"""Predictive distributions: quantile/cdf consistency, moments, intervals and z scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtri

from anomaly.forecast import (
    ClippedNormalForecast,
    EmpiricalForecast,
    ErrorShape,
    HurdleLogForecast,
)
from anomaly.forecast.distribution import (
    MEAN_GRID,
    PIT_LEVELS,
    Z_LIMIT,
    RecalibratedForecast,
    StratifiedErrorShape,
    pit_recalibration_table,
)

ONE_MONTH = pd.period_range("2022-01", periods=1, freq="M")
THREE_MONTHS = pd.period_range("2022-01", periods=3, freq="M")
N_DRAWS = 400_000


def random_hurdle(rng, n=40, shift=0.0, shape=None) -> HurdleLogForecast:
    return HurdleLogForecast(
        THREE_MONTHS,
        p_nonzero=rng.uniform(0.05, 1.0, (n, 1)),
        loc=rng.uniform(-1.0, 12.0, (n, 3)),
        scale=rng.uniform(0.1, 2.0, (n, 1)),
        shape=shape,
        shift=shift,
    )


def hurdle_draws(rng, p, loc, scale, shift=0.0, errors=None) -> np.ndarray:
    """Monte-Carlo draws of the hurdle model, one row per series."""
    n = len(p)
    if errors is None:
        errors = rng.normal(size=(n, N_DRAWS))
    positive = np.maximum(np.exp(loc + scale * errors) - shift, 0.0)
    return np.where(rng.random((n, N_DRAWS)) < p, positive, 0.0)


def skewed_shape(seed=0) -> ErrorShape:
    """A left-skewed error shape like that of monthly trade in logs."""
    return ErrorShape.from_sample(-np.random.default_rng(seed).gumbel(size=100_000))


# -- HurdleLogForecast ---------------------------------------------------------------


@pytest.mark.parametrize("shift", [0.0, 1.0])
@pytest.mark.parametrize("use_shape", [False, True])
def test_hurdle_quantile_and_cdf_are_inverse(shift, use_shape):
    rng = np.random.default_rng(1)
    forecast = random_hurdle(rng, shift=shift, shape=skewed_shape() if use_shape else None)
    q = rng.uniform(0.001, 0.999, (40, 3))
    x = forecast.quantile(q)
    below, at_or_below = forecast.cdf(x)
    assert np.all(below <= q + 1e-9) and np.all(q <= at_or_below + 1e-9)
    positive = x > 0
    np.testing.assert_allclose(at_or_below[positive], q[positive], atol=1e-7)
    # ...and from the value side: a positive value is the quantile of its own CDF.
    values = np.exp(rng.uniform(0.0, 14.0, (40, 3)))
    _, level = forecast.cdf(values)
    inside = (level > 1e-6) & (level < 1 - 1e-6) & (level > 1 - forecast.p_nonzero + 1e-6)
    np.testing.assert_allclose(
        forecast.quantile(np.where(inside, level, 0.5))[inside], values[inside], rtol=1e-5
    )


def test_hurdle_quantile_and_cdf_at_zero_carry_the_no_trade_mass():
    forecast = HurdleLogForecast(
        ONE_MONTH, p_nonzero=np.array([[0.3]]), loc=np.zeros((1, 1)), scale=np.ones((1, 1))
    )
    assert forecast.quantile(0.69)[0, 0] == 0.0
    assert forecast.quantile(0.71)[0, 0] > 0.0
    below, at_or_below = forecast.cdf(np.zeros((1, 1)))
    assert below[0, 0] == 0.0
    assert at_or_below[0, 0] == pytest.approx(0.7)
    assert forecast.pit(np.zeros((1, 1)))[0, 0] == pytest.approx(0.35)


@pytest.mark.parametrize("shift", [0.0, 1.0])
def test_hurdle_mean_matches_monte_carlo_within_one_percent(shift):
    rng = np.random.default_rng(2)
    p = np.array([[1.0], [0.5], [0.8], [0.3]])
    loc = np.array([[0.0], [2.0], [5.0], [0.5]])
    scale = np.array([[0.5], [1.0], [0.8], [0.6]])
    forecast = HurdleLogForecast(ONE_MONTH, p_nonzero=p, loc=loc, scale=scale, shift=shift)
    draws = hurdle_draws(rng, p, loc, scale, shift=shift)
    np.testing.assert_allclose(forecast.mean[:, 0], draws.mean(axis=1), rtol=0.01)


def test_hurdle_std_matches_monte_carlo_without_shift():
    rng = np.random.default_rng(3)
    p = np.array([[1.0], [0.5], [0.8]])
    loc, scale = np.array([[0.0], [2.0], [5.0]]), np.array([[0.5], [0.7], [0.3]])
    forecast = HurdleLogForecast(ONE_MONTH, p_nonzero=p, loc=loc, scale=scale)
    draws = hurdle_draws(rng, p, loc, scale)
    np.testing.assert_allclose(forecast.std[:, 0], draws.std(axis=1), rtol=0.02)


def test_hurdle_mean_with_a_skewed_error_shape_matches_monte_carlo():
    rng = np.random.default_rng(4)
    shape = skewed_shape()
    p, loc, scale = np.array([[0.6], [1.0]]), np.array([[3.0], [7.0]]), np.array([[0.5], [0.3]])
    forecast = HurdleLogForecast(ONE_MONTH, p_nonzero=p, loc=loc, scale=scale, shape=shape)
    errors = shape.quantile(rng.random((2, N_DRAWS)))
    draws = hurdle_draws(rng, p, loc, scale, errors=errors)
    np.testing.assert_allclose(forecast.mean[:, 0], draws.mean(axis=1), rtol=0.01)


def test_hurdle_mean_factor_replaces_the_shape_implied_factor():
    forecast = HurdleLogForecast(
        ONE_MONTH,
        p_nonzero=np.array([[0.5]]),
        loc=np.array([[2.0]]),
        scale=np.array([[1.0]]),
        mean_factor=np.array([[1.5]]),
    )
    assert forecast.mean[0, 0] == pytest.approx(0.5 * np.exp(2.0) * 1.5)


def test_interval_of_a_half_empty_hurdle_is_zero_to_the_ninety_percent_quantile():
    rng = np.random.default_rng(5)
    p, loc, scale = np.array([[0.5]]), np.array([[3.0]]), np.array([[0.8]])
    forecast = HurdleLogForecast(ONE_MONTH, p_nonzero=p, loc=loc, scale=scale)
    lower, upper = forecast.interval(0.9)
    assert lower[0, 0] == 0.0
    assert upper[0, 0] == pytest.approx(forecast.quantile(0.9)[0, 0])
    assert upper[0, 0] == pytest.approx(np.exp(3.0 + 0.8 * ndtri(0.8)))
    draws = hurdle_draws(rng, p, loc, scale)[0]
    inside = ((draws >= lower[0, 0]) & (draws <= upper[0, 0])).mean()
    assert inside == pytest.approx(0.9, abs=0.003)


def test_interval_of_a_continuous_hurdle_is_equal_tailed():
    rng = np.random.default_rng(6)
    p, loc, scale = np.array([[1.0]]), np.array([[3.0]]), np.array([[0.8]])
    forecast = HurdleLogForecast(ONE_MONTH, p_nonzero=p, loc=loc, scale=scale)
    lower, upper = forecast.interval(0.8)
    draws = hurdle_draws(rng, p, loc, scale)[0]
    assert (draws < lower[0, 0]).mean() == pytest.approx(0.1, abs=0.003)
    assert (draws > upper[0, 0]).mean() == pytest.approx(0.1, abs=0.003)


@pytest.mark.parametrize("coverage", [0.0, 1.0, 1.5])
def test_interval_coverage_outside_zero_one_is_refused(coverage):
    forecast = random_hurdle(np.random.default_rng(7), n=2)
    with pytest.raises(ValueError, match="coverage"):
        forecast.interval(coverage)


@pytest.mark.parametrize("level", [0.0, 1.0, -0.1])
def test_quantile_levels_outside_zero_one_are_refused(level):
    forecast = random_hurdle(np.random.default_rng(8), n=2)
    with pytest.raises(ValueError, match="strictly between"):
        forecast.quantile(level)


def test_z_of_the_median_is_zero_and_grows_with_the_actual():
    forecast = HurdleLogForecast(
        ONE_MONTH, p_nonzero=np.ones((1, 1)), loc=np.full((1, 1), 4.0), scale=np.ones((1, 1))
    )
    median = forecast.quantile(0.5)
    assert abs(forecast.z(median)[0, 0]) < 1e-9
    actuals = np.exp(np.linspace(0.0, 8.0, 50))[None, :]
    wide = HurdleLogForecast(
        pd.period_range("2022-01", periods=50, freq="M"),
        p_nonzero=np.ones((1, 1)),
        loc=np.full((1, 1), 4.0),
        scale=np.ones((1, 1)),
    )
    z = wide.z(actuals)[0]
    assert np.all(np.diff(z) > 0)
    np.testing.assert_allclose(z, np.log(actuals[0]) - 4.0, atol=1e-9)


def test_z_is_clipped_finite_and_nan_where_not_reported():
    forecast = HurdleLogForecast(
        THREE_MONTHS, p_nonzero=np.ones((1, 1)), loc=np.zeros((1, 1)), scale=np.ones((1, 1))
    )
    z = forecast.z(np.array([[1e300, 1e-300, np.nan]]))
    assert z[0, 0] == pytest.approx(Z_LIMIT, abs=0.01)
    assert z[0, 1] == pytest.approx(-Z_LIMIT, abs=0.01)
    assert np.isnan(z[0, 2])
    assert np.isnan(forecast.pit(np.array([[1.0, np.nan, 1.0]])))[0, 1]


def test_z_of_no_trade_under_a_hurdle_is_the_middle_of_the_atom():
    forecast = HurdleLogForecast(
        ONE_MONTH, p_nonzero=np.array([[0.4]]), loc=np.zeros((1, 1)), scale=np.ones((1, 1))
    )
    assert forecast.z(np.zeros((1, 1)))[0, 0] == pytest.approx(ndtri(0.3))


# -- ErrorShape ----------------------------------------------------------------------


def test_error_shape_quantile_and_cdf_are_inverse_also_in_the_tails():
    shape = skewed_shape(1)
    u = np.concatenate([np.random.default_rng(9).random(1000), [1e-9, 1e-4, 0.999, 1 - 1e-9]])
    np.testing.assert_allclose(shape.cdf(shape.quantile(u)), u, rtol=1e-6, atol=1e-12)
    x = np.linspace(-15.0, 6.0, 500)
    np.testing.assert_allclose(shape.quantile(shape.cdf(x)), x, atol=1e-5)


def test_error_shape_of_a_normal_sample_is_close_to_standard_normal():
    shape = ErrorShape.from_sample(np.random.default_rng(10).normal(size=200_000))
    levels = np.array([0.025, 0.1, 0.5, 0.9, 0.975])
    np.testing.assert_allclose(shape.quantile(levels), ndtri(levels), atol=0.03)
    assert shape.quantile(np.array(0.5)) == pytest.approx(0.0, abs=1e-2)
    assert shape.mean_exp(np.array(0.5)) == pytest.approx(np.exp(0.125), rel=0.01)


def test_error_shape_mean_exp_matches_its_own_distribution_at_scale_one():
    shape = ErrorShape.from_sample(np.random.default_rng(11).normal(size=200_000))
    u = (np.arange(2_000_000) + 0.5) / 2_000_000  # midpoint rule over the levels
    exact = np.exp(shape.quantile(u)).mean()
    assert shape.mean_exp(np.array(1.0)) == pytest.approx(exact, rel=0.01)


def test_error_shape_mean_exp_interpolates_its_integral_to_float_precision():
    # The sparse stratum's shape of a real model spans -6..11 standard units; a wide
    # skewed shape like it, at tabulation points, between them and outside the table.
    shape = ErrorShape(np.sort(np.random.default_rng(12).gumbel(0, 1.5, 100)))
    scale = np.concatenate(
        [np.random.default_rng(13).uniform(0, 8, 5_000), np.arange(0, 8, 1 / 256), [32.0]]
    )
    grid = shape.quantile((np.arange(MEAN_GRID) + 0.5) / MEAN_GRID)
    integrated = np.exp(np.multiply.outer(scale, grid)).mean(axis=-1)
    np.testing.assert_allclose(shape.mean_exp(scale), integrated, rtol=1e-10)


def test_error_shape_mean_exp_of_a_value_does_not_depend_on_the_others_in_the_call():
    shape = skewed_shape(2)
    alone = [shape.mean_exp(np.array([x]))[0] for x in (0.3, 5.0, 40.0)]
    together = shape.mean_exp(np.array([0.3, 17.0, 5.0, np.nan, 40.0, -1.0]))
    assert together[[0, 2, 4]].tolist() == alone
    assert np.isnan(together[3])
    grid = shape.quantile((np.arange(MEAN_GRID) + 0.5) / MEAN_GRID)
    assert together[5] == pytest.approx(np.exp(-grid).mean(), rel=1e-12)  # integrated


def test_stratified_shape_applies_each_rows_own_stratum():
    shapes = [
        ErrorShape.from_sample(np.random.default_rng(s).normal(0, 1 + s, 50_000)) for s in (0, 1)
    ]
    stratified = StratifiedErrorShape(shapes, np.array([[0], [1], [0]]))
    u = np.full((3, 2), 0.9)
    out = stratified.quantile(u)
    np.testing.assert_array_equal(out[[0, 2]], shapes[0].quantile(u[[0, 2]]))
    np.testing.assert_array_equal(out[1], shapes[1].quantile(u[1]))
    np.testing.assert_allclose(stratified.cdf(out), u, atol=1e-9)


# -- RecalibratedForecast ------------------------------------------------------------


def test_recalibration_with_an_identity_table_equals_its_base():
    rng = np.random.default_rng(12)
    base = random_hurdle(rng)
    strata = rng.integers(0, 2, (40, 1))
    same = RecalibratedForecast(base, strata=strata, tables=np.vstack([PIT_LEVELS, PIT_LEVELS]))
    for level in (0.05, 0.5, 0.95):
        np.testing.assert_allclose(same.quantile(level), base.quantile(level), rtol=1e-12)
    x = base.quantile(rng.uniform(0.01, 0.99, (40, 3)))
    for ours, theirs in zip(same.cdf(x), base.cdf(x), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
    np.testing.assert_array_equal(same.mean, base.mean)
    np.testing.assert_array_equal(same.std, base.std)
    for ours, theirs in zip(same.interval(0.9), base.interval(0.9), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_recalibration_widens_an_overconfident_forecast_to_nominal_coverage():
    rng = np.random.default_rng(13)
    n, months = 2000, 3
    periods = pd.period_range("2022-01", periods=months, freq="M")
    loc = rng.uniform(2, 10, (n, 1))

    def overconfident() -> HurdleLogForecast:  # the truth has scale 1, the model says 0.5
        return HurdleLogForecast(
            periods, p_nonzero=np.ones((n, 1)), loc=loc, scale=np.full((n, 1), 0.5)
        )

    def actuals() -> np.ndarray:
        return np.exp(loc + rng.normal(size=(n, months)))

    table = pit_recalibration_table(overconfident().pit(actuals()))
    fixed = RecalibratedForecast(overconfident(), strata=np.zeros((n, 1), int), tables=table[None])
    test = actuals()
    lower, upper = fixed.interval(0.9)
    assert ((test >= lower) & (test <= upper)).mean() == pytest.approx(0.9, abs=0.02)
    base_lower, base_upper = overconfident().interval(0.9)
    assert ((test >= base_lower) & (test <= base_upper)).mean() < 0.7
    q = rng.uniform(0.05, 0.95, (n, months))
    np.testing.assert_allclose(fixed.cdf(fixed.quantile(q))[1], q, atol=1e-6)


def test_recalibrated_quantile_accepts_one_level_per_series():
    rng = np.random.default_rng(14)
    base = random_hurdle(rng)
    table = np.sort(rng.random(len(PIT_LEVELS)))
    table[0], table[-1] = 0.0, 1.0
    strata = rng.integers(0, 2, (40, 1))
    recal = RecalibratedForecast(base, strata=strata, tables=np.vstack([PIT_LEVELS, table]))
    levels = rng.uniform(0.1, 0.9, (40, 1))
    per_series = recal.quantile(levels)
    for i in (0, 7, 39):
        np.testing.assert_allclose(per_series[i], recal.quantile(float(levels[i, 0]))[i])


# -- ClippedNormalForecast -----------------------------------------------------------


def test_clipped_normal_mean_and_std_match_monte_carlo():
    rng = np.random.default_rng(15)
    loc = np.array([[10.0], [0.0], [-1.0], [3.0]])
    scale = np.array([[1.0], [2.0], [1.0], [5.0]])
    forecast = ClippedNormalForecast(ONE_MONTH, loc=loc, scale=scale)
    draws = np.maximum(loc + scale * rng.normal(size=(4, N_DRAWS)), 0.0)
    np.testing.assert_allclose(forecast.mean[:, 0], draws.mean(axis=1), rtol=0.01)
    np.testing.assert_allclose(forecast.std[:, 0], draws.std(axis=1), rtol=0.01)


def test_clipped_normal_puts_the_negative_mass_at_zero():
    forecast = ClippedNormalForecast(ONE_MONTH, loc=np.array([[-1.0]]), scale=np.ones((1, 1)))
    below, at_or_below = forecast.cdf(np.zeros((1, 1)))
    assert below[0, 0] == 0.0 and at_or_below[0, 0] == pytest.approx(0.8413, abs=1e-4)
    assert forecast.quantile(0.8)[0, 0] == 0.0
    lower, upper = forecast.interval(0.9)
    assert lower[0, 0] == 0.0 and upper[0, 0] == pytest.approx(-1.0 + ndtri(0.9))


# -- EmpiricalForecast ---------------------------------------------------------------


def ragged_empirical(rng, spread=4.0) -> tuple[EmpiricalForecast, np.ndarray, list[np.ndarray]]:
    """Four series with 12, 5, 1 and 30 past errors (NaN padded)."""
    point = rng.uniform(0.0, 10.0, (4, 3))
    lengths = [12, 5, 1, 30]
    errors = np.full((4, 30), np.nan)
    for i, length in enumerate(lengths):
        errors[i, :length] = rng.normal(0.0, spread, length)
    own = [errors[i, :length] for i, length in enumerate(lengths)]
    return EmpiricalForecast(THREE_MONTHS, point=point, errors=errors), point, own


@pytest.mark.parametrize("level", [0.05, 0.1, 0.37, 0.5, 0.9, 0.95])
def test_empirical_quantile_equals_numpy_quantile_of_point_plus_errors(level):
    rng = np.random.default_rng(16)
    forecast, point, own = ragged_empirical(rng, spread=0.1)  # no sample below zero
    q = forecast.quantile(level)
    for i, errors in enumerate(own):
        for j in range(3):
            expected = np.quantile(np.maximum(point[i, j] + errors, 0.0), level)
            assert q[i, j] == pytest.approx(expected, abs=1e-12)


def test_empirical_quantile_is_never_negative():
    forecast, _, _ = ragged_empirical(np.random.default_rng(19), spread=20.0)
    for level in (0.01, 0.2, 0.5):
        assert (forecast.quantile(level) >= 0).all()


def test_empirical_quantile_equals_numpy_quantile_when_samples_are_clipped_at_zero():
    forecast = EmpiricalForecast(ONE_MONTH, point=np.array([[0.0]]), errors=np.array([[-1.0, 1.0]]))
    expected = np.quantile(np.maximum(0.0 + np.array([-1.0, 1.0]), 0.0), 0.5)
    assert forecast.quantile(0.5)[0, 0] == pytest.approx(expected)


def test_empirical_mean_std_and_cdf_use_each_series_own_errors():
    rng = np.random.default_rng(17)
    forecast, point, own = ragged_empirical(rng)
    x = rng.uniform(0.0, 10.0, (4, 3))
    below, at_or_below = forecast.cdf(x)
    for i, errors in enumerate(own):
        samples = np.maximum(point[i][:, None] + errors[None, :], 0.0)
        np.testing.assert_allclose(forecast.mean[i], samples.mean(axis=1))
        np.testing.assert_allclose(forecast.std[i], samples.std(axis=1))
        np.testing.assert_allclose(at_or_below[i], (samples <= x[i][:, None]).mean(axis=1))
        np.testing.assert_allclose(below[i], (samples < x[i][:, None]).mean(axis=1))


def test_empirical_forecast_without_errors_is_its_point():
    forecast = EmpiricalForecast(ONE_MONTH, point=np.array([[5.0]]), errors=np.full((1, 4), np.nan))
    assert forecast.mean[0, 0] == 5.0 and forecast.std[0, 0] == 0.0
    assert forecast.quantile(0.05)[0, 0] == 5.0 and forecast.quantile(0.95)[0, 0] == 5.0


def test_empirical_quantile_takes_one_level_at_a_time():
    forecast, _, _ = ragged_empirical(np.random.default_rng(18))
    with pytest.raises(ValueError, match="one quantile level"):
        forecast.quantile(np.array([0.1, 0.9]))
