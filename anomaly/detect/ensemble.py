"""Ensemble: one calibrated score per series from its detectors' p-values.

Detectors see the same flow from different sides, so their p-values are dependent.
The Cauchy combination test (Liu & Xie, 2020) stays valid under arbitrary dependence
and is led by the strongest signal, which is what an analyst wants: a flow is a lead
when any detector finds strong evidence. The score is ``-log10`` of the combined
p-value: higher = more anomalous, everywhere in this package.
"""

from __future__ import annotations

import numpy as np

#: p-values above this are capped before combining: a detector that sees nothing
#: (p near 1) adds a large negative term to the Cauchy statistic and could otherwise
#: veto another detector's strong evidence.
P_CAP = 0.99
#: Below this, ``tan((0.5 - p)π)`` is computed as ``1/(πp)`` (relative error < 1e-15).
TAIL_P = 1e-8


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
    with np.errstate(divide="ignore"):
        return np.exp(log_cauchy_combination(np.log(pvalues), weights))


def log_cauchy_combination(log_p: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Natural log of the Cauchy-combined p-value, from log p-values.

    Strong evidence has p-values far below what ``tan((0.5 - p)π)`` can take in floating
    point; there the term is ``1/(πp)``, summed as a log-sum-exp, so the combined
    p-value stays exact and ordered however small it is (a score of 50 is 10^-50).

    Examples
    --------
    >>> log_p = log_cauchy_combination(np.array([[-300.0, np.log(0.5)]]))
    >>> round(float(log_p[0] / np.log(10)), 1)  # p = e^-300 beside p = 0.5: about 2·e^-300
    -130.0
    """
    present = ~np.isnan(log_p)
    # p = 0 (log -inf) is the strongest evidence there is, not an absent detector.
    log_p = np.maximum(log_p, -1e6)
    w = np.ones(log_p.shape[1]) if weights is None else np.asarray(weights, dtype=np.float64)
    w = np.where(present, w, 0.0)
    total = w.sum(axis=1)
    log_p = np.where(present, np.minimum(log_p, np.log(P_CAP)), 0.0)
    tail = present & (log_p < np.log(TAIL_P))
    p_body = np.exp(np.where(present & ~tail, log_p, np.log(0.5)))
    body = (np.where(present & ~tail, w * np.tan((0.5 - p_body) * np.pi), 0.0)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tail_terms = np.where(tail, np.log(w) - np.log(np.pi) - log_p, -np.inf)
        top = tail_terms.max(axis=1)
        has_tail = np.isfinite(top)
        shift = np.where(has_tail, top, 0.0)
        log_tail = shift + np.log(np.exp(tail_terms - shift[:, None]).sum(axis=1))
        # With a tail term, T = (tail + body) / total >= ~3e7 / total > 0: work in logs.
        log_t = log_tail + np.log1p(body * np.exp(-log_tail)) - np.log(total)
        from_tail = -np.log(np.pi) - log_t
        from_body = np.log(np.clip(0.5 - np.arctan(body / total) / np.pi, 1e-300, 1.0))
    combined = np.where(has_tail, from_tail, from_body)
    return np.where(total > 0, np.minimum(combined, 0.0), 0.0)


def score_from_log_p(log_p: np.ndarray) -> np.ndarray:
    """The ensemble score ``-log10(p)`` from a natural-log p-value: 2 means p = 0.01."""
    return -log_p / np.log(10)
