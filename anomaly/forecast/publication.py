"""Which training months of a reporter are unknown rather than months without trade.

Statistics offices publish no row for a month without trade, so an empty month of a
series is read as zero trade — if its reporter published that month. Two kinds of
months are not known to be without trade, and the forecaster's share of months with
trade (and the regularity detector's, which reads it) must leave them out:

- a reporter that **starts late** (a statistics office that joined the source, a file
  that stacks extracts of different lengths) declared nothing before its first month.
  A reporter starts late if its first month is not the window's and it declared
  something in at least :data:`LATE_START_DENSITY` of the months since; one that
  declares less often is sparse (a small country in a narrow extract), and its empty
  months before the first are read as no trade, as its empty months after it are;
- a reporter that usually declares many series a month (at least
  :data:`GAP_MIN_ROWS` in its median month with any) and declared **none** in some
  month did not publish it (a gap in its submissions, a month withheld): that so many
  flows all went without trade at once is not a reading anyone would make. Read as
  zeros, a year's gap in six makes each of its flows look a sixth less regular in
  training than it is, and so more regular (a lead) when scored.

A reporter's months are counted over all its series: in memory in chunks of rows
(:func:`declared_rows`), never copying the matrix; over partitions, by adding each
partition's counts (:func:`anomaly.panel.merge_declared`).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomaly.panel.core import Panel, reporter_sums

logger = logging.getLogger(__name__)

#: Share of months since its first a reporter must declare something in to be read as
#: starting late (see the module docstring).
LATE_START_DENSITY = 0.9
#: A reporter whose median month with any declaration holds at least this many
#: declared series did not publish a month in which it declared none (the number the
#: scoring context asks of a direction: :data:`anomaly.model.context.MIN_DIRECTION_ROWS`).
GAP_MIN_ROWS = 20
#: Months with a declaration a reporter needs for its usual month to be read.
MIN_DECLARED_MONTHS = 3
#: Rows of the panel read at a time by :func:`declared_rows`.
_DECLARED_CHUNK = 100_000


@dataclass(frozen=True)
class UnpublishedMonths:
    """Training months in which each series' reporter is not known to have published.

    Attributes
    ----------
    months : numpy.ndarray of bool
        ``(reporters, months)``: whether each reporter's month is unknown.
    reporter : numpy.ndarray of int
        Each series' reporter (a row of ``months``).
    """

    months: np.ndarray
    reporter: np.ndarray

    def of(self, series: np.ndarray) -> UnpublishedMonths:
        """The same months for the series at positions ``series``."""
        return UnpublishedMonths(self.months, self.reporter[series])

    def first(self, n_months: int) -> UnpublishedMonths:
        """The same series over the first ``n_months`` months."""
        return UnpublishedMonths(self.months[:, :n_months], self.reporter)

    def series_months(self) -> np.ndarray:
        """``(series, months)``: whether each series' month is unknown."""
        return self.months[self.reporter]


def unpublished_months(declared: np.ndarray, reporter: np.ndarray) -> UnpublishedMonths | None:
    """Each reporter's training months that are unknown, not months without trade (see
    the module docstring); None when there are none (the usual case).

    Parameters
    ----------
    declared : numpy.ndarray of int
        ``(reporters, months)``: how many series each reporter declared in each month
        of the training window.
    reporter : numpy.ndarray of int
        Each series' reporter (a row of ``declared``).

    Examples
    --------
    A reporter of 30 series with a month missing, one of 2 series with an empty month,
    and one that starts late:

    >>> declared = np.array([[30, 30, 0, 30, 30, 30], [2, 1, 0, 1, 2, 0], [0, 0, 2, 2, 2, 2]])
    >>> unpublished_months(declared, np.array([0, 1, 2])).months.astype(int).tolist()
    [[0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0]]
    """
    published = declared > 0
    n_months = declared.shape[1]
    started = published.any(axis=1)
    first_month = np.where(started, published.argmax(axis=1), 0)
    density = published.sum(axis=1) / np.maximum(n_months - first_month, 1)
    late = (first_month > 0) & (density >= LATE_START_DENSITY)
    unknown = late[:, None] & (np.arange(n_months) < first_month[:, None])
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a reporter without declarations
        usual = np.nanmedian(np.where(published, declared, np.nan), axis=1)
    busy = (published.sum(axis=1) >= MIN_DECLARED_MONTHS) & (np.nan_to_num(usual) >= GAP_MIN_ROWS)
    unknown |= busy[:, None] & ~published
    return UnpublishedMonths(unknown, reporter) if unknown.any() else None


def declared_rows(panel: Panel, first: pd.Period, last: pd.Period) -> tuple[np.ndarray, np.ndarray]:
    """How many series each reporter declared in each month of ``first..last``
    (``(reporters, months)``), and each series' reporter (a row of it).

    Months of the window outside the panel's are months with none.
    """
    n_months = last.ordinal - first.ordinal + 1
    lo = first.ordinal - panel.periods[0].ordinal
    src_lo, src_hi = max(lo, 0), min(lo + n_months, panel.n_periods)
    reporter, reporters = pd.factorize(panel.keys["reporter"])
    counts = np.zeros((len(reporters), n_months), dtype=np.int64)
    if src_hi > src_lo:
        for rows in range(0, len(reporter), _DECLARED_CHUNK):
            chunk = slice(rows, rows + _DECLARED_CHUNK)
            declared = ~np.isnan(panel.values[chunk, src_lo:src_hi])
            counts[:, src_lo - lo : src_hi - lo] += reporter_sums(
                reporter[chunk], len(reporters), declared
            )
    return counts, reporter


def log_unpublished(
    keys: pd.DataFrame, unpublished: UnpublishedMonths | None, periods: pd.PeriodIndex
) -> None:
    """Log the reporters with unknown training months: when a late one first published,
    and the months a reporter did not publish after that."""
    if unpublished is None:
        return
    names = pd.Series(unpublished.reporter, index=keys["reporter"]).groupby(level=0).first()
    notes = []
    for name, row in names.items():
        unknown = unpublished.months[row]
        start = int(np.argmax(~unknown))
        if start:
            notes.append(f"{name} first published {periods[start]}")
        later = np.flatnonzero(unknown[start:]) + start
        if len(later):
            notes.append(
                f"{name} did not publish {len(later)} month(s) in {periods[later[0]]}.."
                f"{periods[later[-1]]}"
            )
    logger.info(
        "training months not published, read as unknown rather than without trade: %s",
        "; ".join(notes),
    )
