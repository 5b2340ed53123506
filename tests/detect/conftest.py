"""Hand-made forecasts and summaries for the detector tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.forecast import HurdleLogForecast

SEED = 20240301


def hurdle_forecast(
    n_series: int,
    n_months: int,
    *,
    median: float | np.ndarray = 1000.0,
    scale: float = 0.3,
    p_nonzero: float = 1.0,
) -> HurdleLogForecast:
    """Log-normal forecasts (with a hurdle) whose median per series is ``median``."""
    periods = pd.period_range("2022-01", periods=n_months, freq="M")
    median = np.broadcast_to(np.asarray(median, dtype=np.float64).reshape(-1, 1), (n_series, 1))
    return HurdleLogForecast(
        periods,
        p_nonzero=np.full((n_series, n_months), p_nonzero),
        loc=np.log(median) + np.zeros((1, n_months)),
        scale=np.full((n_series, n_months), scale),
    )


def draws(forecast: HurdleLogForecast, rng: np.random.Generator) -> np.ndarray:
    """One sample of every series-month from its predictive distribution."""
    shape = forecast.loc.shape
    trade = rng.random(shape) < forecast.p_nonzero
    return np.where(trade, np.exp(forecast.loc + forecast.scale * rng.normal(size=shape)), 0.0)


def summary_table(rows: list[tuple]) -> pd.DataFrame:
    """A per-series summary from ``(reporter, partner, flow, hs, actual, expected, z)`` rows."""
    frame = pd.DataFrame(
        rows, columns=["reporter", "partner", "flow", "hs", "actual", "expected", "z"]
    )
    frame["excess_value"] = frame["actual"] - frame["expected"]
    return frame


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)
