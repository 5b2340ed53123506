"""Ensemble: one calibrated score per series from its detectors' p-values.

Detectors see the same flow from different sides, so their p-values are dependent.
The Cauchy combination test (Liu & Xie, 2020) stays valid under arbitrary dependence
and is led by the strongest signal, which is what an analyst wants: a flow is a lead
when any detector finds strong evidence. The score is ``-log10`` of the combined
p-value: higher = more anomalous, everywhere in this package.
"""

from __future__ import annotations

import numpy as np

#: p-values are kept inside this range so the Cauchy transform stays finite.
P_FLOOR = 1e-15


def cauchy_combination(pvalues: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Combine each row's p-values (``NaN`` = detector not applicable) into one.

    Parameters
    ----------
    pvalues : numpy.ndarray
        ``(n_series, n_detectors)``.
    weights : numpy.ndarray, optional
        Non-negative weight per detector (equal by default).

    Returns
    -------
    numpy.ndarray
        Combined p-value per row (1 where no detector applies).

    Examples
    --------
    >>> cauchy_combination(np.array([[0.01, np.nan], [0.5, 0.5]])).round(3)
    array([0.01, 0.5 ])
    """
    p = np.clip(pvalues, P_FLOOR, 1 - P_FLOOR)
    w = np.ones(p.shape[1]) if weights is None else np.asarray(weights, dtype=np.float64)
    present = np.isfinite(p)
    w_rows = np.where(present, w, 0.0)
    total = w_rows.sum(axis=1)
    statistic = np.where(present, w * np.tan((0.5 - np.where(present, p, 0.5)) * np.pi), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = statistic.sum(axis=1) / total
    combined = 0.5 - np.arctan(t) / np.pi
    return np.where(total > 0, np.clip(combined, P_FLOOR, 1.0), 1.0)


def score_from_p(p: np.ndarray) -> np.ndarray:
    """The ensemble score ``-log10(p)``: 2 means p = 0.01."""
    return -np.log10(np.clip(p, P_FLOOR, 1.0))
