"""Stage 3: counterfactual forecasts — each series' expected path with a predictive distribution."""

from anomaly.forecast.base import UNSEEN, Forecaster
from anomaly.forecast.distribution import EmpiricalForecast, ErrorShape, Forecast, HurdleLogForecast
from anomaly.forecast.pooled import PooledForecaster

__all__ = [
    "UNSEEN",
    "EmpiricalForecast",
    "ErrorShape",
    "Forecast",
    "Forecaster",
    "HurdleLogForecast",
    "PooledForecaster",
]
