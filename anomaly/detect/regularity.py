"""Regularity detector: a flow that used to skip months and now trades in every one.

Trade statistics record shipments, and a small flow is shipped now and then: some
months hold none. A steady channel — goods bought to be passed on, month after month —
fills those months. The residual detector reads how much a flow's value rose; this one
reads how often it traded (trade economists' *extensive margin*): the number of the
window's published months in which the flow traded, against its share of training months
with trade — read from the month it began if it began within the training window
(:meth:`~anomaly.forecast.Forecaster.occurrence_months`) — as the z of a beta-binomial
tail (:func:`regularity_statistic`).

A window that begins before the sanctions' onset
(:attr:`~anomaly.detect.config.DetectionConfig.sanctions_onset`) and reaches it is
counted from the onset on (:func:`months_read`): a channel opened because of the
sanctions cannot fill the months before them, and at the edge of the count, where such
a channel lies, each quiet pre-war month moves the tail by an order of magnitude: a flow
that traded in three quarters of its 72 training months and in each of the 34 months
from the onset reads 3.6 (p = 2e-4); counted from January, with one of the two months
before the onset empty (35 of 36), 3.1 (p = 1e-3).

The months of one flow are not independent (a flow that turned regular stays so, and a
training share that misjudged a flow misjudges every month of it), so the statistic's
spread grows with the window. It is calibrated on the placebo window over its first half
and over all of it, and read at the scoring window's length on the line through the two
variances (:func:`fit_calibration`); the calibrated z is read no further than the
placebo can tell apart: no p-value is smaller than ``1 / (placebo series + 1)``. A flow
that traded in nearly every training month (share above ``1 -`` :data:`MIN_SHARE`) has
no months to fill, and one with fewer than :data:`MIN_TRADED_MONTHS` traded training
months is a new flow, read as such by the residual detector: neither is read here. The
training share is the forecaster's, read over the months its reporter is known to have
published (:mod:`anomaly.forecast.publication`): the months before a late start and the
gaps of a reporter of many series (of one direction or both) are not months without
trade. A reporter of few series that declared nothing in a month cannot be told from
one that traded nothing: those months count as months without trade.
"""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np
import pandas as pd
from scipy.special import betaln, ndtri

from anomaly.detect.base import BaseDetector, DetectorState, PlaceboEvidence, ScoringWindow
from anomaly.detect.calibration import StoufferCalibration, robust_spread, upper_tail_log_p
from anomaly.detect.config import DetectionConfig
from anomaly.panel import Panel

#: Fewest traded months in the training window for a series to be read: with fewer, its
#: share is a guess (and the series is a new flow to the residual detector).
MIN_TRADED_MONTHS = 6
#: A series is read where its training share of months with trade lies within
#: ``[MIN_SHARE, 1 - MIN_SHARE]``: above, it has no months left to fill.
MIN_SHARE = 0.02


def months_read(periods: pd.PeriodIndex, sanctions_onset: str) -> np.ndarray:
    """Which of a window's months the count of months with trade reads: those from the
    sanctions' onset on when the window begins before the onset and reaches it; else
    all (a placebo window before the war, a window wholly after the onset).

    Examples
    --------
    >>> months_read(pd.period_range("2022-01", "2022-05", freq="M"), "2022-03").tolist()
    [False, False, True, True, True]
    >>> months_read(pd.period_range("2021-01", "2021-03", freq="M"), "2022-03").tolist()
    [True, True, True]
    """
    onset = pd.Period(sanctions_onset, freq="M")
    if len(periods) and periods[0] < onset <= periods[-1]:
        return np.asarray(periods >= onset)
    return np.ones(len(periods), dtype=bool)


