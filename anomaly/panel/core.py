"""The :class:`Panel`: a keys table beside a dense series-by-month value matrix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from anomaly.errors import DataError
from anomaly.schema import INWARD_FLOWS, SERIES_KEY_COLUMNS, VALUE_COLUMN


def as_month(period: str | pd.Period) -> pd.Period:
    """Parse a month given as ``"2022-03"`` or a monthly :class:`pandas.Period`.

    Examples
    --------
    >>> as_month("2022-03")
    Period('2022-03', 'M')
    """
    try:
        month = pd.Period(period, freq="M")
    except (ValueError, TypeError) as exc:
        raise DataError(f"cannot read {period!r} as a month", expected="YYYY-MM") from exc
    return month


@dataclass(frozen=True, eq=False)
class Panel:
    """Monthly trade series as one matrix.

    Row ``i`` of :attr:`values` is the series described by row ``i`` of :attr:`keys`;
    column ``j`` is month :attr:`periods` ``[j]``. A month the reporter did not declare
    is ``NaN``: the panel keeps absence distinct from a declared zero, and each model
    decides what absence means.

    Parameters
    ----------
    keys : pandas.DataFrame
        One row per series with columns ``reporter, partner, flow, hs`` and a
        ``RangeIndex``.
    periods : pandas.PeriodIndex
        Contiguous monthly periods.
    values : numpy.ndarray
        Shape ``(len(keys), len(periods))``.
    currency : str, optional
        Currency of the values.
    extra : mapping of str to numpy.ndarray
        Further matrices of the same shape (``quantity``, ``weight_kg``).

    Examples
    --------
    >>> keys = pd.DataFrame({"reporter": ["DEU"], "partner": ["KGZ"],
    ...                      "flow": ["export"], "hs": ["854231"]})
    >>> p = Panel(keys, pd.period_range("2021-01", periods=3, freq="M"),
    ...           np.array([[1.0, np.nan, 3.0]]))
    >>> p.n_series, p.n_periods
    (1, 3)
    """

    keys: pd.DataFrame
    periods: pd.PeriodIndex
    values: np.ndarray
    currency: str | None = None
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [c for c in SERIES_KEY_COLUMNS if c not in self.keys.columns]
        if missing:
            raise DataError(f"panel keys lack columns {missing}")
        if not isinstance(self.periods, pd.PeriodIndex) or self.periods.freqstr != "M":
            raise DataError("panel periods must be a monthly PeriodIndex")
        n_periods = len(self.periods)
        if n_periods > 1 and not (np.diff(self.periods.asi8) == 1).all():
            raise DataError("panel periods must be contiguous months")
        shape = (len(self.keys), n_periods)
        for name, matrix in {VALUE_COLUMN: self.values, **self.extra}.items():
            if matrix.shape != shape:
                raise DataError(f"panel matrix {name!r} has shape {matrix.shape}, not {shape}")

    @property
    def n_series(self) -> int:
        """Number of series (rows)."""
        return self.values.shape[0]

    @property
    def n_periods(self) -> int:
        """Number of months (columns)."""
        return self.values.shape[1]

    def month_index(self, period: str | pd.Period) -> int:
        """Column of ``period``; may lie outside ``[0, n_periods)`` for other months."""
        return int(as_month(period).ordinal - self.periods[0].ordinal)

    def window(
        self, start: str | pd.Period | None, end: str | pd.Period | None, *, copy: bool = True
    ) -> Panel:
        """The same series restricted to months ``start..end`` (inclusive).

        Months outside the panel's range are added as not reported (``NaN``), so a
        scoring window may reach past the data. With ``copy=False`` a window within
        the panel's months shares its matrices with this panel, as read-only views (no
        memory is taken; this panel's matrices stay writable); one that reaches past
        them is a copy.
        """
        first = as_month(start) if start is not None else self.periods[0]
        last = as_month(end) if end is not None else self.periods[-1]
        if last < first:
            raise DataError(f"window end {last} is before its start {first}")
        periods = pd.period_range(first, last, freq="M")
        lo = first.ordinal - self.periods[0].ordinal

        def columns(matrix: np.ndarray) -> np.ndarray:
            if copy or lo < 0 or lo + len(periods) > matrix.shape[1]:
                return _take_columns(matrix, lo, len(periods))
            view = matrix[:, lo : lo + len(periods)]
            view.flags.writeable = False
            return view

        return Panel(
            self.keys,
            periods,
            columns(self.values),
            self.currency,
            {k: columns(v) for k, v in self.extra.items()},
        )

    def select(self, rows: np.ndarray) -> Panel:
        """A panel of the series at ``rows`` (integer positions or a boolean mask)."""
        keys = self.keys.iloc[rows].reset_index(drop=True)
        return Panel(
            keys,
            self.periods,
            self.values[rows],
            self.currency,
            {k: v[rows] for k, v in self.extra.items()},
        )

    def to_flows(self) -> pd.DataFrame:
        """The long canonical table of the reported (non-``NaN``) cells."""
        rows, cols = np.nonzero(~np.isnan(self.values))
        flows = self.keys.iloc[rows].reset_index(drop=True)
        flows.insert(0, "period", self.periods[cols])
        flows[VALUE_COLUMN] = self.values[rows, cols].astype(np.float64)
        for name, matrix in self.extra.items():
            flows[name] = matrix[rows, cols].astype(np.float64)
        flows.attrs["currency"] = self.currency
        return flows

    def published_mask(self) -> np.ndarray:
        """Whether each series' reporter published anything in each month.

        Statistics offices publish no row for a month without trade, so an absent
        month of a series is zero trade *if* its reporter published that month; if the
        reporter published nothing at all (Russia after 2021), it is missing data.
        """
        reporter = pd.factorize(self.keys["reporter"], sort=True)[0]
        return self.reporters_published().to_numpy()[reporter]

    def reporters_published(self) -> pd.DataFrame:
        """Whether each reporter published anything in each month: index reporter
        (sorted), one column per month (positions).

        The table of :meth:`published_mask` by reporter; of a partition of the
        series, add its :meth:`reporters_declared` to the other partitions'
        (:func:`merge_declared`) for the whole panel's.

        Examples
        --------
        >>> keys = pd.DataFrame({"reporter": ["KGZ", "DEU"], "partner": ["DEU", "KGZ"],
        ...                      "flow": ["import", "export"], "hs": ["854231"] * 2})
        >>> p = Panel(keys, pd.period_range("2021-01", periods=2, freq="M"),
        ...           np.array([[np.nan, 1.0], [2.0, np.nan]]))
        >>> p.reporters_published().to_numpy().tolist()
        [[True, False], [False, True]]
        """
        return self.reporters_declared() > 0

    def reporters_declared(self) -> pd.DataFrame:
        """How many series each reporter declared in each month: index reporter
        (sorted), one column per month (positions). Of disjoint sets of series, they
        add up (:func:`merge_declared`).

        Examples
        --------
        >>> keys = pd.DataFrame({"reporter": ["DEU", "DEU"], "partner": ["KGZ", "ARM"],
        ...                      "flow": ["export"] * 2, "hs": ["854231"] * 2})
        >>> p = Panel(keys, pd.period_range("2021-01", periods=2, freq="M"),
        ...           np.array([[1.0, 1.0], [2.0, np.nan]]))
        >>> p.reporters_declared().to_numpy().tolist()
        [[2, 1]]
        """
        reporter, reporters = pd.factorize(self.keys["reporter"], sort=True)
        declared = reporter_sums(reporter, len(reporters), ~np.isnan(self.values))
        return pd.DataFrame(declared, index=pd.Index(np.asarray(reporters, dtype=object)))

    def publishers_declared(self) -> pd.DataFrame:
        """How many series each reporter declared of each direction in each month:
        index ``reporter, direction`` (both directions of every reporter, ``exports``
        then ``imports``: :func:`flow_directions`; sorted), one column per month
        (positions). Of disjoint sets of series, they add up (:func:`merge_declared`).

        Examples
        --------
        >>> keys = pd.DataFrame({"reporter": ["KGZ", "KGZ"], "partner": ["DEU", "RUS"],
        ...                      "flow": ["import", "export"], "hs": ["854231"] * 2})
        >>> p = Panel(keys, pd.period_range("2021-01", periods=2, freq="M"),
        ...           np.array([[1.0, 1.0], [2.0, np.nan]]))
        >>> declared = p.publishers_declared()
        >>> declared.index.tolist(), declared.to_numpy().tolist()
        ([('KGZ', 'exports'), ('KGZ', 'imports')], [[1, 0], [1, 1]])
        """
        publisher, reporters = publishers(self.keys, sort=True)
        declared = reporter_sums(publisher, 2 * len(reporters), ~np.isnan(self.values))
        index = pd.MultiIndex.from_product(
            [pd.Index(np.asarray(reporters, dtype=object)), ["exports", "imports"]]
        )
        return pd.DataFrame(declared, index=index)

    def key_index(self) -> pd.MultiIndex:
        """The series keys as a :class:`pandas.MultiIndex` (for joins)."""
        return key_index(self.keys)


def merge_declared(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """:meth:`Panel.reporters_declared` (or :meth:`Panel.publishers_declared`) of a
    panel, from those of disjoint sets of its series (each over the same months).

    Examples
    --------
    >>> a = pd.DataFrame([[3, 0]], index=["DEU"])
    >>> b = pd.DataFrame([[1, 2], [4, 4]], index=["DEU", "KGZ"])
    >>> merge_declared([a, b]).to_numpy().tolist()
    [[4, 2], [4, 4]]
    """
    levels = list(range(tables[0].index.nlevels))
    return pd.concat(tables).groupby(level=levels).sum()


def flow_directions(flows: pd.Series | np.ndarray) -> np.ndarray:
    """Each flow's direction as its reporter publishes it: ``imports`` (imports and
    re-imports) or ``exports`` (the others).

    Examples
    --------
    >>> flow_directions(pd.Series(["import", "re-export", "re-import"])).tolist()
    ['imports', 'exports', 'imports']
    """
    return np.where(pd.Series(flows).isin(INWARD_FLOWS).to_numpy(), "imports", "exports")


def publishers(keys: pd.DataFrame, sort: bool = False) -> tuple[np.ndarray, pd.Index]:
    """Each series' publisher — its reporter's declarations of its direction — and the
    reporters: reporter ``r``'s exports are publisher ``2r``, its imports ``2r + 1``
    (reporters numbered in order of appearance, or sorted).

    Examples
    --------
    >>> keys = pd.DataFrame({"reporter": ["KGZ", "DEU", "KGZ"],
    ...                      "flow": ["import", "export", "export"]})
    >>> publisher, reporters = publishers(keys)
    >>> publisher.tolist(), reporters.tolist()
    ([1, 2, 0], ['KGZ', 'DEU'])
    """
    reporter, reporters = pd.factorize(keys["reporter"], sort=sort)
    return 2 * reporter + (flow_directions(keys["flow"]) == "imports"), reporters


def reporter_sums(reporter: np.ndarray, n_reporters: int, declared: np.ndarray) -> np.ndarray:
    """``(n_reporters, months)``: per reporter (or any grouping of the rows), how many of
    its rows of ``declared`` (series × months, bool) are true in each month;
    ``reporter``: each row's."""
    membership = sparse.csr_matrix(
        (np.ones(len(reporter), dtype=np.float32), (reporter, np.arange(len(reporter)))),
        shape=(n_reporters, len(reporter)),
    )
    # float32 sums of ones are exact up to 2**24 series a month.
    return np.rint(membership @ declared.astype(np.float32)).astype(np.int64)


