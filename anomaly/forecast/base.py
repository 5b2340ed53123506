"""The forecaster interface shared by the default model, the references and baselines."""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Self

import numpy as np
import pandas as pd

from anomaly.errors import DataError, NotFittedError
from anomaly.forecast.distribution import Forecast
from anomaly.panel.core import Panel, as_month

#: Marks, in ``series`` arguments, a series the forecaster has not seen in training.
UNSEEN = -1


class Forecaster(ABC):
    """Learn each series' path on a training window; predict later months.

    Subclasses implement :meth:`_fit` on a dense ``(n_series, n_months)`` matrix and
    :meth:`_predict` for horizons counted in months after the training window. Fitted
    state is a dict of arrays (:attr:`state_`, what artifacts store), never a Python
    object per series; :attr:`series_info_` says per series which model was used and
    why.

    Absent months (``NaN`` in the panel) are treated as no trade (zero): trade
    statistics publish no row for a month without declared trade.
    """

    def fit(
        self,
        panel: Panel,
        train_start: str | pd.Period | None = None,
        train_end: str | pd.Period | None = None,
    ) -> Self:
        """Fit on the months ``train_start..train_end`` of ``panel`` (default: all).

        Parameters
        ----------
        panel : Panel
        train_start, train_end : str or pandas.Period, optional

        Returns
        -------
        self
        """
        train = panel.window(train_start, train_end, copy=False)
        if train.n_series == 0:
            raise DataError("no series to fit")
        # One copy of the window, filled in place: the training matrix can be large.
        values = np.nan_to_num(train.values.astype(np.float64), copy=False, nan=0.0)
        if (values < 0).any():
            raise DataError("trade values must be >= 0 to fit a forecaster")
        # Set only after a successful fit: a refused (re)fit leaves the model as it was.
        self._fit(values, train.periods)
        self.train_periods_ = train.periods
        return self

    def predict(
        self,
        start: str | pd.Period,
        end: str | pd.Period,
        series: np.ndarray | None = None,
    ) -> Forecast:
        """Predictive distribution for months ``start..end`` after the training window.

        Parameters
        ----------
        start, end : str or pandas.Period
            First and last month to predict; ``start`` must follow the training window.
        series : numpy.ndarray of int, optional
            Rows of the fitted series to predict, :data:`UNSEEN` (``-1``) for series
            not seen in training (they get the forecaster's prior for new flows).
            Default: every fitted series in order.

        Returns
        -------
        Forecast
        """
        if not hasattr(self, "train_periods_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")
        first, last = as_month(start), as_month(end)
        train_end = self.train_periods_[-1]
        if first <= train_end:
            raise DataError(
                f"forecasts start after the training window (ends {train_end}), got {first}"
            )
        if last < first:
            raise DataError(f"forecast end {last} is before its start {first}")
        periods = pd.period_range(first, last, freq="M")
        horizons = np.asarray(periods.asi8 - train_end.ordinal, dtype=np.int64)
        if series is None:
            series = np.arange(self.n_series_)
        series = np.asarray(series, dtype=np.int64)
        if series.size and (series.max() >= self.n_series_ or series.min() < UNSEEN):
            raise IndexError(f"series positions must lie in [-1, {self.n_series_})")
        return self._predict(periods, horizons, series)

    def get_params(self) -> dict:
        """Constructor parameters, as scikit-learn estimators expose them."""
        signature = inspect.signature(type(self).__init__)
        names = [
            name
            for name, parameter in signature.parameters.items()
            if name != "self" and parameter.kind is parameter.POSITIONAL_OR_KEYWORD
        ]
        return {name: getattr(self, name) for name in names}

    def clone(self) -> Self:
        """An unfitted forecaster with the same parameters."""
        return type(self)(**self.get_params())

    def restore(
        self, state: dict[str, np.ndarray], series_info: pd.DataFrame, train_end: str
    ) -> Self:
        """Set fitted state read back from an artifact (the inverse of fitting)."""
        months = int(state.pop("_train_months"))
        end = as_month(train_end)
        self.state_ = state
        self.series_info_ = series_info
        self.train_periods_ = pd.period_range(end=end, periods=months, freq="M")
        return self

    def fitted_state(self) -> dict[str, np.ndarray]:
        """Fitted arrays (for artifacts), with the training window's length."""
        if not hasattr(self, "state_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")
        return {**self.state_, "_train_months": np.array(len(self.train_periods_))}

    @property
    def n_series_(self) -> int:
        """Number of series fitted."""
        return len(self.series_info_)

    def occurrence_months(self) -> np.ndarray:
        """Per series, the training months its share of months with trade is read over:
        every training month, unless a forecaster knows better (a flow born within the
        window, say)."""
        return np.full(self.n_series_, len(self.train_periods_), dtype=np.int64)

    @abstractmethod
    def _fit(self, values: np.ndarray, periods: pd.PeriodIndex) -> None:
        """Learn state from ``values`` (``(n_series, n_months)``, zeros for no trade)."""

    @abstractmethod
    def _predict(
        self, periods: pd.PeriodIndex, horizons: np.ndarray, series: np.ndarray
    ) -> Forecast:
        """Forecast ``horizons`` (months after training) for the ``series`` rows."""

    series_info_: pd.DataFrame
    train_periods_: pd.PeriodIndex
    state_: dict[str, np.ndarray]
