import numpy as np
import pytest

from anomaly.errors import DataError
from anomaly.evaluate import (
    interval_coverage,
    mase,
    pooled_coverage,
    rmsse,
    scaled_winkler,
    winkler_score,
)

# Training series x = 1, 3, 2, 4: one-step naive errors 2, -1, 2.
#   squared scale  (4 + 1 + 4) / 3 = 3
#   absolute scale (2 + 1 + 2) / 3 = 5/3
TRAIN = np.array([[1.0, 3.0, 2.0, 4.0]])
# Evaluation: actual 5, 6 against forecast 4, 8 -> errors 1, -2.
#   mean squared error  (1 + 4) / 2 = 2.5
#   mean absolute error (1 + 2) / 2 = 1.5
ACTUAL = np.array([[5.0, 6.0]])
FORECAST = np.array([[4.0, 8.0]])


def test_rmsse_hand_computed():
    # sqrt(2.5 / 3)
    np.testing.assert_allclose(rmsse(ACTUAL, FORECAST, TRAIN), [np.sqrt(2.5 / 3)])


def test_mase_hand_computed():
    # 1.5 / (5/3) = 0.9
    np.testing.assert_allclose(mase(ACTUAL, FORECAST, TRAIN), [0.9])


def test_seasonal_scale():
    # season 3 on 1, 2, 3, 2, 4, 6: naive errors 2-1, 4-2, 6-3 = 1, 2, 3
    #   absolute scale 6/3 = 2, squared scale (1 + 4 + 9) / 3 = 14/3.
    # Errors 3-1, 5-5 = 2, 0: MAE 1, MSE 2.
    train = [[1.0, 2.0, 3.0, 2.0, 4.0, 6.0]]
    actual, forecast = [[3.0, 5.0]], [[1.0, 5.0]]
    np.testing.assert_allclose(mase(actual, forecast, train, season=3), [0.5])
    np.testing.assert_allclose(rmsse(actual, forecast, train, season=3), [np.sqrt(2 / (14 / 3))])


def test_vectorised_over_series_matches_one_at_a_time():
    rng = np.random.default_rng(0)
    train = rng.gamma(2.0, 100.0, size=(5, 24))
    actual = rng.gamma(2.0, 100.0, size=(5, 6))
    forecast = actual + rng.normal(0, 30, size=(5, 6))
    together = rmsse(actual, forecast, train, season=12)
    for i in range(5):
        np.testing.assert_allclose(
            together[i], rmsse(actual[i], forecast[i], train[i], season=12)[0]
        )


def test_zero_training_scale_gives_nan_without_warning():
    # A constant series has naive errors 0: the scale is 0 and the metric undefined,
    # while the other series is unaffected.
    train = np.vstack([TRAIN, [[2.0, 2.0, 2.0, 2.0]]])
    actual = np.vstack([ACTUAL, [[2.0, 3.0]]])
    forecast = np.vstack([FORECAST, [[2.0, 2.0]]])
    with np.errstate(all="raise"):
        for metric in (rmsse, mase):
            result = metric(actual, forecast, train)
            assert np.isfinite(result[0])
            assert np.isnan(result[1])


def test_missing_values_in_actual_and_train_are_skipped():
    # Train 1, NaN, 2, 4: only the naive error 4 - 2 = 2 is observed, scale 2.
    # Actual 5, NaN: only the error 5 - 4 = 1 counts. MASE 1/2.
    result = mase([[5.0, np.nan]], [[4.0, 8.0]], [[1.0, np.nan, 2.0, 4.0]])
    np.testing.assert_allclose(result, [0.5])


def test_missing_forecast_at_observed_month_gives_nan():
    assert np.isnan(mase([[5.0, 6.0]], [[4.0, np.nan]], TRAIN)[0])


def test_no_observed_actual_gives_nan():
    assert np.isnan(rmsse([[np.nan, np.nan]], FORECAST, TRAIN)[0])


def test_mismatched_shapes_are_refused():
    with pytest.raises(DataError, match=r"actual has shape \(1, 2\) but forecast has shape"):
        mase(ACTUAL, [[4.0, 8.0, 1.0]], TRAIN)
    with pytest.raises(ValueError, match="train has 2 series but the evaluation data has 1"):
        mase(ACTUAL, FORECAST, np.vstack([TRAIN, TRAIN]))


def test_training_window_shorter_than_season_is_refused():
    with pytest.raises(ValueError, match="train has 4 months, too few for a season-12"):
        rmsse(ACTUAL, FORECAST, TRAIN, season=12)
    with pytest.raises(ValueError, match="season must be at least 1"):
        rmsse(ACTUAL, FORECAST, TRAIN, season=0)


