"""Accuracy of counterfactual forecasts and their prediction intervals.

These metrics live in the forecast layer because forecasters use them too:
:class:`~anomaly.forecast.PooledForecaster` picks its settings on held-out months by
:func:`rmsse`. :mod:`anomaly.evaluate` re-exports them (``anomaly.evaluate.rmsse`` and
so on) for grading models against the simulator's planted truth.

Every function is vectorised over series: ``actual``, ``forecast``, ``lower`` and
``upper`` are ``(n_series, horizon)`` arrays, ``train`` is ``(n_series, n_train)`` and a
per-series metric comes back as an ``(n_series,)`` float64 array. A 1-D input is read as
a single series. Average the per-series values with :func:`numpy.nanmean` (or a median)
to compare models; series whose metric is undefined are NaN so that they drop out of
such an average instead of dominating it.

Missing values follow the panel's convention that an absent month is NaN:

- NaN in ``actual`` is a month with no observation and is skipped.
- NaN in ``train`` removes the naive differences it takes part in from the scale.
- NaN in ``forecast``, ``lower`` or ``upper`` where ``actual`` is observed makes that
  series' metric NaN: a model that gives no forecast must not look accurate.

Scaled metrics divide by the in-sample error of the naive (or seasonal naive)
forecast on the training window, as in the M4 and M5 competitions, so that a value
means the same thing on a flow of 10^3 EUR a month and on one of 10^9.
"""

from __future__ import annotations

import operator

import numpy as np
from numpy.typing import ArrayLike, NDArray

from anomaly.errors import DataError

__all__ = [
    "interval_coverage",
    "mase",
    "pinball_loss",
    "pooled_coverage",
    "rmsse",
    "scaled_pinball",
    "scaled_winkler",
    "winkler_score",
]

FloatArray = NDArray[np.float64]


def rmsse(actual: ArrayLike, forecast: ArrayLike, train: ArrayLike, season: int = 1) -> FloatArray:
    """Root mean squared scaled error per series (the M5 competition's accuracy metric).

    ``RMSSE_i = sqrt(mean_t (y_it - f_it)^2 / mean_s (x_is - x_i,s-m)^2)`` where ``y`` is
    ``actual``, ``f`` the ``forecast``, ``x`` the training series and ``m`` the
    ``season``. The means run over observed values only (see the module notes on NaN).

    Unlike the M5 guide, leading zeros of the training series are kept in the scale:
    in the panel a flow that did not exist yet is NaN (already skipped), so a zero is an
    observed month without trade.

    Parameters
    ----------
    actual, forecast : array_like, shape (n_series, horizon)
        Observed values and point forecasts over the evaluation window.
    train : array_like, shape (n_series, n_train)
        Training values the model was fitted on.
    season : int, default 1
        Lag of the naive forecast that defines the scale: 1 for the random walk, 12 for
        the seasonal naive forecast of monthly data.

    Returns
    -------
    ndarray of float64, shape (n_series,)
        NaN for a series whose scale is 0 (a constant training series, where any error
        would be infinitely large) or undefined (fewer than two observed months
        ``season`` apart), and for a series with no observed ``actual``.

    Examples
    --------
    >>> train = [[1.0, 3.0, 2.0, 4.0], [2.0, 2.0, 2.0, 2.0]]
    >>> rmsse([[5.0, 6.0], [2.0, 3.0]], [[4.0, 8.0], [2.0, 2.0]], train)
    array([0.91287093,        nan])
    """
    actual, forecast, train = _check_point_inputs(actual, forecast, train, season)
    scale = _masked_mean(_naive_errors(train, season) ** 2)
    mse = _observed_mean((actual - forecast) ** 2, actual)
    return np.sqrt(_safe_ratio(mse, scale))


def mase(actual: ArrayLike, forecast: ArrayLike, train: ArrayLike, season: int = 1) -> FloatArray:
    """Mean absolute scaled error per series (Hyndman & Koehler, 2006).

    ``MASE_i = mean_t |y_it - f_it| / mean_s |x_is - x_i,s-m|``, with the notation and
    NaN handling of :func:`rmsse`. A value below 1 means the forecast beat the in-sample
    naive forecast.

    Parameters
    ----------
    actual, forecast : array_like, shape (n_series, horizon)
        Observed values and point forecasts over the evaluation window.
    train : array_like, shape (n_series, n_train)
        Training values the model was fitted on.
    season : int, default 1
        Lag of the naive forecast that defines the scale.

    Returns
    -------
    ndarray of float64, shape (n_series,)
        NaN where the scale is 0 or undefined, or no ``actual`` is observed.

    Examples
    --------
    >>> mase([[5.0, 6.0]], [[4.0, 8.0]], [[1.0, 3.0, 2.0, 4.0]])
    array([0.9])
    """
    actual, forecast, train = _check_point_inputs(actual, forecast, train, season)
    return _safe_ratio(_observed_mean(np.abs(actual - forecast), actual), _mae_scale(train, season))


