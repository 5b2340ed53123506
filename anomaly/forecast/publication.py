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
- a reporter that usually declares many series a month of one direction (imports, or
  exports: at least :data:`GAP_MIN_ROWS` in its median month with any) and declared
  **none** of that direction in some month did not publish it (a gap in its
  submissions, a month withheld, exports published late): that so many flows all went
  without trade at once is not a reading anyone would make. Read as zeros, a year's gap
  in six makes each of its flows look a sixth less regular in training than it is, and
  so more regular (a lead) when scored. The scoring side reads a direction the same way
  (:attr:`anomaly.model.context.ScoringContext.direction_gaps`).

Months are counted per *publisher*, a reporter's declarations of one direction; a late
start is read on the reporter's two directions together (a transit country whose
exports to Russia begin late may have begun trading late). A publisher's months are
counted over all its series: in memory in chunks of rows (:func:`declared_rows`), never
copying the matrix; over partitions, by adding each partition's counts
(:func:`anomaly.panel.merge_declared`).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomaly.panel.core import Panel, flow_directions, publishers, reporter_sums

logger = logging.getLogger(__name__)

#: Share of months since its first a reporter must declare something in to be read as
#: starting late (see the module docstring).
LATE_START_DENSITY = 0.9
#: A publisher whose median month with any declaration holds at least this many
#: declared series did not publish a month in which it declared none
#: (:func:`busy_publishers`; the scoring context reads a direction by the same rule).
GAP_MIN_ROWS = 20
#: Months with a declaration a publisher needs for its usual month to be read.
MIN_DECLARED_MONTHS = 3
#: Rows of the panel read at a time by :func:`declared_rows`.
_DECLARED_CHUNK = 100_000


@dataclass(frozen=True)
class UnpublishedMonths:
    """Training months in which each series' publisher (its reporter's declarations of
    its direction) is not known to have published.

    Attributes
    ----------
    months : numpy.ndarray of bool
        ``(publishers, months)``: whether each publisher's month is unknown.
    publisher : numpy.ndarray of int
        Each series' publisher (a row of ``months``).
    """

    months: np.ndarray
    publisher: np.ndarray

    def of(self, series: np.ndarray) -> UnpublishedMonths:
        """The same months for the series at positions ``series``."""
        return UnpublishedMonths(self.months, self.publisher[series])

    def first(self, n_months: int) -> UnpublishedMonths:
        """The same series over the first ``n_months`` months."""
        return UnpublishedMonths(self.months[:, :n_months], self.publisher)

    def series_months(self) -> np.ndarray:
        """``(series, months)``: whether each series' month is unknown."""
        return self.months[self.publisher]


def unpublished_months(
    declared: np.ndarray, publisher: np.ndarray, reporter: np.ndarray | None = None
) -> UnpublishedMonths | None:
    """Each publisher's training months that are unknown, not months without trade
    (see the module docstring); None when there are none (the usual case).

    Parameters
    ----------
    declared : numpy.ndarray of int
        ``(publishers, months)``: how many series each publisher declared in each month
        of the training window.
    publisher : numpy.ndarray of int
        Each series' publisher (a row of ``declared``).
    reporter : numpy.ndarray of int, optional
        Each publisher's reporter (publishers of one reporter share a number); None:
        every publisher is a reporter of its own.

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
    if reporter is None:
        reporter = np.arange(len(declared))
    by_reporter = _any_by_reporter(published, reporter)
    started = by_reporter.any(axis=1)
    first_month = np.where(started, by_reporter.argmax(axis=1), 0)
    density = by_reporter.sum(axis=1) / np.maximum(n_months - first_month, 1)
    late = (first_month > 0) & (density >= LATE_START_DENSITY)
    unknown = (late[:, None] & (np.arange(n_months) < first_month[:, None]))[reporter]
    unknown |= _gaps(declared)
    return UnpublishedMonths(unknown, publisher) if unknown.any() else None


def published_directions(declared: pd.DataFrame) -> pd.DataFrame:
    """Which months each reporter published each direction of its trade, from how many
    series it declared (:meth:`~anomaly.panel.Panel.publishers_declared`, index:
    reporter, direction): a month it published anything in, unless it declared none of
    a direction of which its usual month holds at least :data:`GAP_MIN_ROWS` (as the
    scoring side reads a direction).

    Examples
    --------
    >>> declared = pd.DataFrame([[30, 0, 30, 30], [2, 2, 0, 2]],
    ...     index=pd.MultiIndex.from_tuples([("KGZ", "exports"), ("KGZ", "imports")]))
    >>> published_directions(declared).to_numpy().astype(int).tolist()
    [[1, 0, 1, 1], [1, 1, 1, 1]]
    """
    counts = declared.to_numpy()
    reporter = pd.factorize(declared.index.get_level_values(0))[0]
    published = _any_by_reporter(counts > 0, reporter)[reporter] & ~_gaps(counts)
    return pd.DataFrame(published, index=declared.index, columns=declared.columns)


def _any_by_reporter(published: np.ndarray, reporter: np.ndarray) -> np.ndarray:
    """``(reporters, months)``: whether any of each reporter's publishers (rows of
    ``published``; ``reporter``: each row's) published in each month."""
    by_reporter = np.zeros((int(reporter.max(initial=-1)) + 1, published.shape[1]), dtype=bool)
    np.logical_or.at(by_reporter, reporter, published)
    return by_reporter