def test_interval_coverage_hand_computed():
    # 1 in [0, 2] yes; 2 in [2, 3] yes (bound is inside); 3 in [3.5, 4] no; 4 in [0, 3] no
    # -> 2/4. Second series: 1 in [0, 2] twice, two months unobserved -> 2/2.
    actual = [[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, np.nan, np.nan]]
    lower = [[0.0, 2.0, 3.5, 0.0], [0.0, 0.0, 0.0, 0.0]]
    upper = [[2.0, 3.0, 4.0, 3.0], [2.0, 2.0, 2.0, 2.0]]
    np.testing.assert_allclose(interval_coverage(actual, lower, upper), [0.5, 1.0])
    # Pooled over the 6 observed months: (2 + 2) / 6, not the mean (0.5 + 1) / 2.
    assert pooled_coverage(actual, lower, upper) == pytest.approx(4 / 6)


def test_coverage_with_missing_bound_is_nan():
    assert np.isnan(interval_coverage([[1.0, 2.0]], [[0.0, np.nan]], [[2.0, 3.0]])[0])


def test_crossed_interval_is_refused():
    with pytest.raises(DataError, match=r"lower > upper, first at series 0, month 1"):
        interval_coverage([[1.0, 2.0]], [[0.0, 3.0]], [[2.0, 2.5]])


def test_winkler_inside_scores_the_width():
    # Width 5 - 2 = 3, inside or on a bound, whatever alpha.
    result = winkler_score([[3.0, 2.0, 5.0]], [[2.0] * 3], [[5.0] * 3], alpha=0.05)
    np.testing.assert_allclose(result, [[3.0, 3.0, 3.0]])


@pytest.mark.parametrize("alpha", [0.05, 0.2, 0.5])
@pytest.mark.parametrize("d", [0.5, 1.0, 10.0])
def test_winkler_miss_by_d_scores_width_plus_2d_over_alpha(alpha, d):
    lower, upper = 2.0, 5.0
    below = winkler_score([[lower - d]], [[lower]], [[upper]], alpha)
    above = winkler_score([[upper + d]], [[lower]], [[upper]], alpha)
    np.testing.assert_allclose(below, [[3.0 + 2 * d / alpha]])
    np.testing.assert_allclose(above, [[3.0 + 2 * d / alpha]])


def test_winkler_hand_computed_and_nan():
    # l = 2, u = 5, alpha = 0.2 so 2/alpha = 10:
    #   y = 3 inside -> 3; y = 1 below by 1 -> 3 + 10 = 13; y = 7 above by 2 -> 3 + 20 = 23.
    result = winkler_score([[3.0, 1.0, 7.0, np.nan]], [[2.0] * 4], [[5.0] * 4], alpha=0.2)
    np.testing.assert_allclose(result, [[3.0, 13.0, 23.0, np.nan]])


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, 95])
def test_winkler_refuses_alpha_outside_unit_interval(alpha):
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
        winkler_score([[1.0]], [[0.0]], [[2.0]], alpha)


def test_scaled_winkler_hand_computed():
    # Scores 3, 13, 23 (see above), mean 13, over the MASE scale 5/3 of TRAIN -> 7.8.
    result = scaled_winkler([[3.0, 1.0, 7.0]], [[2.0] * 3], [[5.0] * 3], train=TRAIN, alpha=0.2)
    np.testing.assert_allclose(result, [7.8])


def test_scaled_winkler_uses_the_mase_scale():
    # A zero-width interval at the forecast turns the Winkler score into 2/alpha * |error|,
    # so scaled Winkler = 2/alpha * MASE exactly when both use the same scale.
    rng = np.random.default_rng(1)
    train = rng.gamma(2.0, 50.0, size=(4, 30))
    actual = rng.gamma(2.0, 50.0, size=(4, 6))
    forecast = rng.gamma(2.0, 50.0, size=(4, 6))
    for season in (1, 12):
        np.testing.assert_allclose(
            scaled_winkler(actual, forecast, forecast, train, alpha=0.1, season=season),
            (2 / 0.1) * mase(actual, forecast, train, season=season),
        )


def test_scaled_winkler_zero_scale_gives_nan():
    result = scaled_winkler([[3.0]], [[2.0]], [[5.0]], train=[[7.0, 7.0, 7.0]], alpha=0.1)
    assert np.isnan(result[0])