def interval_coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> FloatArray:
    """Fraction of observed values inside their prediction interval, per series.

    A value on a bound counts as inside (``lower <= actual <= upper``).

    Parameters
    ----------
    actual, lower, upper : array_like, shape (n_series, horizon)
        Observed values and the interval bounds.

    Returns
    -------
    ndarray of float64, shape (n_series,)
        NaN for a series with no observed value, or a missing bound at an observed one.

    See Also
    --------
    pooled_coverage : one coverage over every observed value of every series.

    Examples
    --------
    >>> interval_coverage([[1.0, 2.0, 3.0, 4.0]], [[0, 2, 3.5, 0]], [[2, 3, 4, 3]])
    array([0.5])
    """
    actual, lower, upper = _check_interval_inputs(actual, lower, upper)
    return _observed_mean(_inside(actual, lower, upper), actual)


def pooled_coverage(actual: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> float:
    """Fraction of all observed values, over all series, inside their interval.

    Unlike the mean of :func:`interval_coverage`, every observed month weighs the same,
    so a series with a long history counts more than one with a short one. This is the
    number to hold against the nominal level ``1 - alpha``.

    Parameters
    ----------
    actual, lower, upper : array_like, shape (n_series, horizon)
        Observed values and the interval bounds.

    Returns
    -------
    float
        NaN if nothing is observed or a bound is missing at an observed value.

    Examples
    --------
    >>> actual = [[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, np.nan, np.nan]]
    >>> lower = [[0, 2, 3.5, 0], [0, 0, 0, 0]]
    >>> upper = [[2, 3, 4, 3], [2, 2, 2, 2]]
    >>> round(pooled_coverage(actual, lower, upper), 4)
    0.6667
    """
    actual, lower, upper = _check_interval_inputs(actual, lower, upper)
    return float(_observed_mean(_inside(actual, lower, upper).ravel(), actual.ravel()))


def winkler_score(
    actual: ArrayLike, lower: ArrayLike, upper: ArrayLike, alpha: float
) -> FloatArray:
    """Interval score of each observation (Winkler, 1972; Gneiting & Raftery, 2007).

    ``W = (u - l) + (2 / alpha) * (l - y) * 1{y < l} + (2 / alpha) * (y - u) * 1{y > u}``:
    the width of the interval plus a penalty for a miss that grows with its distance.
    Lower is better; it rewards intervals that are narrow and still cover, and is
    minimised in expectation by the ``alpha / 2`` and ``1 - alpha / 2`` quantiles.

    Parameters
    ----------
    actual, lower, upper : array_like, shape (n_series, horizon)
        Observed values and the bounds of the ``1 - alpha`` prediction interval.
    alpha : float
        Nominal miss rate of the interval, in (0, 1): 0.05 for a 95% interval.

    Returns
    -------
    ndarray of float64, shape (n_series, horizon)
        NaN where ``actual`` or a bound is NaN.

    Examples
    --------
    >>> winkler_score([[3.0, 1.0, 7.0]], [[2.0, 2.0, 2.0]], [[5.0, 5.0, 5.0]], alpha=0.2)
    array([[ 3., 13., 23.]])
    """
    actual, lower, upper = _check_interval_inputs(actual, lower, upper)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), e.g. 0.05 for a 95% interval; got {alpha!r}")
    below = np.maximum(lower - actual, 0.0)
    above = np.maximum(actual - upper, 0.0)
    return (upper - lower) + (2.0 / alpha) * (below + above)