def regularity_statistic(
    traded: np.ndarray, months: np.ndarray, trained: np.ndarray, trained_months: np.ndarray
) -> np.ndarray:
    """How surprising a window's count of months with trade is, given training, as a z.

    The count ``K`` of ``n`` window months with trade is read as beta-binomial: each
    month trades with the flow's share ``q``, itself uncertain after ``t`` of ``m``
    training months traded (Jeffreys' posterior, ``Beta(t + ½, m - t + ½)``). The
    statistic is the z of its upper tail at the count found, ``k`` (mid-p:
    ``P(K > k) + P(K = k)/2``, :func:`beta_binomial_midp`). The exact tail matters at
    the edge: a flow that traded in every window month after trading in three quarters
    of its training months is far less likely than a normal approximation of the two
    shares says (36 of 36 months after 54 of 72: a two-proportion z of 2.8, this z 3.7).

    Parameters
    ----------
    traded, months : numpy.ndarray
        Per series, ``k`` and ``n``: the published months counted
        (:func:`months_read`) with trade, and all the published months counted.
    trained, trained_months : numpy.ndarray
        Per series, ``t`` and ``m``: the training months with trade, and the training
        months they are read over.

    Returns
    -------
    numpy.ndarray
        Per series, the z (``+inf`` beyond floating point's smallest tail); ``NaN``
        where ``n`` or ``m`` is zero or ``t/m`` lies outside
        ``[MIN_SHARE, 1 - MIN_SHARE]``.

    Examples
    --------
    >>> regularity_statistic(np.array([36.0, 18.0]), np.array([36.0, 36.0]),
    ...     np.array([54.0, 36.0]), np.array([72.0, 72.0])).round(2).tolist()
    [3.68, 0.0]
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        share = trained / trained_months
    read = (months > 0) & (trained_months > 0) & (share >= MIN_SHARE) & (share <= 1 - MIN_SHARE)
    read &= np.isfinite(traded)  # a missing count is no evidence (its tail would read 0)
    z = np.full(len(read), np.nan)
    midp = beta_binomial_midp(
        traded[read], months[read], trained[read] + 0.5, trained_months[read] - trained[read] + 0.5
    )
    z[read] = -ndtri(np.clip(midp, 0.0, 1.0))  # rounding can take a sum of ones past 1
    return z


def beta_binomial_midp(
    count: np.ndarray, trials: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """``P(K > k) + P(K = k)/2`` for ``K ~ BetaBinomial(n, a, b)``, per row.

    The probabilities of ``0..n`` are built by the ratio of consecutive ones (from
    ``P(K = 0) = B(a, n + b) / B(a, b)``), one pass over ``j`` for all rows of the same
    ``n``: no row is computed alone, and a tail far below the mid-p of ``1 - P(K=n)/2``
    keeps its relative precision (``1 - cdf`` would round it to zero).

    Parameters
    ----------
    count, trials : numpy.ndarray
        ``k`` and ``n`` (whole numbers, ``0 <= k <= n``).
    a, b : numpy.ndarray
        The beta distribution's parameters (positive).

    Examples
    --------
    >>> beta_binomial_midp(np.array([0.0, 2.0]), np.array([2.0, 2.0]),
    ...     np.array([1.0, 1.0]), np.array([1.0, 1.0])).round(4).tolist()  # K uniform on 0..2
    [0.8333, 0.1667]
    """
    midp = np.empty(len(count))
    for n in np.unique(trials).astype(np.int64):
        rows = np.flatnonzero(trials == n)
        k, a_n, b_n = count[rows], a[rows], b[rows]
        log_pmf = betaln(a_n, n + b_n) - betaln(a_n, b_n)
        tail = np.where(k == 0, 0.5, 0.0) * np.exp(log_pmf)
        for j in range(1, n + 1):
            log_pmf += np.log((n - j + 1) / j) + np.log((j - 1 + a_n) / (n - j + b_n))
            tail += np.where(j > k, 1.0, np.where(j == k, 0.5, 0.0)) * np.exp(log_pmf)
        midp[rows] = tail
    return midp


def fit_calibration(
    full: np.ndarray,
    full_months: np.ndarray,
    half: np.ndarray,
    half_months: np.ndarray,
    min_values: int,
) -> StoufferCalibration | None:
    """The statistic's placebo centre, and its variance as a line in the window's length.

    Parameters
    ----------
    full, half : numpy.ndarray
        Per placebo series, the statistic over the placebo window and over its first
        half (``NaN`` where not read); only series with both are used.
    full_months, half_months : numpy.ndarray
        Per placebo series, the months each was read over (their medians are the two
        lengths).
    min_values : int
        Fewest series to fit on.

    Returns
    -------
    StoufferCalibration or None
        ``centre``: the median of ``full`` (read as the centre at every length); the
        variance at each length is the robust spread squared, and the line through the
        two (never falling with length, and at one month at least a quarter of the
        smaller) gives it at any length as ``a + b·(n - 1)``. None with fewer than
        ``min_values`` series or a spread of zero.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> bias = rng.normal(0, 0.2, 4000)  # a misjudged share shows in every month
    >>> full = rng.normal(0, 1, 4000) + bias * np.sqrt(12)
    >>> half = rng.normal(0, 1, 4000) + bias * np.sqrt(6)
    >>> calibration = fit_calibration(full, np.full(4000, 12.0), half, np.full(4000, 6.0), 20)
    >>> round(float(calibration.spread(36) ** 2), 1)  # 1 + 0.04·36, as it should be
    2.4
    """
    read = np.isfinite(full) & np.isfinite(half)
    if read.sum() < min_values:
        return None
    centre = float(np.median(full[read]))
    variances = [
        robust_spread(values[read], float(np.median(values[read]))) ** 2 for values in (full, half)
    ]
    if min(variances) <= 0:
        return None
    lengths = [float(np.median(months[read])) for months in (full_months, half_months)]
    slope = 0.0
    if lengths[0] > lengths[1]:
        slope = max((variances[0] - variances[1]) / (lengths[0] - lengths[1]), 0.0)
    intercept = max(variances[0] - slope * (lengths[0] - 1), min(variances) / 4)
    return StoufferCalibration(centre, (intercept, slope, 0.0))


class RegularityDetector(BaseDetector):
    """A flow that trades in more months than it used to.

    Attributes
    ----------
    calibration_ : StoufferCalibration
        The statistic's placebo centre and its variance by window length.
    placebo_values_ : int
        Placebo series it was calibrated on: p-values are at least ``1 / (that + 1)``
        (0: not calibrated, read as a standard normal without a floor).
    """

    name: ClassVar[str] = "regularity"
    pvalue_column: ClassVar[str | None] = "p_regularity"
    signal_names: ClassVar[tuple[str, ...]] = ("regular_trade",)
    provides: ClassVar[tuple[str, ...]] = ("regularity_z",)

    def fit(self, train: Panel | None, placebo: PlaceboEvidence | None) -> Self:
        """Calibrate on the placebo window's series (``train`` is not read); without a
        placebo, or with too few of its series read, the statistic is read as a
        standard normal."""
        self.calibration_, self.placebo_values_ = StoufferCalibration(), 0
        if placebo is None:
            return self
        table = placebo.table
        full, half = _raw(table), _raw(table, early=True)
        calibration = fit_calibration(
            full,
            table["months_read"].to_numpy(dtype=np.float64),
            half,
            table["months_early"].to_numpy(dtype=np.float64),
            self.config.min_placebo_values,
        )
        if calibration is not None:
            self.calibration_ = calibration
            self.placebo_values_ = int((np.isfinite(full) & np.isfinite(half)).sum())
        return self

    def summarise(self, window: ScoringWindow) -> dict[str, np.ndarray]:
        """Per series, how many of the months it reads (:func:`months_read`) its reporter
        published (``months_read``) and in how many of those it traded
        (``months_traded``); over the first half of those months, how many it published
        (``months_early``) and traded in (``months_traded_early``), which calibration
        reads on the placebo window (a placebo that reaches the onset, after a training
        window that does, is counted as a scoring window is)."""
        read = months_read(window.window.periods, self.config.sanctions_onset)
        values = np.nan_to_num(window.window.values[:, read], nan=0.0, copy=False)
        published = window.published[:, read]
        traded = published & (values > 0)
        early = values.shape[1] // 2
        return {
            "months_read": published.sum(axis=1).astype(np.float64),
            "months_traded": traded.sum(axis=1).astype(np.float64),
            "months_early": published[:, :early].sum(axis=1).astype(np.float64),
            "months_traded_early": traded[:, :early].sum(axis=1).astype(np.float64),
        }

    def statistics(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """``regularity_z``: the calibrated statistic of each series it reads, at most the
        z of ``1 / (placebo series + 1)`` when calibrated: beyond that the placebo tells
        nothing apart. The re-routing detector and the ``regular_trade`` signal read this
        capped z, so with fewer than 99 placebo series (a cap below the signal's
        ``signal_z`` of p = 0.01) the signal cannot fire: so small a placebo cannot
        support it."""
        months = table["months_read"].to_numpy(dtype=np.float64)
        z = self.calibration_.z(_raw(table), months)
        if self.placebo_values_:
            z = np.minimum(z, -ndtri(1.0 / (self.placebo_values_ + 1.0)))
        return {"regularity_z": z}

    def log_pvalue(self, table: pd.DataFrame) -> np.ndarray:
        """The upper tail of ``regularity_z``."""
        return upper_tail_log_p(table["regularity_z"].to_numpy())

    def signals(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """``regular_trade``: it traded in far more months than it used to."""
        with np.errstate(invalid="ignore"):
            return {"regular_trade": table["regularity_z"].to_numpy() >= self.config.signal_z}

    def to_state(self) -> DetectorState:
        return DetectorState(
            arrays={
                "calibration": self.calibration_.to_array(),
                "placebo_values": np.array([self.placebo_values_]),
            }
        )

    @classmethod
    def from_state(cls, state: DetectorState, config: DetectionConfig) -> Self:
        detector = cls(config)
        detector.calibration_ = StoufferCalibration.from_array(state.arrays["calibration"])
        detector.placebo_values_ = int(state.arrays["placebo_values"][0])
        return detector


def _raw(table: pd.DataFrame, early: bool = False) -> np.ndarray:
    """The uncalibrated statistic of each series the detector reads (``NaN`` elsewhere):
    those with at least :data:`MIN_TRADED_MONTHS` traded training months and a known
    history; over the window's first half if ``early``."""
    trained = table["trained_nonzero"].to_numpy(dtype=np.float64)
    traded, months = (
        ("months_traded_early", "months_early") if early else ("months_traded", "months_read")
    )
    raw = regularity_statistic(
        table[traded].to_numpy(dtype=np.float64),
        table[months].to_numpy(dtype=np.float64),
        trained,
        table["trained_months"].to_numpy(dtype=np.float64),
    )
    reads = trained >= MIN_TRADED_MONTHS
    if "history_known" in table:
        reads &= table["history_known"].to_numpy(dtype=bool)
    return np.where(reads, raw, np.nan)
