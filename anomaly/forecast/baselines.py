"""The baselines analysts use today: the pre-war mean and the seasonal naive forecast.

Published analyses of sanctions evasion compare post-2022 trade with the 2015–2021
average; these classes reproduce that practice inside the same interface, so every
detector and benchmark can put the package's models beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.forecast.base import UNSEEN, Forecaster
from anomaly.forecast.distribution import EmpiricalForecast

SEASON = 12


class PrewarMeanForecaster(Forecaster):
    """Expected value = mean of the training months; spread = the training months.

    The interval is the empirical quantile range of the series' own training months
    (no trade counts as zero). A series unseen in training is expected at zero.

    Examples
    --------
    >>> from anomaly.panel import Panel
    >>> keys = pd.DataFrame({"reporter": ["DEU"], "partner": ["KGZ"],
    ...                      "flow": ["export"], "hs": ["854231"]})
    >>> panel = Panel(keys, pd.period_range("2021-01", periods=4, freq="M"),
    ...               np.array([[1.0, 3.0, np.nan, 4.0]]))
    >>> PrewarMeanForecaster().fit(panel).predict("2021-05", "2021-05").mean.tolist()
    [[2.0]]
    """

    def _fit(self, values: np.ndarray, periods: pd.PeriodIndex) -> None:
        self.state_ = {"mean": values.mean(axis=1), "errors": values - values.mean(axis=1)[:, None]}
        self.series_info_ = pd.DataFrame(
            {"model": "prewar-mean", "reason": "baseline", "n_nonzero": (values > 0).sum(axis=1)}
        )

    def _predict(self, periods, horizons, series):
        mean, errors = _rows(self.state_["mean"], self.state_["errors"], series)
        return EmpiricalForecast(
            periods, point=np.repeat(mean[:, None], len(horizons), axis=1), errors=errors
        )


class SeasonalNaiveForecaster(Forecaster):
    """Expected value = the same calendar month of the last training year.

    The spread is that of the series' past twelve-month differences. With less than
    13 training months there is no seasonal difference; such a fit refuses.
    """

    def _fit(self, values: np.ndarray, periods: pd.PeriodIndex) -> None:
        if values.shape[1] <= SEASON:
            raise ValueError(
                f"seasonal naive needs more than {SEASON} training months, got {values.shape[1]}"
            )
        self.state_ = {
            "last_year": values[:, -SEASON:],
            "errors": values[:, SEASON:] - values[:, :-SEASON],
        }
        self.series_info_ = pd.DataFrame(
            {"model": "seasonal-naive", "reason": "baseline", "n_nonzero": (values > 0).sum(axis=1)}
        )

    def _predict(self, periods, horizons, series):
        last_year, errors = _rows(self.state_["last_year"], self.state_["errors"], series)
        point = last_year[:, (horizons - 1) % SEASON]
        return EmpiricalForecast(periods, point=point, errors=errors)


def _rows(
    point: np.ndarray, errors: np.ndarray, series: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows for ``series``; an unseen series is expected at zero with no spread."""
    seen = series != UNSEEN
    rows = np.where(seen, series, 0)
    mask = seen.reshape((-1,) + (1,) * (point.ndim - 1))
    picked_errors = np.where(seen[:, None], errors[rows], np.nan)
    picked_errors[~seen, 0] = 0.0
    return np.where(mask, point[rows], 0.0), picked_errors