def scaled_winkler(
    actual: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    train: ArrayLike,
    alpha: float,
    season: int = 1,
) -> FloatArray:
    """Mean Winkler score per series divided by the MASE scale (the M4 competition's MSIS).

    For series ``i`` with observed evaluation months ``t`` and training months ``s``::

        scaled_winkler_i = mean_t W_alpha(l_it, u_it, y_it) / mean_s |x_is - x_i,s-m|

    The numerator is the mean of :func:`winkler_score` over the observed months of the
    series; the denominator is exactly the scale of :func:`mase` with the same
    ``season`` (mean absolute ``season``-step naive difference of the observed training
    values). Both are in the series' currency, so the ratio has no unit and can be
    compared across series and averaged across them; compare models only at the same
    ``alpha`` and ``season``.

    Parameters
    ----------
    actual, lower, upper : array_like, shape (n_series, horizon)
        Observed values and the bounds of the ``1 - alpha`` prediction interval.
    train : array_like, shape (n_series, n_train)
        Training values the model was fitted on.
    alpha : float
        Nominal miss rate of the interval, in (0, 1).
    season : int, default 1
        Lag of the naive forecast that defines the scale.

    Returns
    -------
    ndarray of float64, shape (n_series,)
        NaN where the scale is 0 or undefined, no ``actual`` is observed, or a bound is
        missing at an observed value.

    Examples
    --------
    >>> # Scores 3, 13, 23 (mean 13) over the scale mean(|2|, |-1|, |2|) = 5/3.
    >>> scaled_winkler([[3.0, 1.0, 7.0]], [[2.0, 2.0, 2.0]], [[5.0, 5.0, 5.0]],
    ...                train=[[1.0, 3.0, 2.0, 4.0]], alpha=0.2)
    array([7.8])
    """
    scores = winkler_score(actual, lower, upper, alpha)
    actual = _as_2d(actual, "actual")
    train = _check_train(train, actual.shape[0], season)
    return _safe_ratio(_observed_mean(scores, actual), _mae_scale(train, season))


def pinball_loss(actual: ArrayLike, quantile: ArrayLike, q: float) -> FloatArray:
    """Quantile (pinball) loss of each observation for a ``q``-quantile forecast.

    ``L = q * (y - f)`` if ``y >= f``, else ``(1 - q) * (f - y)``, where ``y`` is
    ``actual`` and ``f`` the forecast ``q``-quantile: a proper score, minimised in
    expectation by the true ``q``-quantile (Koenker & Bassett, 1978). At ``q = 0.5`` it
    is half the absolute error.

    Parameters
    ----------
    actual, quantile : array_like, shape (n_series, horizon)
        Observed values and the forecast ``q``-quantiles.
    q : float
        Quantile level, in (0, 1).

    Returns
    -------
    ndarray of float64, shape (n_series, horizon)
        NaN where ``actual`` or ``quantile`` is NaN.

    Examples
    --------
    >>> pinball_loss([[3.0, 1.0, 7.0]], [[2.0, 2.0, 2.0]], q=0.9)
    array([[0.9, 0.1, 4.5]])
    """
    actual = _as_2d(actual, "actual")
    quantile = _as_2d(quantile, "quantile")
    _check_same_shape(actual, "actual", quantile=quantile)
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), e.g. 0.95 for the upper 5% quantile; got {q!r}")
    error = actual - quantile
    return np.maximum(q * error, (q - 1.0) * error)


def scaled_pinball(
    actual: ArrayLike, quantile: ArrayLike, train: ArrayLike, q: float, season: int = 1
) -> FloatArray:
    """Mean pinball loss per series divided by the MASE scale (scaled quantile loss).

    ``scaled_pinball_i = mean_t L_q(y_it, f_it) / mean_s |x_is - x_i,s-m|``: the mean of
    :func:`pinball_loss` over the observed months of the series, over the scale of
    :func:`mase` with the same ``season``, so values compare across series of any size
    (the M5 uncertainty competition scales its quantile loss the same way). At
    ``q = 0.5`` it is half the MASE of the median forecast.

    Parameters
    ----------
    actual, quantile : array_like, shape (n_series, horizon)
        Observed values and the forecast ``q``-quantiles.
    train : array_like, shape (n_series, n_train)
        Training values the model was fitted on.
    q : float
        Quantile level, in (0, 1).
    season : int, default 1
        Lag of the naive forecast that defines the scale.

    Returns
    -------
    ndarray of float64, shape (n_series,)
        NaN where the scale is 0 or undefined, no ``actual`` is observed, or a quantile
        is missing at an observed value.

    Examples
    --------
    >>> # Losses 0.9, 0.1, 4.5 (mean 11/6) over the scale 5/3.
    >>> scaled_pinball([[3.0, 1.0, 7.0]], [[2.0, 2.0, 2.0]], [[1.0, 3.0, 2.0, 4.0]], q=0.9)
    array([1.1])
    """
    losses = pinball_loss(actual, quantile, q)
    actual = _as_2d(actual, "actual")
    train = _check_train(train, actual.shape[0], season)
    return _safe_ratio(_observed_mean(losses, actual), _mae_scale(train, season))


