"""Ensemble: one calibrated score per series from its detectors' p-values.

Detectors see the same flow from different sides, so their p-values are dependent.
The Cauchy combination test (Liu & Xie, 2020) stays valid under arbitrary dependence
and is led by the strongest signal, which is what an analyst wants: a flow is a lead
when any detector finds strong evidence. The score is ``-log10`` of the combined
p-value: higher = more anomalous, everywhere in this package.

:class:`Ensemble` runs a list of detectors (:mod:`anomaly.detect.base`) through their
steps in an order their ``requires`` allow, decides the scope, and sets the alert
threshold on the placebo window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Self

import numpy as np
import pandas as pd
from scipy.special import log_ndtr

from anomaly.detect.base import Detector, PlaceboEvidence, ScoringWindow
from anomaly.detect.config import DetectionConfig
from anomaly.detect.scope import in_scope
from anomaly.detect.training import TrainingStatistics, fit_detector
from anomaly.panel import Panel

logger = logging.getLogger(__name__)

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


class Ensemble:
    """A list of detectors, calibrated together and combined into one score per series.

    Detectors run in list order, except that one reading another's statistics
    (``requires``) runs after it. The statistics table holds, after the summary, the
    statistics of the detectors that read only their own columns, then ``in_scope``,
    then those of the detectors that read others'. p-values and signals keep list
    order.

    Parameters
    ----------
    detectors : sequence of Detector
    config : DetectionConfig
    false_alarm_rate : float
        Share of in-scope placebo series that alert: sets :attr:`threshold_`.

    Attributes
    ----------
    threshold_ : float
        Alert threshold on the combined score.
    """

    def __init__(
        self, detectors: Sequence[Detector], config: DetectionConfig, false_alarm_rate: float
    ) -> None:
        self.detectors = list(detectors)
        self.config = config
        self.false_alarm_rate = false_alarm_rate
        names = [d.name for d in self.detectors]
        if len(set(names)) != len(names):
            raise ValueError(f"detector names must be distinct, got {names}")
        self._independent, self._dependent = _run_order(self.detectors)

    @property
    def signal_names(self) -> tuple[str, ...]:
        """Every signal a lead can carry, in the order leads list them."""
        return tuple(name for d in self.detectors for name in d.signal_names)

    @property
    def pvalue_columns(self) -> tuple[str, ...]:
        """Leads columns of the detectors' p-values, in list order."""
        return tuple(d.pvalue_column for d in self.detectors if d.pvalue_column)

    def learned(self, train: Panel | TrainingStatistics) -> Ensemble:
        """Unfitted copies of the detectors that learned from ``train`` only (what the
        placebo window's evidence is summarised with); ``train`` is a training panel
        or what the detectors learn from one, gathered over its partitions."""
        return Ensemble(
            [fit_detector(d.clone(), train, None) for d in self.detectors],
            self.config,
            self.false_alarm_rate,
        )

    def fit(self, train: Panel | TrainingStatistics, placebo: PlaceboEvidence) -> Self:
        """Fit every detector on ``train`` (a training panel, or its statistics:
        :meth:`learned`) and ``placebo``, then set the alert threshold."""
        table = self._with_statistics(
            placebo.table,
            before=lambda detector, table: fit_detector(
                detector, train, replace(placebo, table=table)
            ),
        )
        scores = combined_scores(self.log_pvalues(table))
        # Alerts are raised on in-scope series only, so their false-alarm rate is
        # calibrated among them (all series when the placebo has too few).
        scope = table["in_scope"].to_numpy()
        reference = scores[scope] if scope.sum() >= self.config.min_scope_series else scores
        self.threshold_ = float(np.quantile(reference, 1 - self.false_alarm_rate))
        logger.info(
            "placebo calibration on %d series: alert threshold %.2f", len(table), self.threshold_
        )
        return self

    def summarise(self, window: ScoringWindow) -> dict[str, np.ndarray]:
        """Every detector's summary columns of one chunk of series, in list order."""
        columns: dict[str, np.ndarray] = {}
        for detector in self.detectors:
            columns |= detector.summarise(window)
        return columns

    def statistics(self, summary: pd.DataFrame) -> pd.DataFrame:
        """The summary with every detector's statistics and ``in_scope`` added."""
        return self._with_statistics(summary)

    def _with_statistics(
        self,
        summary: pd.DataFrame,
        before: Callable[[Detector, pd.DataFrame], object] | None = None,
    ) -> pd.DataFrame:
        """``summary`` (a shallow copy: new columns never reach the caller's frame) with
        each detector's statistics added in run order, ``in_scope`` after those that
        read only their own columns; ``before(detector, table)`` runs first for each
        (fitting, on the placebo)."""
        table = summary.copy(deep=False)
        for detector in (*self._independent, None, *self._dependent):
            if detector is None:
                table["in_scope"] = in_scope(table, self.config)
                continue
            if before is not None:
                before(detector, table)
            for name, values in detector.statistics(table).items():
                table[name] = values
        return table

    def log_pvalues(self, table: pd.DataFrame) -> pd.DataFrame:
        """Natural log of each detector's p-value (``NaN`` where it does not apply),
        compressed beyond ``config.evidence_z`` (:func:`bounded_log_p`)."""
        floor = float(log_ndtr(-self.config.evidence_z))
        columns = {}
        for detector in self.detectors:
            if detector.pvalue_column:
                log_p = np.asarray(detector.log_pvalue(table), dtype=np.float64)
                columns[detector.pvalue_column] = bounded_log_p(log_p, floor)
        return pd.DataFrame(columns, index=table.index)

    def signal_flags(self, leads: pd.DataFrame) -> dict[str, np.ndarray]:
        """Which signals fired on each series (``leads`` holds the p-values)."""
        flags: dict[str, np.ndarray] = {}
        for detector in self.detectors:
            flags |= detector.signals(leads)
        return {name: np.nan_to_num(flags[name], nan=0).astype(bool) for name in self.signal_names}


def bounded_log_p(log_p: np.ndarray, floor: float) -> np.ndarray:
    """``log_p`` compressed below ``floor``: ``floor - log(1 + floor - log_p)``.

    Monotone (stronger evidence still ranks higher) but slow: a p-value of 1e-244
    beside a floor of 6e-16 becomes about 8e-19.

    Examples
    --------
    >>> bounded_log_p(np.array([-2.0, -35.0, -561.0, np.nan]), -35.0).round(1)
    array([ -2. , -35. , -41.3,   nan])
    """
    with np.errstate(invalid="ignore"):
        below = log_p < floor
        return np.where(below, floor - np.log1p(np.where(below, floor - log_p, 0.0)), log_p)


def combined_scores(log_pvalues: pd.DataFrame) -> np.ndarray:
    """The combined score (``-log10`` of the Cauchy-combined p-value) of each row."""
    return score_from_log_p(log_cauchy_combination(log_pvalues.to_numpy()))


def _run_order(detectors: list[Detector]) -> tuple[list[Detector], list[Detector]]:
    """Detectors that read no other's statistics (list order), then the others in an
    order that gives each what it reads (list order where free)."""
    independent = [d for d in detectors if not d.requires]
    available = {column for d in independent for column in d.provides}
    dependent, waiting = [], [d for d in detectors if d.requires]
    while waiting:
        ready = next((d for d in waiting if set(d.requires) <= available), None)
        if ready is None:
            missing = {d.name: sorted(set(d.requires) - available) for d in waiting}
            raise ValueError(f"no detector provides what these read: {missing}")
        waiting.remove(ready)
        dependent.append(ready)
        available |= set(ready.provides)
    return independent, dependent
