"""Calibration of raw detector statistics on a pre-war placebo window.

Each detector's raw statistic is read against its own distribution on months where
no evasion is assumed (the last months of the training window, forecast from the
months before them). A calibrated z then means the same for every detector and every
series, and so does the p-value it gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr


@dataclass(frozen=True)
class ZCalibration:
    """Map a raw statistic to a standard-normal ``z`` using its placebo distribution.

    ``z = (raw - centre) / spread`` with the robust centre and spread (median, scaled
    MAD) of the statistic on a pre-war placebo window, where no evasion is assumed.
    """

    centre: float = 0.0
    spread: float = 1.0

    @classmethod
    def from_placebo(cls, raw: np.ndarray) -> ZCalibration:
        """Fit on placebo values (``NaN`` ignored; identity if too few)."""
        values = raw[np.isfinite(raw)]
        if values.size < 20:
            return cls()
        centre = float(np.median(values))
        spread = float(1.4826 * np.median(np.abs(values - centre)))
        return cls(centre, max(spread, 1e-3))

    def z(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated z (higher = further above the counterfactual)."""
        return (raw - self.centre) / self.spread

    def upper_p(self, raw: np.ndarray) -> np.ndarray:
        """One-sided tail probability of an upward deviation (1 where undefined)."""
        z = self.z(raw)
        return np.where(np.isfinite(z), ndtr(-z), 1.0)


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
    def from_placebo(cls, raw: np.ndarray, size: np.ndarray, n_bins: int = 5) -> BinnedZCalibration:
        """Fit on placebo values; bins with fewer than 20 values use the pooled fit."""
        valid = np.isfinite(raw) & np.isfinite(size)
        pooled = ZCalibration.from_placebo(raw[valid])
        if valid.sum() < 20 * n_bins:
            return cls(np.array([]), np.array([pooled.centre]), np.array([pooled.spread]))
        edges = np.quantile(size[valid], np.linspace(0, 1, n_bins + 1)[1:-1])
        bins = np.digitize(size[valid], edges)
        fits = [ZCalibration.from_placebo(raw[valid][bins == b]) for b in range(n_bins)]
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

    Examples
    --------
    >>> empirical_upper_p(np.array([1.0, 2.0, 3.0]), np.array([2.5, 10.0]))
    array([0.5 , 0.25])
    """
    ordered = np.sort(placebo[np.isfinite(placebo)])
    at_or_above = len(ordered) - np.searchsorted(ordered, values, side="left")
    return (1 + at_or_above) / (1 + len(ordered))