def _as_2d(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        return array[np.newaxis, :]
    if array.ndim != 2:
        raise DataError(
            f"{name} has {array.ndim} dimensions",
            expected="a 2-D array (series × months), or 1-D for one series",
        )
    return array


def _check_same_shape(reference: FloatArray, name: str, **others: FloatArray) -> None:
    for other_name, other in others.items():
        if other.shape != reference.shape:
            raise DataError(
                f"{name} has shape {reference.shape} but {other_name} has shape {other.shape}",
                expected="one value per series and evaluation month in each",
            )


def _check_train(train: ArrayLike, n_series: int, season: int) -> FloatArray:
    if operator.index(season) < 1:
        raise ValueError(f"season must be at least 1 (12 for monthly seasonality); got {season}")
    array = _as_2d(train, "train")
    if array.shape[0] != n_series:
        raise DataError(
            f"train has {array.shape[0]} series but the evaluation data has {n_series}",
            expected="the training rows of the same series, in the same order",
        )
    if array.shape[1] <= season:
        raise DataError(
            f"train has {array.shape[1]} months, too few for a season-{season} naive forecast",
            expected=f"at least {season + 1} training months",
        )
    return array


def _check_point_inputs(
    actual: ArrayLike, forecast: ArrayLike, train: ArrayLike, season: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    actual_2d = _as_2d(actual, "actual")
    forecast_2d = _as_2d(forecast, "forecast")
    _check_same_shape(actual_2d, "actual", forecast=forecast_2d)
    return actual_2d, forecast_2d, _check_train(train, actual_2d.shape[0], season)


def _check_interval_inputs(
    actual: ArrayLike, lower: ArrayLike, upper: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    actual_2d = _as_2d(actual, "actual")
    lower_2d = _as_2d(lower, "lower")
    upper_2d = _as_2d(upper, "upper")
    _check_same_shape(actual_2d, "actual", lower=lower_2d, upper=upper_2d)
    crossed = np.argwhere(lower_2d > upper_2d)
    if crossed.size:
        series, month = crossed[0]
        raise DataError(
            f"{len(crossed)} interval(s) have lower > upper, first at series {series}, "
            f"month {month} ({lower_2d[series, month]} > {upper_2d[series, month]})",
            expected="lower <= upper",
        )
    return actual_2d, lower_2d, upper_2d


def _naive_errors(train: FloatArray, season: int) -> FloatArray:
    return train[:, season:] - train[:, :-season]


def _mae_scale(train: FloatArray, season: int) -> FloatArray:
    return _masked_mean(np.abs(_naive_errors(train, season)))


def _inside(actual: FloatArray, lower: FloatArray, upper: FloatArray) -> FloatArray:
    """1.0 inside the interval, 0.0 outside, NaN where a bound is missing."""
    inside = ((lower <= actual) & (actual <= upper)).astype(np.float64)
    return np.where(np.isnan(lower) | np.isnan(upper), np.nan, inside)


def _masked_mean(values: FloatArray) -> FloatArray:
    """Row means over the finite entries; NaN for a row with none."""
    finite = np.isfinite(values)
    total = np.where(finite, values, 0.0).sum(axis=-1)
    return _safe_ratio(total, finite.sum(axis=-1).astype(np.float64))


def _observed_mean(values: FloatArray, actual: FloatArray) -> FloatArray:
    """Means of ``values`` over the months where ``actual`` is observed.

    A NaN in ``values`` at an observed month (a missing forecast or bound) is kept on
    purpose, so that it turns the mean into NaN.
    """
    observed = ~np.isnan(actual)
    total = np.where(observed, values, 0.0).sum(axis=-1)
    return _safe_ratio(total, observed.sum(axis=-1).astype(np.float64))


def _safe_ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """``numerator / denominator``, NaN where the denominator is 0 or NaN, without warnings."""
    usable = np.isfinite(denominator) & (denominator != 0)
    return np.divide(numerator, denominator, out=np.full(np.shape(numerator), np.nan), where=usable)
