"""Calibration of raw detector statistics on a pre-war placebo window.

Each detector's raw statistic is read against its own distribution on months where
no evasion is assumed (the last months of the training window, forecast from the
months before them). A calibrated z then means the same for every detector and every
series, and so does the p-value it gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr, ndtr

#: Scales a median absolute deviation to a normal standard deviation.
MAD_TO_SD = 1.4826
#: Fewest placebo values a robust calibration is fitted on (see ``DetectionConfig``).
MIN_VALUES = 20


def upper_tail_log_p(z: np.ndarray) -> np.ndarray:
    """Natural log of the standard normal's upper tail at each calibrated ``z``: the log
    p-value of a detector whose statistic is such a z; ``NaN`` where ``z`` is not
    finite (the detector does not apply).

    Examples
    --------
    >>> upper_tail_log_p(np.array([0.0, np.nan])).round(3).tolist()
    [-0.693, nan]
    """
    z = np.asarray(z, dtype=np.float64)
    return np.where(np.isfinite(z), log_ndtr(-z), np.nan)


def robust_spread(values: np.ndarray, centre: float) -> float:
    """Scaled median absolute deviation of ``values`` around ``centre``."""
    return float(MAD_TO_SD * np.median(np.abs(values - centre)))


@dataclass(frozen=True)
class ZCalibration:
    """Map a raw statistic to a standard-normal ``z`` using its placebo distribution.

    ``z = (raw - centre) / spread`` with the robust centre and spread (median, scaled
    MAD) of the statistic on a pre-war placebo window, where no evasion is assumed.
    """

    centre: float = 0.0
    spread: float = 1.0

    @classmethod
    def from_placebo(cls, raw: np.ndarray, min_values: int = MIN_VALUES) -> ZCalibration:
        """Fit on placebo values (``NaN`` ignored; identity if fewer than ``min_values``)."""
        values = raw[np.isfinite(raw)]
        if values.size < min_values:
            return cls()
        centre = float(np.median(values))
        return cls(centre, max(robust_spread(values, centre), 1e-3))

    def z(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated z (higher = further above the counterfactual)."""
        return (raw - self.centre) / self.spread

    def upper_p(self, raw: np.ndarray) -> np.ndarray:
        """One-sided tail probability of an upward deviation (1 where undefined)."""
        z = self.z(raw)
        return np.where(np.isfinite(z), ndtr(-z), 1.0)


