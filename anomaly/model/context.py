"""What scoring one chunk of series needs to know about all the others.

Two facts span the whole input, not a chunk of series:

- the **coverage** of each reporter and month: *published* (an absent row is zero
  trade), *partial* (the month holds markedly fewer rows or less value than the
  reporter's usual month: absent rows are unknown) or *not published* (nothing is
  known). Only months published in full are read, on either side of a comparison;
- the **general demand** at each destination: the growth of its goods not on the
  control list, the control of the difference-in-differences comparison.

A :class:`ScoringContext` holds both as small tables. Built from the whole panel in
memory, or from each chunk and merged (:meth:`ScoringContext.merge`), it gives the
same answer, so chunked and distributed scoring match an in-memory run.

The partial-month rule (:func:`partial_months`): a reporter's *last* published month
is partial when it holds fewer than :data:`PARTIAL_ROWS` of the reporter's usual rows
(series with a declared value) or less than :data:`PARTIAL_VALUE` of its usual value.
The usual month is the median of the reporter's published months before it in the
window (with at least :data:`MIN_NORM_MONTHS` of them), else its median month over the
last two years of the training window (:func:`publication_norms`); a reporter with
neither (a new reporter's first months) is taken as published. Months before a
reporter's last are never partial: offices publish a month in full, and a dip there
is trade (a war's collapse of exports to Russia, say), not missing rows.

Coverage by direction (:attr:`ScoringContext.direction_gaps`): a reporter may publish one
direction of its trade and not yet the other (exports first, say). A month in which a
reporter declared series of one direction but not a single series of the other, while
its usual month in the window holds at least
:data:`~anomaly.forecast.publication.GAP_MIN_ROWS` of them
(:func:`~anomaly.forecast.publication.busy_publishers`, as training reads it), has
that direction *not published*: its series of that direction, and the mirror readings
of its declarations, leave the month out.

Coverage by chapter (:attr:`ScoringContext.chapter_gaps`): some offices publish HS chapters
separately (a chapter late, or held back as confidential). Per reporter, direction and
HS chapter, counting only series between two countries the sanctions do not touch (a
chapter's trade with Russia may stop for real), a chapter whose usual month in the
window holds at least :data:`MIN_CHAPTER_ROWS` series is *not published* in a month the
reporter published in full but declared none of them, and *partial* in its last
declared month if that month holds fewer than :data:`PARTIAL_ROWS` of its usual series.
A chapter needs :data:`MIN_NORM_MONTHS` declared months in the window to be read on its
own (its first months, or a short window, are read with the reporter). The demand
control, which sums routes over goods, is not masked by chapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from anomaly.detect import DetectionConfig
from anomaly.forecast.publication import busy_publishers
from anomaly.schema import INWARD_FLOWS, OUTWARD_FLOWS

DEMAND_KEYS = ["reporter", "partner", "flow"]
#: A control growth needs at least this many uncontrolled series to the destination
#: (the default of ``DetectionConfig.min_control_series``).
MIN_CONTROL_SERIES = DetectionConfig.min_control_series
#: A month with fewer than this share of the reporter's usual rows is partial.
PARTIAL_ROWS = 0.5
#: A last month with less than this share of the reporter's usual value is partial
#: (value is lumpier than the count of rows, hence the lower share).
PARTIAL_VALUE = 0.1
#: Published months a reporter needs in the window for its norm to come from them.
MIN_NORM_MONTHS = 3
#: Months at the end of the training window that give a reporter's training norm.
NORM_MONTHS = 24
#: Series of one HS chapter and direction a reporter's usual month must hold for the
#: chapter's coverage to be read on its own (fewer: absent rows are sparse trade).
MIN_CHAPTER_ROWS = 20
#: Coverage labels, as :meth:`ScoringContext.coverage` reports them.
PUBLISHED, PARTIAL, NOT_PUBLISHED = "published", "partial", "not published"
#: Flows of each direction of trade, and the coverage label of a direction not published.
DIRECTIONS = {
    "imports": (INWARD_FLOWS, "imports not published"),
    "exports": (OUTWARD_FLOWS, "exports not published"),
}


@dataclass(frozen=True)
class ScoringContext:
    """Coverage by reporter and month, and uncontrolled trade by route and month.

    Attributes
    ----------
    periods : pandas.PeriodIndex
        The scoring window plus the month after it (read for shipping lags).
    rows, value : pandas.DataFrame
        Index: reporter codes; one column per month of :attr:`periods`: the number of
        series with a declared value, and their summed value.
    norms : pandas.DataFrame
        A reporter's usual month in training (index: reporter; ``rows``, ``value``;
        see :func:`publication_norms`); may be empty.
    demand_keys : pandas.DataFrame
        ``reporter, partner, flow`` of routes with uncontrolled goods, and ``n`` (the
        number of such series on the route).
    demand_actual, demand_expected : numpy.ndarray
        ``(len(demand_keys), window months)``: their summed actual and expected values.
    import_rows : pandas.DataFrame, optional
        Like :attr:`rows`, counting only series of imports (``import``, ``re-import``);
        the rest of :attr:`rows` are exports. ``None``: directions are not told apart.
    chapter_rows : pandas.DataFrame, optional
        Index: ``reporter, direction, chapter`` (``imports``/``exports``, the first two
        digits of the HS code); the months as in :attr:`rows`: the number of series with
        a declared value whose reporter and partner are both outside the sanctioned
        countries. ``None``: chapters are not told apart.
    demand : ScoringContext, optional
        An external general-demand control (the context of a file of other goods,
        :meth:`TradeAnomalyModel.demand_control`): when given, :meth:`growth` reads it
        instead of the data's own uncontrolled goods.
    """

    periods: pd.PeriodIndex
    rows: pd.DataFrame
    value: pd.DataFrame
    norms: pd.DataFrame
    demand_keys: pd.DataFrame
    demand_actual: np.ndarray
    demand_expected: np.ndarray
    demand: ScoringContext | None = None
    import_rows: pd.DataFrame | None = None
    chapter_rows: pd.DataFrame | None = None

    def with_demand(self, control: ScoringContext) -> ScoringContext:
        """This context with its general demand read from ``control``."""
        return replace(self, demand=control)

    def merge(self, other: ScoringContext) -> ScoringContext:
        """The context of the union of two disjoint sets of series."""
        if not self.periods.equals(other.periods):
            raise ValueError("cannot merge contexts of different scoring windows")
        rows = pd.concat([self.rows, other.rows]).groupby(level=0).sum()
        value = pd.concat([self.value, other.value]).groupby(level=0).sum()
        imports = None
        if self.import_rows is not None and other.import_rows is not None:
            imports = pd.concat([self.import_rows, other.import_rows]).groupby(level=0).sum()
        chapters = None
        if self.chapter_rows is not None and other.chapter_rows is not None:
            both = pd.concat([self.chapter_rows, other.chapter_rows])
            chapters = both.groupby(level=[0, 1, 2]).sum()
        keys = pd.concat([self.demand_keys, other.demand_keys], ignore_index=True)
        actual = np.vstack([self.demand_actual, other.demand_actual])
        expected = np.vstack([self.demand_expected, other.demand_expected])
        merged = _summed(
            self.periods, rows, value, self.norms, keys, actual, expected, imports, chapters
        )
        return merged if self.demand is None else merged.with_demand(self.demand)

    @property
    def published(self) -> pd.DataFrame:
        """Whether each reporter published anything in each month (full or partial)."""
        return self.rows > 0

    @cached_property
    def full(self) -> pd.DataFrame:
        """Whether each reporter published each month in full (not partial)."""
        return self.published & ~partial_months(self.rows, self.value, self.norms)

    @cached_property
    def direction_gaps(self) -> dict[str, pd.DataFrame]:
        """Per direction (``imports``, ``exports``): the reporter-months in which the
        reporter published but not that direction (see the module docstring)."""
        if self.import_rows is None:
            return {}
        imports = self.import_rows.reindex(self.rows.index, fill_value=0)
        counts = {"imports": imports, "exports": self.rows - imports}
        gaps = {}
        for direction, rows in counts.items():
            publishes = busy_publishers(rows.to_numpy())[:, None]
            gaps[direction] = self.published & (rows == 0) & publishes
        return gaps

    @cached_property
    def chapter_gaps(self) -> tuple[pd.DataFrame, pd.DataFrame] | None:
        """Per ``reporter, direction, chapter`` (the index of :attr:`chapter_rows`) and
        month: whether the chapter was not published, and whether it was partial, in a
        month the reporter published that direction in full (see the module
        docstring); ``None`` without chapter counts."""
        counts = self.chapter_rows
        if counts is None or counts.empty:
            return None
        rows = counts.to_numpy()
        reporters = counts.index.get_level_values(0)
        full = self.full.reindex(reporters, fill_value=False).to_numpy(dtype=bool, copy=True)
        directions = counts.index.get_level_values(1)
        for direction, gap in self.direction_gaps.items():
            cells = directions == direction
            full[cells] &= ~gap.reindex(reporters[cells], fill_value=False).to_numpy(dtype=bool)
        declared = rows > 0
        usual = counts.where(declared).median(axis=1).to_numpy()
        read = (declared.sum(axis=1) >= MIN_NORM_MONTHS) & (usual >= MIN_CHAPTER_ROWS)
        missing = full & ~declared & read[:, None]
        last = rows.shape[1] - 1 - np.argmax(declared[:, ::-1], axis=1)
        cells = np.arange(len(rows))
        low = read & (rows[cells, last] < PARTIAL_ROWS * usual)
        partial = np.zeros_like(declared)
        partial[cells[low], last[low]] = True
        partial &= full
        return (
            pd.DataFrame(missing, index=counts.index, columns=counts.columns),
            pd.DataFrame(partial, index=counts.index, columns=counts.columns),
        )

    def published_mask(
        self,
        reporters: np.ndarray | pd.Series,
        months: int | None = None,
        flows: np.ndarray | pd.Series | str | None = None,
        hs: np.ndarray | pd.Series | None = None,
    ) -> np.ndarray:
        """``(len(reporters), months)``: whether each reporter published each month in
        full (a partial month counts as not published); given each row's ``flows`` (or
        one flow for all), the direction of that flow (:attr:`direction_gaps`); given
        also each row's ``hs`` code, its chapter of that direction
        (:attr:`chapter_gaps`)."""
        index = pd.Index(np.asarray(reporters))
        mask = self.full.reindex(index, fill_value=False).to_numpy(dtype=bool, copy=True)
        if flows is not None:
            flows = np.broadcast_to(np.asarray(flows, dtype=object), (len(index),))
            for direction, gap in self.direction_gaps.items():
                rows = np.isin(flows, DIRECTIONS[direction][0])
                if rows.any():
                    missing = gap.reindex(index[rows], fill_value=False).to_numpy(dtype=bool)
                    mask[rows] &= ~missing
            if hs is not None and self.chapter_gaps is not None:
                missing, partial = self.chapter_gaps
                cells = missing.index.get_indexer(_chapter_index(index, flows, hs))
                found = cells >= 0
                unread = missing.to_numpy() | partial.to_numpy()
                mask[found] &= ~unread[cells[found]]
        return mask if months is None else mask[:, :months]

    def coverage(self) -> pd.DataFrame:
        """Reporter-months of the window not published in full: ``reporter, period,
        status``.

        ``status`` is :data:`PARTIAL` or :data:`NOT_PUBLISHED` (for the reporters that
        published in some month of :attr:`periods` or have a training norm).
        """
        status = np.where(self.full, PUBLISHED, np.where(self.published, PARTIAL, NOT_PUBLISHED))
        table = pd.DataFrame(status, index=self.rows.index, columns=self.periods.astype(str))
        table = table.iloc[:, :-1]  # the month after the window is only read for lags
        known = table.index.union(self.norms.index)
        table = table.reindex(known, fill_value=NOT_PUBLISHED)
        for direction, gap in self.direction_gaps.items():
            missing = gap.iloc[:, :-1].reindex(known, fill_value=False).to_numpy(dtype=bool)
            table = table.mask(missing & (table.to_numpy() == PUBLISHED), DIRECTIONS[direction][1])
        long = table.rename_axis(index="reporter", columns="period").stack()
        long = long[long != PUBLISHED].rename("status").reset_index()
        chapters = self._chapter_coverage()
        if len(chapters):  # an empty frame would decide no dtype (pandas deprecates it)
            long = pd.concat([long, chapters], ignore_index=True) if len(long) else chapters
        return long.sort_values(["reporter", "period", "status"], ignore_index=True)

    def _chapter_coverage(self) -> pd.DataFrame:
        """The chapter-months of :attr:`chapter_gaps` in the window, as :meth:`coverage`
        rows (status e.g. ``chapter 85 exports not published``)."""
        columns = ["reporter", "period", "status"]
        if self.chapter_gaps is None:
            return pd.DataFrame(columns=columns)
        labels = np.asarray(self.periods.astype(str))
        parts = []
        for gaps, word in zip(self.chapter_gaps, (NOT_PUBLISHED, PARTIAL), strict=True):
            cells, months = np.nonzero(gaps.to_numpy()[:, :-1])
            index = gaps.index[cells]
            status = [
                f"chapter {chapter} {direction} {word}"
                for direction, chapter in zip(
                    index.get_level_values(1), index.get_level_values(2), strict=True
                )
            ]
            reporters = index.get_level_values(0)
            table = {"reporter": reporters, "period": labels[months], "status": status}
            parts.append(pd.DataFrame(table, columns=columns))
        return pd.concat(parts, ignore_index=True)

    def growth(self, config: DetectionConfig | None = None) -> pd.Series:
        """General-demand growth per ``(destination, flow)``, over the months each route's
        reporter published (see :func:`destination` and :func:`demand_growth`).

        Routes from or to a sanctioned country are left out of the control (their trade
        is disrupted by the sanctions, not by demand), and a sanctioned destination gets
        no factor: there the fall *is* the sanctions. With an external control
        (:attr:`demand`) the growth is read from it, by the same rule.
        """
        if self.demand is not None:
            return self.demand.growth(config)
        config = config if config is not None else DetectionConfig()
        sanctioned = list(config.sanctioned)
        keys = self.demand_keys
        undisrupted = ~(keys["reporter"].isin(sanctioned) | keys["partner"].isin(sanctioned))
        published = self.published_mask(
            keys["reporter"], self.demand_actual.shape[1], flows=keys["flow"]
        )
        routes = pd.DataFrame(
            {
                "partner": destination(keys),
                "flow": keys["flow"].to_numpy(),
                "n": keys["n"].to_numpy(),
                "actual": np.where(published, self.demand_actual, 0.0).sum(axis=1),
                "expected": np.where(published, self.demand_expected, 0.0).sum(axis=1),
            }
        )
        return demand_growth(
            routes[undisrupted.to_numpy()],
            config.min_control_series,
            bound=config.demand_bound,
            floor=config.demand_floor,
            prior_sd=config.demand_prior_sd,
            route_sd=config.demand_route_sd,
        )


def demand_growth(
    routes: pd.DataFrame,
    min_series: int = MIN_CONTROL_SERIES,
    *,
    bound: float = np.inf,
    floor: float = 0.0,
    prior_sd: float = np.inf,
    route_sd: float = 0.0,
) -> pd.Series:
    """Growth factor of each destination's uncontrolled goods.

    A destination whose imports of *everything* boom is not a lead: its growth in
    goods not on the control list is the control of a difference-in-differences
    comparison. The factor is an estimate, so it is shrunk toward 1 by its own
    uncertainty and bounded to ``[max(floor, 1/bound), bound]``: a control made of one
    lumpy route, or of goods the sanctions themselves moved, must not scale a
    counterfactual to nothing.

    The log factor ``L = log(Σ actual / Σ expected)`` is read from several routes
    (exporters to the destination); its variance is the routes' spread around it
    (at least ``route_sd``), weighted by expected value, over their effective number;
    ``L`` keeps ``prior_sd² / (prior_sd² + variance)`` of itself.

    Parameters
    ----------
    routes : pandas.DataFrame
        Per route: destination (column ``partner``), ``flow``, ``actual`` and
        ``expected`` sums over the scoring window of the series of goods *not* on the
        control list, and ``n`` (how many such series).
    min_series : int
        Fewest uncontrolled series a destination needs for its growth to be used.
    bound : float
        Largest factor (and smallest, as its inverse, unless ``floor`` is higher).
    floor : float
        Smallest factor.
    prior_sd, route_sd : float
        See above (the defaults apply no shrinkage).

    Returns
    -------
    pandas.Series
        The factor indexed by ``(partner, flow)``, for destinations with at least
        ``min_series`` uncontrolled series (elsewhere no control is applied: the factor
        is 1).

    Examples
    --------
    >>> routes = pd.DataFrame({"partner": ["KGZ", "KGZ"], "flow": ["export", "export"],
    ...                        "actual": [30.0, 60.0], "expected": [10.0, 20.0], "n": [3, 3]})
    >>> round(float(demand_growth(routes)[("KGZ", "export")]), 2)
    3.0
    >>> round(float(demand_growth(routes, prior_sd=0.5, route_sd=0.2)[("KGZ", "export")]), 2)
    2.74
    """
    routes = routes[routes["expected"] > 0]
    with np.errstate(divide="ignore"):
        log_route = np.log((routes["actual"] / routes["expected"]).clip(lower=1e-3))
    frame = pd.DataFrame(
        {
            "partner": routes["partner"].to_numpy(),
            "flow": routes["flow"].to_numpy(),
            "n": routes["n"].to_numpy(),
            "actual": routes["actual"].to_numpy(),
            "expected": routes["expected"].to_numpy(),
            "w_log": routes["expected"].to_numpy() * log_route.to_numpy(),
            "w_log2": routes["expected"].to_numpy() * log_route.to_numpy() ** 2,
            "w2": routes["expected"].to_numpy() ** 2,
        }
    )
    totals = frame.groupby(["partner", "flow"], observed=True).sum()
    totals = totals[totals["n"] >= min_series]
    weight = totals["expected"]
    level = np.log((totals["actual"] / weight).clip(lower=1e-3))
    mean = totals["w_log"] / weight
    spread = (totals["w_log2"] / weight - mean**2).clip(lower=0.0) + route_sd**2
    variance = spread * totals["w2"] / weight**2  # over the effective number of routes
    keep = prior_sd**2 / (prior_sd**2 + variance) if np.isfinite(prior_sd) else 1.0
    lowest = max(floor, 1.0 / bound)
    log_lowest = np.log(lowest) if lowest > 0 else -np.inf
    growth = np.exp(np.clip(level * keep, log_lowest, np.log(bound)))
    return pd.Series(growth.to_numpy(), index=totals.index, name="growth")


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
    inbound = keys["flow"].isin(INWARD_FLOWS).to_numpy()
    return np.where(inbound, keys["reporter"].to_numpy(), keys["partner"].to_numpy())


def publication_norms(keys: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """Each reporter's usual month: the median rows and value of its published months.

    Over the last :data:`NORM_MONTHS` months of ``values`` (a training panel's matrix,
    ``NaN`` where absent); index: reporter, columns ``rows`` and ``value``.

    Examples
    --------
    >>> keys = pd.DataFrame({"reporter": ["DEU", "DEU", "FRA"]})
    >>> values = np.array([[1.0, 2.0, np.nan], [3.0, np.nan, np.nan], [5.0, 5.0, 5.0]])
    >>> publication_norms(keys, values)
         rows  value
    DEU   1.5    3.0
    FRA   1.0    5.0
    """
    return norms_from_counts(*publication_counts(keys, values))


def publication_counts(keys: pd.DataFrame, values: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What :func:`publication_norms` reads: per reporter (index) and month of the last
    :data:`NORM_MONTHS` months of ``values``, the rows with a value and their summed
    value. Those of disjoint sets of series add up (:func:`merge_counts`)."""
    return _per_reporter(keys["reporter"].to_numpy(), values[:, -NORM_MONTHS:])


