"""Canonical flows table → :class:`~anomaly.panel.core.Panel`, at one HS level.

Built on integer codes: every string operation (harmonising HS codes, cutting them to
a level, reading their length) runs once per distinct code, never per row, and the
matrix is filled by one weighted ``bincount``, so 10^8 rows fit the budget of a
laptop (see ``experiments/bench_panel.py``).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from anomaly.errors import DataError, PeriodError
from anomaly.io.keys import factorize_sorted
from anomaly.io.text import lookup
from anomaly.panel.core import Panel, as_month
from anomaly.schema import OPTIONAL_VALUE_COLUMNS, SERIES_KEY_COLUMNS, VALUE_COLUMN

logger = logging.getLogger(__name__)

HS_LEVELS: tuple[int, ...] = (2, 4, 6, 8, 10)
#: First year of each HS revision, latest first (as in ``anomaly.reference``).
REVISION_YEARS = (2022, 2017)


def hs_revision(years: np.ndarray) -> np.ndarray:
    """How many HS revisions (of :data:`REVISION_YEARS`) were in force in each year.

    A panel files a code under its HS2022 successor by this number: rows of one key
    and revision give a panel the same series as all of them would.

    Examples
    --------
    >>> hs_revision(np.array([2016, 2019, 2023])).tolist()
    [0, 1, 2]
    """
    years = np.asarray(years)
    return sum((years >= year).astype(np.int8) for year in REVISION_YEARS)


def build_panel(
    flows: pd.DataFrame,
    *,
    hs_level: int = 6,
    harmonize: bool = True,
    start: str | pd.Period | None = None,
    end: str | pd.Period | None = None,
    dtype: type[np.floating] = np.float64,
    all_series: bool = False,
) -> Panel:
    """Pivot a canonical flows table into a dense monthly panel at one HS level.

    Codes are first harmonised to HS2022 (so a 2015–2021 history filed under HS2017
    codes joins its HS2022 successor, and the codes of a 2022 split are filed together
    under the family's primary successor), then cut to ``hs_level`` digits and summed.
    Published tables mix levels (an HS4 heading beside its CN8 children); to never
    count a flow twice, a row published exactly at ``hs_level`` is used *instead of*
    its more detailed children for that month, and rows coarser than ``hs_level``
    cannot be split and are left out (both logged).

    Parameters
    ----------
    flows : pandas.DataFrame
        Canonical flows table with monthly periods (see :mod:`anomaly.schema`); key
        columns may be strings or categoricals (categoricals save memory on big tables).
    hs_level : {2, 4, 6, 8, 10}
        Number of HS digits that define a series.
    harmonize : bool
        Map HS2012/HS2017 codes to HS2022 before aggregating (``hs_level`` <= 6 only:
        the concordance is of 6-digit codes).
    start, end : str or pandas.Period, optional
        First and last month of the panel; default the data's range. Rows of other
        months are left out.
    all_series : bool
        Keep the series whose rows all lie outside ``start..end`` too (with no values):
        the panel of the whole data cut to these months, without pivoting the others.
    dtype : numpy float type
        Storage type of the matrices; ``numpy.float32`` halves memory.

    Returns
    -------
    Panel

    Examples
    --------
    >>> flows = pd.DataFrame({
    ...     "period": pd.PeriodIndex(["2021-01", "2021-03"], freq="M"),
    ...     "reporter": ["DEU", "DEU"], "partner": ["KGZ", "KGZ"],
    ...     "flow": ["export", "export"], "hs": ["85423110", "85423190"],
    ...     "value": [1.0, 2.0]})
    >>> panel = build_panel(flows, harmonize=False)
    >>> panel.keys.hs.tolist(), panel.values.tolist()
    (['854231'], [[1.0, nan, 2.0]])
    """
    if hs_level not in HS_LEVELS:
        raise ValueError(f"hs_level must be one of {HS_LEVELS}, got {hs_level!r}")
    if harmonize and hs_level > 6:
        raise ValueError(
            "the HS revision concordance maps 6-digit codes; national extensions of "
            "changed codes cannot be mapped: build the panel with harmonize=False, "
            f"or at hs_level <= 6 (got {hs_level})"
        )
    _check_monthly(flows)
    if flows.empty:
        raise DataError("cannot build a panel from an empty flows table")

    ordinals = flows["period"].array.asi8
    hs_code, hs_names, exact, coarse = _hs_codes(flows["hs"], ordinals, hs_level, harmonize)
    if coarse.all():
        raise coarse_error(set(flows["hs"].astype(str).str.len()), hs_level)
    log_coarse(int(coarse.sum()), hs_level)
    key_codes, key_names = [], []
    for column in ("reporter", "partner", "flow"):
        codes, names = _factorized(flows[column], sort=True)
        key_codes.append(codes)
        key_names.append(names)
    key_codes.append(hs_code)
    key_names.append(hs_names)

    first = as_month(start).ordinal if start is not None else int(ordinals[~coarse].min())
    last = as_month(end).ordinal if end is not None else int(ordinals[~coarse].max())
    n_months = last - first + 1
    column = ordinals - first
    kept = ~coarse & (column >= 0) & (column < n_months)

    combined = _combined(key_codes, key_names)
    everything = bool(kept.all())  # kept as a whole, the rows are not copied
    if all_series and not everything:
        # Series of every usable row; cells of the rows inside the months only.
        numbered = ~coarse
        series_id, series_of = factorize_sorted(combined[numbered])
        series_id = series_id[kept[numbered]]
    else:
        series_id, series_of = factorize_sorted(combined if everything else combined[kept])
    cell = series_id * n_months
    cell += column if everything else column[kept]
    n_cells = len(series_of) * n_months
    used = _used(exact if everything else exact[kept], cell, n_cells, hs_level)

    matrices = {}
    for name in [VALUE_COLUMN] + [c for c in OPTIONAL_VALUE_COLUMNS if c in flows.columns]:
        values = flows[name].to_numpy(np.float64)
        matrices[name] = _summed(values if everything else values[kept], cell, used, n_cells, dtype)
        matrices[name] = matrices[name].reshape(len(series_of), n_months)
    keys = _decode_keys(series_of, key_names)
    periods = pd.period_range(
        pd.Period(ordinal=first, freq="M"), pd.Period(ordinal=last, freq="M"), freq="M"
    )
    values = matrices.pop(VALUE_COLUMN)
    return Panel(keys, periods, values, flows.attrs.get("currency"), matrices)


def coarse_error(lengths: set[int], hs_level: int) -> DataError:
    """The error for data whose HS codes (of ``lengths`` digits) are all coarser than
    ``hs_level``: a panel at that level would be empty.

    Examples
    --------
    >>> print(coarse_error({2, 4}, 6))  # doctest: +ELLIPSIS
    every HS code in the data is coarser than the 6 digits asked for (the data hold ...
    """
    found = sorted(lengths)
    return DataError(
        f"every HS code in the data is coarser than the {hs_level} digits asked for "
        f"(the data hold codes of {', '.join(map(str, found))} digits)",
        expected=f"codes of at least {hs_level} digits, or a model or panel at "
        f"hs_level {max(found)} (train with --hs-level {max(found)})",
    )


def log_coarse(n_rows: int, hs_level: int) -> None:
    """Warn that ``n_rows`` rows were left out of a panel at ``hs_level`` (if any were):
    their codes are coarser and cannot be split."""
    if n_rows:
        logger.warning("left out %d rows whose HS code is coarser than %d digits", n_rows, hs_level)


def _check_monthly(flows: pd.DataFrame) -> None:
    missing = [c for c in (*SERIES_KEY_COLUMNS, "period", VALUE_COLUMN) if c not in flows.columns]
    if missing:
        raise DataError(f"flows table lacks columns {missing}")
    dtype = flows["period"].dtype
    if dtype != pd.PeriodDtype("M"):
        raise PeriodError(
            f"a panel needs monthly periods, found column 'period' of type {dtype}",
            expected="monthly periods (pandas period[M]); annual data cannot be forecast monthly",
        )


def _hs_codes(
    hs: pd.Series, ordinals: np.ndarray, hs_level: int, harmonize: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: series HS code (integer, sorted), its names, exact-level and coarse flags.

    Whether a row is a heading or a detail is read from the code *as published*
    (harmonisation may shorten a CN8 code to its 6-digit successor). The work runs
    on the distinct (code, HS revision) pairs.
    """
    published, names = _factorized(hs, sort=False)
    names = pd.Index(names).astype(str)
    pair = published.astype(np.int64) * 3 + _revisions(ordinals)
    if len(pair) and pair.min() >= 0:
        # Pairs are small integers: numbered by counting, not by hashing every row.
        present = np.bincount(pair, minlength=3 * len(names)) > 0
        pairs = np.flatnonzero(present)
        pair_of_row = (np.cumsum(present) - 1)[pair]
    else:
        pair_of_row, pairs = pd.factorize(pair)
    code = pd.Series(np.asarray(names)[pairs // 3])
    length = code.str.len().to_numpy()
    if harmonize:
        # One month of each revision's years stands for the pair's revision.
        year = np.array([2016, 2019, 2023])[pairs % 3]
        month = pd.PeriodIndex.from_ordinals((year - 1970) * 12, freq="M")  # January
        code = _harmonized(code, pd.Series(month))
    cut = code.str[:hs_level]
    level_codes, level_names = pd.factorize(cut, sort=True)
    exact_pair = length == hs_level
    coarse_pair = length < hs_level
    return (
        level_codes[pair_of_row],
        np.asarray(level_names, dtype=object),
        lookup(exact_pair, pair_of_row),
        lookup(coarse_pair, pair_of_row),
    )


def _revisions(ordinals: np.ndarray) -> np.ndarray:
    """:func:`hs_revision` of each month's year (``ordinals``: monthly), as int64:
    worked out once per month of their range, then looked up per row."""
    if not len(ordinals):
        return np.zeros(0, dtype=np.int64)
    first = int(ordinals.min())
    months = np.arange(first, int(ordinals.max()) + 1)
    return hs_revision(1970 + months // 12).astype(np.int64)[ordinals - first]


def _factorized(values: pd.Series, *, sort: bool) -> tuple[np.ndarray, np.ndarray]:
    """``pandas.factorize(values, sort=sort)``, names as an object array.

    A categorical without missing values is numbered from its codes, in the order of
    its categories (as ``factorize`` numbers it), without hashing its rows.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        if len(codes) and codes.min() >= 0:
            used = np.bincount(codes, minlength=len(values.cat.categories)) > 0
            names = np.asarray(values.cat.categories, dtype=object)[used]
            if used.all():
                return codes, names
            return (np.cumsum(used) - 1)[codes], names
    codes, names = pd.factorize(values, sort=sort)
    return codes, np.asarray(names, dtype=object)


def _harmonized(published: pd.Series, periods: pd.Series) -> pd.Series:
    """HS2022 codes, with the codes of a split family merged into one series.

    A code split in 2022 (854150 → 854151 + 854159) has one pre-2022 history for the
    whole family, so the family's HS2022 codes are filed together under its primary
    successor; otherwise the non-primary codes would look like flows from nothing.
    """
    from anomaly.reference import harmonize_hs, split_families

    hs = harmonize_hs(published, periods)
    family = hs.str[:6].map(split_families())
    return family.where(family.notna(), hs)


def _combined(codes: list[np.ndarray], names: list[np.ndarray]) -> np.ndarray:
    """One int64 per row: the mixed radix number of its key codes (radix: the number
    of names of each column; a missing code, -1, counted as 0)."""
    combined = np.zeros(len(codes[0]), dtype=np.int64)
    for column, labels in zip(codes, names, strict=True):
        combined *= max(len(labels), 1)
        combined += np.maximum(column, 0) if column.min(initial=0) < 0 else column
    return combined


def _used(exact: np.ndarray, cell: np.ndarray, n_cells: int, hs_level: int) -> np.ndarray | None:
    """The rows a panel sums: a row published exactly at ``hs_level`` shadows its more
    detailed children in its cell (logged). None: all of them (all are exact)."""
    if exact.all():
        return None
    cell_has_exact = np.bincount(cell, weights=exact.astype(np.float64), minlength=n_cells) > 0
    used = exact | ~cell_has_exact[cell]
    if (~used).any():
        logger.info(
            "used rows published at the %d-digit level instead of %d more detailed rows",
            hs_level,
            int((~used).sum()),
        )
    return used


def _summed(
    values: np.ndarray, cell: np.ndarray, used: np.ndarray | None, n_cells: int, dtype
) -> np.ndarray:
    """Sum of the used rows' values per cell (``used`` None: all rows); ``NaN`` where
    no row reported one."""
    reported = ~np.isnan(values)
    if used is not None:
        reported &= used
    if not reported.all():
        cell, values = cell[reported], values[reported]
    totals = np.bincount(cell, weights=values, minlength=n_cells)
    totals[np.bincount(cell, minlength=n_cells) == 0] = np.nan
    return totals.astype(dtype, copy=False)


def _decode_keys(series: np.ndarray, names: list[np.ndarray]) -> pd.DataFrame:
    """The key columns of combined integer series codes (mixed-radix decoding), as text:
    each name is made text once, then taken per series."""
    columns = {}
    remaining = series
    for column, labels in zip(reversed(SERIES_KEY_COLUMNS), reversed(names), strict=True):
        radix = max(len(labels), 1)
        text = np.asarray(np.asarray(labels).astype(str), dtype=object)
        columns[column] = text[remaining % radix]
        remaining = remaining // radix
    return pd.DataFrame({c: columns[c] for c in SERIES_KEY_COLUMNS})