@dataclass(frozen=True)
class StoufferCalibration:
    """Calibrate Stouffer's ``Σz/√n`` over a window of ``n`` months, for any ``n``.

    Months of one flow are not independent (a level the forecast missed shows in all
    of them, and more so further ahead), so the statistic's variance grows with the
    window: ``var(n) = a + b·(n-1) + c·(n-1)²``, fitted (non-negative) on the placebo
    window's prefixes of 1, 2, … months. A scoring window longer than the placebo is
    read with the extrapolated variance, not with the placebo's.

    Attributes
    ----------
    centre : float
        Median of the statistic over the placebo window.
    variance : tuple of float
        ``(a, b, c)``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> level_error = rng.normal(0, 0.5, (4000, 1))  # shared by a flow's months
    >>> calibration = StoufferCalibration.from_placebo(rng.normal(size=(4000, 12)) + level_error)
    >>> round(float(calibration.spread(12) ** 2))  # 1 + 0.25·12, as it should be
    4
    """

    centre: float = 0.0
    variance: tuple[float, float, float] = (1.0, 0.0, 0.0)

    @classmethod
    def from_placebo(
        cls, z_months: np.ndarray, min_values: int = MIN_VALUES
    ) -> StoufferCalibration:
        """Fit on the placebo's monthly z (series × months, ``NaN`` where unpublished);
        window lengths with fewer than ``min_values`` series are left out."""
        from scipy.optimize import nnls

        observed = np.isfinite(z_months)
        sums = np.cumsum(np.where(observed, z_months, 0.0), axis=1)
        counts = np.cumsum(observed, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            stouffer = sums / np.sqrt(counts)
        lags, variances = [], []
        for k in range(stouffer.shape[1]):
            values = stouffer[:, k][counts[:, k] > 0]
            if values.size >= min_values:
                variances.append(robust_spread(values, np.median(values)) ** 2)
                lags.append(k)
        if not lags:
            return cls()
        lag = np.array(lags, dtype=np.float64)
        design = np.column_stack([np.ones_like(lag), lag, lag**2])
        coefficients, _ = nnls(design, np.array(variances))
        full = stouffer[:, -1][counts[:, -1] > 0]
        a, b, c = (float(x) for x in coefficients)
        return cls(float(np.median(full)), (max(a, 1e-6), b, c))

    def spread(self, n_months: np.ndarray | int) -> np.ndarray:
        """Standard deviation of the statistic over a window of ``n_months``."""
        lag = np.maximum(np.asarray(n_months, dtype=np.float64) - 1, 0)
        a, b, c = self.variance
        return np.sqrt(a + b * lag + c * lag**2)

    def z(self, raw: np.ndarray, n_months: np.ndarray | int) -> np.ndarray:
        """Calibrated z (higher = further above the counterfactual)."""
        return (raw - self.centre) / self.spread(n_months)

    def to_array(self) -> np.ndarray:
        """``[centre, a, b, c]``: the calibration as a detector's state stores it."""
        return np.array([self.centre, *self.variance])

    @classmethod
    def from_array(cls, values: np.ndarray) -> StoufferCalibration:
        """The calibration :meth:`to_array` stored.

        Examples
        --------
        >>> calibration = StoufferCalibration(0.1, (1.0, 0.2, 0.0))
        >>> StoufferCalibration.from_array(calibration.to_array()) == calibration
        True
        """
        centre, a, b, c = (float(value) for value in values)
        return cls(centre, (a, b, c))


@dataclass(frozen=True)
class BinnedZCalibration:
    """:class:`ZCalibration` per bin of a size variable (small flows are noisier).

    Attributes
    ----------
    edges : numpy.ndarray
        Inner bin edges of the size variable (quantiles of the placebo's sizes).
    centres, spreads : numpy.ndarray
        Robust centre and spread of the raw statistic in each bin.
    """

    edges: np.ndarray
    centres: np.ndarray
    spreads: np.ndarray

    @classmethod
    def from_placebo(
        cls, raw: np.ndarray, size: np.ndarray, n_bins: int = 5, min_values: int = MIN_VALUES
    ) -> BinnedZCalibration:
        """Fit on placebo values; with fewer than ``min_values`` per bin on average, one
        pooled fit (and a bin with fewer than ``min_values`` is read uncalibrated)."""
        valid = np.isfinite(raw) & np.isfinite(size)
        pooled = ZCalibration.from_placebo(raw[valid], min_values)
        if valid.sum() < min_values * n_bins:
            return cls(np.array([]), np.array([pooled.centre]), np.array([pooled.spread]))
        edges = np.quantile(size[valid], np.linspace(0, 1, n_bins + 1)[1:-1])
        bins = np.digitize(size[valid], edges)
        fits = [ZCalibration.from_placebo(raw[valid][bins == b], min_values) for b in range(n_bins)]
        return cls(
            edges,
            np.array([f.centre for f in fits]),
            np.array([f.spread for f in fits]),
        )

    def z(self, raw: np.ndarray, size: np.ndarray) -> np.ndarray:
        """Calibrated z of each value, by the bin of its size."""
        bins = np.digitize(np.nan_to_num(size, nan=-np.inf), self.edges)
        return (raw - self.centres[bins]) / self.spreads[bins]


def empirical_upper_p(placebo: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Share of placebo values at or above each value, ``(1 + k) / (1 + n)``.

    ``NaN`` values have no p-value (``NaN``), never the strongest one.

    Examples
    --------
    >>> empirical_upper_p(np.array([1.0, 2.0, 3.0]), np.array([2.5, 10.0, np.nan]))
    array([0.5 , 0.25,  nan])
    """
    ordered = np.sort(placebo[np.isfinite(placebo)])
    at_or_above = len(ordered) - np.searchsorted(ordered, values, side="left")
    return np.where(np.isnan(values), np.nan, (1 + at_or_above) / (1 + len(ordered)))