def key_index(frame: pd.DataFrame) -> pd.MultiIndex:
    """The series keys of ``frame`` as an index (its rows must be distinct series)."""
    return pd.MultiIndex.from_frame(frame[list(SERIES_KEY_COLUMNS)])


def positions(trained: pd.DataFrame | pd.MultiIndex, keys: pd.DataFrame) -> np.ndarray:
    """Row of each ``keys`` series among the ``trained`` series (-1 if absent).

    ``trained`` may be given as its :func:`key_index`, to build that once for many calls.

    Examples
    --------
    >>> trained = pd.DataFrame({"reporter": ["DEU", "FRA"], "partner": ["KGZ", "KGZ"],
    ...                         "flow": ["export", "export"], "hs": ["854231", "854231"]})
    >>> positions(trained, trained.iloc[::-1]).tolist()
    [1, 0]
    """
    index = trained if isinstance(trained, pd.MultiIndex) else key_index(trained)
    return index.get_indexer(key_index(keys)).astype(np.int64)


def _take_columns(matrix: np.ndarray, start: int, width: int) -> np.ndarray:
    """Columns ``start .. start + width - 1`` of ``matrix``, ``NaN`` where out of range."""
    out = np.full((matrix.shape[0], width), np.nan, dtype=matrix.dtype)
    src_lo, src_hi = max(start, 0), min(start + width, matrix.shape[1])
    if src_hi > src_lo:
        out[:, src_lo - start : src_hi - start] = matrix[:, src_lo:src_hi]
    return out
