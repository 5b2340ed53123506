"""Stage 3: counterfactual forecasts — each series' expected path with a predictive distribution.

:class:`PooledForecaster` is the default; :class:`ETSForecaster` and
:class:`UnobservedComponentsForecaster` are the per-series statsmodels references;
:class:`PrewarMeanForecaster` and :class:`SeasonalNaiveForecaster` are the baselines
of published analyses. :data:`FORECASTERS` (by class name) and :data:`SHORT_NAMES`
(by command-line name) list them all.
"""

from anomaly.forecast.base import UNSEEN, Forecaster
from anomaly.forecast.baselines import PrewarMeanForecaster, SeasonalNaiveForecaster
from anomaly.forecast.distribution import (
    ClippedNormalForecast,
    EmpiricalForecast,
    ErrorShape,
    Forecast,
    HurdleLogForecast,
)
from anomaly.forecast.pooled import PooledForecaster
from anomaly.forecast.registry import FORECASTERS, SHORT_NAMES
from anomaly.forecast.statsmodels_models import ETSForecaster, UnobservedComponentsForecaster

__all__ = [
    "FORECASTERS",
    "SHORT_NAMES",
    "UNSEEN",
    "ClippedNormalForecast",
    "ETSForecaster",
    "EmpiricalForecast",
    "ErrorShape",
    "Forecast",
    "Forecaster",
    "HurdleLogForecast",
    "PooledForecaster",
    "PrewarMeanForecaster",
    "SeasonalNaiveForecaster",
    "UnobservedComponentsForecaster",
]