def merge_counts(
    parts: Sequence[tuple[pd.DataFrame, pd.DataFrame]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The :func:`publication_counts` of the union of disjoint sets of series."""
    rows = pd.concat([part[0] for part in parts]).groupby(level=0).sum()
    value = pd.concat([part[1] for part in parts]).groupby(level=0).sum()
    return rows, value


def norms_from_counts(rows: pd.DataFrame, value: pd.DataFrame) -> pd.DataFrame:
    """The reporters' usual months (:func:`publication_norms`) from their counts."""
    published = rows > 0
    return pd.DataFrame(
        {
            "rows": rows.where(published).median(axis=1),
            "value": value.where(published).median(axis=1),
        }
    ).dropna()


def partial_months(rows: pd.DataFrame, value: pd.DataFrame, norms: pd.DataFrame) -> pd.DataFrame:
    """Whether each reporter-month is partial (see the module docstring for the rule).

    Only a reporter's last published month can be partial: statistics offices publish
    a month in full or not at all, except the latest one (still being compiled, or the
    last before a reporter stops). A dip inside a reporter's months is read as trade.

    Examples
    --------
    >>> rows = pd.DataFrame([[100, 98, 101, 30, 0], [100, 40, 99, 97, 0]], index=["RUS", "KAZ"])
    >>> value = rows * 1.0
    >>> partial_months(rows, value, pd.DataFrame(columns=["rows", "value"])).to_numpy().tolist()
    [[False, False, False, True, False], [False, False, False, False, False]]
    """
    published = rows.to_numpy() > 0
    partial = np.zeros(published.shape, dtype=bool)
    trained = norms.reindex(rows.index)
    for r in np.flatnonzero(published.any(axis=1)):
        months = np.flatnonzero(published[r])
        last, before = months[-1], months[:-1][-NORM_MONTHS:]
        if len(before) >= MIN_NORM_MONTHS:
            usual_rows = np.median(rows.iloc[r, before])
            usual_value = np.median(value.iloc[r, before])
        else:
            usual_rows, usual_value = trained["rows"].iloc[r], trained["value"].iloc[r]
        partial[r, last] = bool(
            rows.iloc[r, last] < PARTIAL_ROWS * usual_rows
            or value.iloc[r, last] < PARTIAL_VALUE * usual_value
        )
    return pd.DataFrame(partial, index=rows.index, columns=rows.columns)


def build_context(
    keys: pd.DataFrame,
    values: np.ndarray,
    periods: pd.PeriodIndex,
    expected: np.ndarray,
    uncontrolled: np.ndarray,
    norms: pd.DataFrame | None = None,
    sanctioned: Sequence[str] = DetectionConfig.sanctioned,
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
    norms : pandas.DataFrame, optional
        The reporters' usual months in training (:func:`publication_norms`).
    sanctioned : sequence of str
        The sanctioned countries, whose trade is left out of the chapter counts.
    """
    reporters = keys["reporter"].to_numpy()
    rows, value = _per_reporter(reporters, values)
    inbound = keys["flow"].isin(DIRECTIONS["imports"][0]).to_numpy()
    imports = _per_reporter(reporters[inbound], values[inbound])[0]
    untouched = ~(keys["reporter"].isin(sanctioned) | keys["partner"].isin(sanctioned))
    untouched = untouched.to_numpy()
    cells = _chapter_index(reporters[untouched], keys["flow"][untouched], keys["hs"][untouched])
    declared = (~np.isnan(values[untouched])).astype(np.int64)
    chapters = pd.DataFrame(declared, index=cells).groupby(level=[0, 1, 2]).sum()
    if norms is None:
        norms = pd.DataFrame({"rows": pd.Series(dtype=float), "value": pd.Series(dtype=float)})
    months = expected.shape[1]
    route = keys.loc[uncontrolled, DEMAND_KEYS].reset_index(drop=True)
    route["n"] = 1
    actual = np.nan_to_num(values[uncontrolled, :months])
    return _summed(
        periods, rows, value, norms, route, actual, expected[uncontrolled], imports, chapters
    )


def _chapter_index(
    reporters: np.ndarray | pd.Index, flows: np.ndarray | pd.Series, hs: np.ndarray | pd.Series
) -> pd.MultiIndex:
    """``reporter, direction, chapter`` of each series (the keys of chapter counts)."""
    inbound = np.isin(np.asarray(flows, dtype=object), DIRECTIONS["imports"][0])
    direction = np.where(inbound, "imports", "exports")
    # Each distinct code is cut once (a million rows hold a few thousand codes).
    codes, distinct = pd.factorize(np.asarray(hs, dtype=object))
    chapter = pd.Index(distinct).astype(str).str[:2].to_numpy()[codes]
    names = ["reporter", "direction", "chapter"]
    return pd.MultiIndex.from_arrays([np.asarray(reporters), direction, chapter], names=names)


def _per_reporter(reporters: np.ndarray, values: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows with a value and their summed value, per reporter (index) and month."""
    rows = pd.DataFrame((~np.isnan(values)).astype(np.int64), index=reporters)
    value = pd.DataFrame(np.nan_to_num(values.astype(np.float64)), index=reporters)
    return rows.groupby(level=0).sum(), value.groupby(level=0).sum()


def _summed(
    periods: pd.PeriodIndex,
    rows: pd.DataFrame,
    value: pd.DataFrame,
    norms: pd.DataFrame,
    keys: pd.DataFrame,
    actual: np.ndarray,
    expected: np.ndarray,
    import_rows: pd.DataFrame | None = None,
    chapter_rows: pd.DataFrame | None = None,
) -> ScoringContext:
    """Sum demand rows that share a route (one row per route, sorted)."""
    groups = keys.groupby(DEMAND_KEYS, sort=True, observed=True).ngroup().to_numpy()
    n_routes = int(groups.max()) + 1 if len(groups) else 0
    summed_actual = np.zeros((n_routes, actual.shape[1]))
    summed_expected = np.zeros((n_routes, expected.shape[1]))
    np.add.at(summed_actual, groups, actual)
    np.add.at(summed_expected, groups, expected)
    routes = keys.groupby(DEMAND_KEYS, sort=True, observed=True)["n"].sum().reset_index()
    rows.columns = value.columns = range(len(periods))
    if import_rows is not None:
        import_rows.columns = range(len(periods))
        import_rows = import_rows.reindex(rows.index, fill_value=0).sort_index()
    if chapter_rows is not None:
        chapter_rows.columns = range(len(periods))
        chapter_rows = chapter_rows.sort_index()
    return ScoringContext(
        periods,
        rows.sort_index(),
        value.sort_index(),
        norms,
        routes,
        summed_actual,
        summed_expected,
        import_rows=import_rows,
        chapter_rows=chapter_rows,
    )
