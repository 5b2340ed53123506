"""Reference forecasters: statsmodels ETS and a local-level state-space model per series.

They are the accurate-but-slow references the default model is measured against.
Each series is fitted on its values as published, in chunks of series spread over
processes with joblib; the normal predictive distribution is clipped at zero (trade
cannot be negative). A log transform was tried and rejected: on intermittent series
``log(1 + value)`` swings between 0 and ~10, and the back-transformed mean explodes.
A series whose fit fails, or that has too few months with trade to fit, falls back to
the mean and spread of its months, and :attr:`series_info_` says so.

Fitted state is the predictive location and scale for horizons ``1..max_horizon``:
a table of numbers per series, like every forecaster's.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from anomaly.errors import DataError
from anomaly.forecast.base import UNSEEN, Forecaster
from anomaly.forecast.distribution import ClippedNormalForecast

SEASON = 12
#: Fewer months with trade than this: no model is fitted, the fallback is used.
MIN_NONZERO = 4


class _PerSeriesForecaster(Forecaster):
    """Shared machinery: chunked joblib fitting, fallback, and predictive tables."""

    model_name = ""

    def __init__(self, max_horizon: int = 36, n_jobs: int = 1, chunk_size: int = 200) -> None:
        self.max_horizon = max_horizon
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size

    def _fit(self, values: np.ndarray, periods: pd.PeriodIndex) -> None:
        chunks = [
            values[lo : lo + self.chunk_size] for lo in range(0, len(values), self.chunk_size)
        ]
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_chunk)(type(self)._fit_one, chunk, self.max_horizon) for chunk in chunks
        )
        self.state_ = {
            "loc": np.concatenate([r[0] for r in results]),
            "scale": np.concatenate([r[1] for r in results]),
        }
        reasons = [reason for r in results for reason in r[2]]
        self.series_info_ = pd.DataFrame(
            {
                "model": [self.model_name if not r else "mean fallback" for r in reasons],
                "reason": [r or "fitted" for r in reasons],
                "n_nonzero": (values > 0).sum(axis=1),
            }
        )

    def _predict(self, periods, horizons, series):
        if horizons.max() > self.max_horizon:
            raise DataError(
                f"{type(self).__name__} was fitted for {self.max_horizon} months ahead; "
                f"asked for {int(horizons.max())}",
                expected="a smaller window or a larger max_horizon",
            )
        seen = series != UNSEEN
        rows = np.where(seen, series, 0)
        columns = horizons - 1
        loc = np.where(seen[:, None], self.state_["loc"][rows][:, columns], 0.0)
        scale = np.where(seen[:, None], self.state_["scale"][rows][:, columns], 1e-6)
        return ClippedNormalForecast(periods, loc=loc, scale=scale)

    @staticmethod
    def _fit_one(y: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


def _fit_chunk(fit_one, values: np.ndarray, horizon: int):
    """Fit each series of a chunk; returns ``(loc, scale, reasons)``."""
    loc = np.empty((len(values), horizon))
    scale = np.empty((len(values), horizon))
    reasons: list[str] = []
    for i, series in enumerate(values):
        y = series
        reason = ""
        if (series > 0).sum() < MIN_NONZERO or np.ptp(y) == 0:
            reason = f"fewer than {MIN_NONZERO} months with trade, or constant"
        else:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    mean, variance = fit_one(y, horizon)
                if not (np.isfinite(mean).all() and np.isfinite(variance).all()):
                    reason = "fit gave non-finite forecasts"
            except (ValueError, np.linalg.LinAlgError, RuntimeError) as exc:
                reason = f"fit failed: {type(exc).__name__}"
        if reason:
            mean = np.full(horizon, y.mean())
            variance = np.full(horizon, y.var() * (1 + 1 / len(y)))
        loc[i] = mean
        scale[i] = np.sqrt(np.maximum(variance, 1e-12))
        reasons.append(reason)
    return loc, scale, reasons


class ETSForecaster(_PerSeriesForecaster):
    """statsmodels ``ETSModel`` per series: additive error, damped trend, seasonal if ≥ 2 years.

    Parameters
    ----------
    max_horizon : int
        Months ahead the fitted state covers.
    n_jobs : int
        Processes for joblib (``-1``: all cores).
    chunk_size : int
        Series per joblib task.
    """

    model_name = "statsmodels-ets"

    @staticmethod
    def _fit_one(y: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        seasonal = "add" if len(y) >= 2 * SEASON else None
        # statsmodels' ETS prediction needs a pandas series (it reads its index).
        model = ETSModel(
            pd.Series(y),
            error="add",
            trend="add",
            damped_trend=True,
            seasonal=seasonal,
            seasonal_periods=SEASON if seasonal else None,
        )
        result = model.fit(disp=False)
        prediction = result.get_prediction(start=len(y), end=len(y) + horizon - 1)
        return np.asarray(prediction.predicted_mean), np.asarray(prediction.forecast_variance)


class UnobservedComponentsForecaster(_PerSeriesForecaster):
    """statsmodels ``UnobservedComponents`` per series: local level, seasonal if ≥ 2 years.

    Parameters are those of :class:`ETSForecaster`.
    """

    model_name = "statsmodels-unobserved-components"

    @staticmethod
    def _fit_one(y: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        from statsmodels.tsa.statespace.structural import UnobservedComponents

        seasonal = SEASON if len(y) >= 2 * SEASON else None
        model = UnobservedComponents(y, level="local level", seasonal=seasonal)
        result = model.fit(disp=False)
        forecast = result.get_forecast(horizon)
        return np.asarray(forecast.predicted_mean), np.asarray(forecast.var_pred_mean)
