"""Residual detector: how far each series' scoring window lies from its counterfactual.

Per series-month, the standardised residual is ``z = Φ⁻¹(PIT)`` of the actual under
the forecaster's predictive distribution: the same scale on every series, whatever its
size or model. Per series, the months combine into Stouffer's ``Σz/√n``; months in a
row are not independent (a level shift moves them all), so the combined statistic is
recalibrated on a pre-war placebo window (:class:`~anomaly.detect.calibration.ZCalibration`)
before it is read as a tail probability.

:func:`residual_summary` is the counterfactual evidence every detector reads (actual
against expected, the band, the excess value); :class:`ResidualDetector` calibrates
its Stouffer statistic and contributes the ``surge`` and ``new_flow`` signals.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import pandas as pd
from scipy.special import log_ndtr

from anomaly.detect.base import BaseDetector, DetectorState, PlaceboEvidence
from anomaly.detect.calibration import StoufferCalibration
from anomaly.detect.config import DetectionConfig, band_quantile
from anomaly.forecast import Forecast
from anomaly.panel import Panel


def residual_summary(
    forecast: Forecast,
    actual: np.ndarray,
    published: np.ndarray,
    demand_factor: np.ndarray | None = None,
    *,
    coverage: float = DetectionConfig.band_coverage,
) -> dict:
    """Per-series evidence of a scoring window.

    Parameters
    ----------
    forecast : Forecast
        Predictive distribution of the window's months, one row per series.
    actual : numpy.ndarray
        ``(n_series, n_months)`` declared values, zero where the reporter published
        but declared no trade for the series.
    published : numpy.ndarray
        Boolean, same shape: whether the reporter published that month at all. Months
        it did not publish (e.g. Russia after 2021) are missing data, not zeros.
    demand_factor : numpy.ndarray, optional
        Per series, how much general demand at the destination grew (the growth of its
        goods not under control); the counterfactual is scaled by it, so a country
        whose imports of everything boomed is not a lead.
    coverage : float
        Coverage of the band (``lower``, ``upper``; months above it count for
        ``persistence``).

    Returns
    -------
    dict of str to numpy.ndarray
        ``z_months`` (per month, ``NaN`` where unpublished), ``expected_months``,
        ``lower_months`` and ``upper_months`` (per month, scaled by ``demand_factor``,
        published or not: the forecast's mean and band at ``coverage``), and per series
        ``n_months``, ``actual``, ``expected``, ``lower``, ``upper`` (window totals,
        band at ``coverage``), ``excess_value``, ``stouffer_z``,
        ``persistence`` (longest run of months above the band) and ``onset`` (column
        of that run's first month, -1 if none).

    Examples
    --------
    >>> import pandas as pd
    >>> from anomaly.forecast import HurdleLogForecast
    >>> f = HurdleLogForecast(pd.period_range("2022-01", periods=2, freq="M"),
    ...     p_nonzero=np.ones((1, 1)), loc=np.zeros((1, 2)), scale=np.ones((1, 1)))
    >>> s = residual_summary(f, np.array([[50.0, 60.0]]), np.ones((1, 2), bool))
    >>> bool(s["stouffer_z"][0] > 3), int(s["persistence"][0]), int(s["onset"][0])
    (True, 2, 0)
    """
    factor = np.ones((len(actual), 1)) if demand_factor is None else demand_factor[:, None]
    observed = np.where(published, actual, np.nan)
    # Scaling a distribution by c: its PIT at x equals the unscaled PIT at x / c.
    z_months = np.where(published, forecast.z(observed / factor), np.nan)
    n_months = published.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        stouffer = np.nansum(z_months, axis=1) / np.sqrt(n_months)
    mean_months = forecast.mean * factor
    lower_months, upper_months = (bound * factor for bound in forecast.interval(coverage))
    mean = np.where(published, mean_months, 0.0)
    total_actual = np.where(published, actual, 0.0).sum(axis=1)
    expected = mean.sum(axis=1)
    std = np.where(published, forecast.std * factor, 0.0)
    lower, upper = _total_band(mean, std, band_quantile(coverage))
    above = published & (actual > upper_months)
    persistence, onset = _longest_run(above)
    return {
        "z_months": z_months,
        "expected_months": mean_months,
        "lower_months": lower_months,
        "upper_months": upper_months,
        "n_months": n_months,
        "actual": total_actual,
        "expected": expected,
        "lower": lower,
        "upper": upper,
        "excess_value": total_actual - expected,
        "stouffer_z": np.where(n_months > 0, stouffer, np.nan),
        "persistence": persistence,
        "onset": onset,
    }


def _total_band(mean: np.ndarray, std: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Approximate band of a window total (``z``: its normal quantile) from its months'
    means and spreads.

    Months are taken as independent and the total as log-normal with the matched
    mean and variance: the sum of skewed monthly distributions is itself skewed, and
    a log-normal keeps the band positive.
    """
    total = mean.sum(axis=1)
    variance = (std**2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_var = np.log1p(variance / total**2)
        log_mean = np.log(total) - log_var / 2
        lower = np.exp(log_mean - z * np.sqrt(log_var))
        upper = np.exp(log_mean + z * np.sqrt(log_var))
    positive = total > 0
    return np.where(positive, lower, 0.0), np.where(positive, upper, 0.0)


def _longest_run(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Length and start column of each row's longest run of ``True`` (-1 if none)."""
    n_rows, n_cols = flags.shape
    run = np.zeros(n_rows, dtype=np.int64)
    best = np.zeros(n_rows, dtype=np.int64)
    best_end = np.full(n_rows, -1, dtype=np.int64)
    for col in range(n_cols):  # a loop over months, not series: vectorised across rows
        run = np.where(flags[:, col], run + 1, 0)
        longer = run > best
        best = np.where(longer, run, best)
        best_end = np.where(longer, col, best_end)
    onset = np.where(best > 0, best_end - best + 1, -1)
    return best, onset


class ResidualDetector(BaseDetector):
    """Each series' window against its counterfactual: Stouffer's z, calibrated.

    Attributes
    ----------
    calibration_ : StoufferCalibration
        Centre and window-length variance of the statistic on the placebo window.

    Examples
    --------
    >>> detector = ResidualDetector()
    >>> detector.calibration_ = StoufferCalibration(0.0, (4.0, 0.0, 0.0))
    >>> table = pd.DataFrame({"stouffer_z": [6.0], "n_months": [12]})
    >>> detector.statistics(table)["z"].tolist()
    [3.0]
    """

    name: ClassVar[str] = "residual"
    pvalue_column: ClassVar[str | None] = "p_residual"
    signal_names: ClassVar[tuple[str, ...]] = ("surge", "new_flow")
    provides: ClassVar[tuple[str, ...]] = ("z",)

    def fit(self, train: Panel, placebo: PlaceboEvidence | None) -> Self:
        """Calibrate the statistic on the placebo's monthly z (nothing without one)."""
        if placebo is not None:
            self.calibration_ = StoufferCalibration.from_placebo(
                placebo.z_months, self.config.min_placebo_values
            )
        return self

    def statistics(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """Calibrated ``z``; ``NaN`` for a series whose history is not in the data
        (``history_known`` false): its counterfactual would be a guess."""
        z = self.calibration_.z(table["stouffer_z"].to_numpy(), table["n_months"].to_numpy())
        if "history_known" in table:
            z = np.where(table["history_known"].to_numpy(dtype=bool), z, np.nan)
        return {"z": z}

    def log_pvalue(self, table: pd.DataFrame) -> np.ndarray:
        return log_ndtr(-table["z"].to_numpy())

    def signals(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """``surge``: far above the counterfactual; ``new_flow``: the same for a flow
        without trade in the training window."""
        rising = table["z"].to_numpy() >= self.config.signal_z
        new = table["trained_nonzero"].to_numpy() == 0
        return {
            "surge": rising & ~new,
            "new_flow": rising & new & (table["actual"].to_numpy() > 0),
        }

    def to_state(self) -> DetectorState:
        return DetectorState(arrays={"calibration": self.calibration_.to_array()})

    @classmethod
    def from_state(cls, state: DetectorState, config: DetectionConfig) -> Self:
        detector = cls(config)
        detector.calibration_ = StoufferCalibration.from_array(state.arrays["calibration"])
        return detector
