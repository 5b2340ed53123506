"""What scoring one chunk of series needs to know about all the others.

Two facts span the whole input, not a chunk of series:

- whether a reporter **published** at all in a month (if not, an absent row is
  missing data; if it did, an absent row is zero trade);
- the **general demand** at each destination: the growth of its goods not on the
  control list, the control of the difference-in-differences comparison.

A :class:`ScoringContext` holds both as small tables. Built from the whole panel in
memory, or from each chunk and merged (:meth:`ScoringContext.merge`), it gives the
same answer, so chunked and distributed scoring match an in-memory run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEMAND_KEYS = ["reporter", "partner", "flow"]
#: A control growth needs at least this many uncontrolled series to the destination
#: (the default of ``DetectionConfig.min_control_series``).
MIN_CONTROL_SERIES = 5


@dataclass(frozen=True)
class ScoringContext:
    """Publication by reporter and month, and uncontrolled trade by route and month.

    Attributes
    ----------
    periods : pandas.PeriodIndex
        The scoring window plus the month after it (read for shipping lags).
    published : pandas.DataFrame
        Index: reporter codes; one boolean column per month of :attr:`periods`.
    demand_keys : pandas.DataFrame
        ``reporter, partner, flow`` of routes with uncontrolled goods, and ``n`` (the
        number of such series on the route).
    demand_actual, demand_expected : numpy.ndarray
        ``(len(demand_keys), window months)``: their summed actual and expected values.
    """

    periods: pd.PeriodIndex
    published: pd.DataFrame
    demand_keys: pd.DataFrame
    demand_actual: np.ndarray
    demand_expected: np.ndarray

    def merge(self, other: ScoringContext) -> ScoringContext:
        """The context of the union of two disjoint sets of series."""
        if not self.periods.equals(other.periods):
            raise ValueError("cannot merge contexts of different scoring windows")
        published = pd.concat([self.published, other.published]).groupby(level=0).max().astype(bool)
        keys = pd.concat([self.demand_keys, other.demand_keys], ignore_index=True)
        actual = np.vstack([self.demand_actual, other.demand_actual])
        expected = np.vstack([self.demand_expected, other.demand_expected])
        return _summed(self.periods, published, keys, actual, expected)

    def published_mask(
        self, reporters: np.ndarray | pd.Series, months: int | None = None
    ) -> np.ndarray:
        """``(len(reporters), months)``: whether each reporter published each month."""
        table = self.published.reindex(pd.Index(np.asarray(reporters)), fill_value=False)
        mask = table.to_numpy(dtype=bool)
        return mask if months is None else mask[:, :months]

    def growth(self, min_series: int = MIN_CONTROL_SERIES) -> pd.Series:
        """General-demand growth per ``(destination, flow)``, over the months each route's
        reporter published (see :func:`destination` and :func:`demand_growth`)."""
        published = self.published_mask(self.demand_keys["reporter"], self.demand_actual.shape[1])
        totals = pd.DataFrame(
            {
                "partner": destination(self.demand_keys),
                "flow": self.demand_keys["flow"].to_numpy(),
                "n": self.demand_keys["n"].to_numpy(),
                "actual": np.where(published, self.demand_actual, 0.0).sum(axis=1),
                "expected": np.where(published, self.demand_expected, 0.0).sum(axis=1),
            }
        )
        totals = totals.groupby(["partner", "flow"], as_index=False, observed=True).sum()
        return demand_growth(totals, min_series)


def demand_growth(totals: pd.DataFrame, min_series: int = MIN_CONTROL_SERIES) -> pd.Series:
    """Growth factor of each destination's uncontrolled goods.

    A destination whose imports of *everything* boom is not a lead: its growth in
    goods not on the control list is the control of a difference-in-differences
    comparison.

    Parameters
    ----------
    totals : pandas.DataFrame
        Per destination (column ``partner``) and ``flow``: ``actual`` and ``expected``
        sums over the scoring window of the series of goods *not* on the control list,
        and ``n`` (how many such series).
    min_series : int
        Fewest uncontrolled series a destination needs for its growth to be used.

    Returns
    -------
    pandas.Series
        ``Σ actual / Σ expected`` indexed by ``(partner, flow)``, for destinations with
        at least ``min_series`` uncontrolled series (elsewhere no control is applied:
        the factor is 1).

    Examples
    --------
    >>> totals = pd.DataFrame({"partner": ["KGZ"], "flow": ["export"],
    ...                        "actual": [30.0], "expected": [10.0], "n": [6]})
    >>> demand_growth(totals).to_dict()
    {('KGZ', 'export'): 3.0}
    """
    usable = totals[(totals["n"] >= min_series) & (totals["expected"] > 0)]
    growth = (usable["actual"] / usable["expected"]).clip(lower=1e-3)
    return pd.Series(
        growth.to_numpy(),
        index=pd.MultiIndex.from_frame(usable[["partner", "flow"]]),
        name="growth",
    )


def destination(keys: pd.DataFrame) -> np.ndarray:
    """The country whose demand a series measures: the partner of an export, the
    reporter of an import (a destination declaring what it received).

    Examples
    --------
    >>> keys = pd.DataFrame({"reporter": ["DEU", "UZB"], "partner": ["UZB", "DEU"],
    ...                      "flow": ["export", "import"]})
    >>> destination(keys).tolist()
    ['UZB', 'UZB']
    """
    inbound = keys["flow"].isin(["import", "re-import"]).to_numpy()
    return np.where(inbound, keys["reporter"].to_numpy(), keys["partner"].to_numpy())


def build_context(
    keys: pd.DataFrame,
    values: np.ndarray,
    periods: pd.PeriodIndex,
    expected: np.ndarray,
    uncontrolled: np.ndarray,
) -> ScoringContext:
    """Context of one set of series.

    Parameters
    ----------
    keys : pandas.DataFrame
        Series keys.
    values : numpy.ndarray
        ``(n, window months + 1)`` declared values, ``NaN`` where absent.
    periods : pandas.PeriodIndex
        The window plus the month after it.
    expected : numpy.ndarray
        ``(n, window months)`` expected values (only rows of uncontrolled goods are
        used).
    uncontrolled : numpy.ndarray of bool
        Which series are of goods off the control list.
    """
    reported = pd.DataFrame(~np.isnan(values), index=keys["reporter"].to_numpy())
    published = reported.groupby(level=0).max().astype(bool)
    months = expected.shape[1]
    route = keys.loc[uncontrolled, DEMAND_KEYS].reset_index(drop=True)
    route["n"] = 1
    actual = np.nan_to_num(values[uncontrolled, :months])
    return _summed(periods, published, route, actual, expected[uncontrolled])


def _summed(
    periods: pd.PeriodIndex,
    published: pd.DataFrame,
    keys: pd.DataFrame,
    actual: np.ndarray,
    expected: np.ndarray,
) -> ScoringContext:
    """Sum demand rows that share a route (one row per route, sorted)."""
    groups = keys.groupby(DEMAND_KEYS, sort=True, observed=True).ngroup().to_numpy()
    n_routes = int(groups.max()) + 1 if len(groups) else 0
    summed_actual = np.zeros((n_routes, actual.shape[1]))
    summed_expected = np.zeros((n_routes, expected.shape[1]))
    np.add.at(summed_actual, groups, actual)
    np.add.at(summed_expected, groups, expected)
    routes = keys.groupby(DEMAND_KEYS, sort=True, observed=True)["n"].sum().reset_index()
    published.columns = range(len(periods))
    return ScoringContext(periods, published.sort_index(), routes, summed_actual, summed_expected)