def busy_publishers(declared: np.ndarray) -> np.ndarray:
    """Per row of ``declared`` (a publisher's count of declared series per month):
    whether its usual month, the median of its months with any declaration, holds at
    least :data:`GAP_MIN_ROWS` series, read over at least :data:`MIN_DECLARED_MONTHS`
    such months. A busy publisher's month without a declaration is a month it did not
    publish; the training side (:func:`unpublished_months`) and the scoring side
    (:attr:`anomaly.model.context.ScoringContext.direction_gaps`) read it alike.

    Examples
    --------
    >>> busy_publishers(np.array([[30, 0, 25, 40], [5, 3, 0, 4], [50, 0, 0, 0]])).tolist()
    [True, False, False]
    """
    published = declared > 0
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a publisher without declarations
        usual = np.nanmedian(np.where(published, declared, np.nan), axis=1)
    return (published.sum(axis=1) >= MIN_DECLARED_MONTHS) & (np.nan_to_num(usual) >= GAP_MIN_ROWS)


def _gaps(declared: np.ndarray) -> np.ndarray:
    """``(publishers, months)``: the months without a declaration of a busy publisher
    (:func:`busy_publishers`)."""
    return busy_publishers(declared)[:, None] & ~(declared > 0)


def declared_rows(
    panel: Panel, first: pd.Period, last: pd.Period
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How many series each publisher declared in each month of ``first..last``
    (``(publishers, months)``), each series' publisher (a row of it) and each
    publisher's reporter: what :func:`unpublished_months` reads.

    Months of the window outside the panel's are months with none.
    """
    n_months = last.ordinal - first.ordinal + 1
    lo = first.ordinal - panel.periods[0].ordinal
    src_lo, src_hi = max(lo, 0), min(lo + n_months, panel.n_periods)
    publisher, reporters = publishers(panel.keys)
    counts = np.zeros((2 * len(reporters), n_months), dtype=np.int64)
    if src_hi > src_lo:
        for rows in range(0, len(publisher), _DECLARED_CHUNK):
            chunk = slice(rows, rows + _DECLARED_CHUNK)
            declared = ~np.isnan(panel.values[chunk, src_lo:src_hi])
            counts[:, src_lo - lo : src_hi - lo] += reporter_sums(
                publisher[chunk], len(counts), declared
            )
    return counts, publisher, np.repeat(np.arange(len(reporters)), 2)


def log_unpublished(
    keys: pd.DataFrame, unpublished: UnpublishedMonths | None, periods: pd.PeriodIndex
) -> None:
    """Log the publishers with unknown training months (``KAZ exports``): when a late
    one first published, and the months it did not publish after that."""
    if unpublished is None:
        return
    names = keys["reporter"].astype(str) + " " + flow_directions(keys["flow"])
    rows = pd.Series(unpublished.publisher, index=names.to_numpy()).groupby(level=0).first()
    notes = []
    for name, row in rows.items():
        unknown = unpublished.months[row]
        start = int(np.argmax(~unknown))
        if start:
            notes.append(f"{name} first published {periods[start]}")
        later = np.flatnonzero(unknown[start:]) + start
        if len(later):
            notes.append(
                f"{name} not published in {len(later)} month(s) of {periods[later[0]]}.."
                f"{periods[later[-1]]}"
            )
    logger.info(
        "training months not published, read as unknown rather than without trade: %s",
        "; ".join(notes),
    )
