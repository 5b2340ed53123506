"""Canonical flows table → :class:`~anomaly.panel.core.Panel`, at one HS level."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from anomaly.errors import DataError, PeriodError
from anomaly.panel.core import Panel, as_month
from anomaly.schema import OPTIONAL_VALUE_COLUMNS, SERIES_KEY_COLUMNS, VALUE_COLUMN

logger = logging.getLogger(__name__)

HS_LEVELS: tuple[int, ...] = (2, 4, 6, 8, 10)


def build_panel(
    flows: pd.DataFrame,
    *,
    hs_level: int = 6,
    harmonize: bool = True,
    start: str | pd.Period | None = None,
    end: str | pd.Period | None = None,
    dtype: type[np.floating] = np.float64,
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
        Canonical flows table with monthly periods (see :mod:`anomaly.schema`).
    hs_level : {2, 4, 6, 8, 10}
        Number of HS digits that define a series.
    harmonize : bool
        Map HS2012/HS2017 codes to HS2022 before aggregating (``hs_level`` <= 6 only:
        the concordance is of 6-digit codes).
    start, end : str or pandas.Period, optional
        First and last month of the panel; default the data's range.
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
    _check_monthly(flows)
    if flows.empty:
        raise DataError("cannot build a panel from an empty flows table")

    published = flows["hs"].astype(str)
    hs = _harmonized(published, flows["period"], hs_level) if harmonize else published
    table = _one_level(flows, hs, published.str.len(), hs_level)

    value_columns = [VALUE_COLUMN] + [c for c in OPTIONAL_VALUE_COLUMNS if c in table.columns]
    group = [*SERIES_KEY_COLUMNS, "period"]
    summed = table.groupby(group, sort=False, observed=True)[value_columns].sum(min_count=1)
    summed = summed.reset_index()

    keys_frame = summed[list(SERIES_KEY_COLUMNS)]
    series_id, keys = _factorize_keys(keys_frame)
    ordinals = summed["period"].array.asi8
    first_ordinal = as_month(start).ordinal if start is not None else int(ordinals.min())
    last_ordinal = as_month(end).ordinal if end is not None else int(ordinals.max())
    periods = pd.period_range(
        pd.Period(ordinal=first_ordinal, freq="M"),
        pd.Period(ordinal=last_ordinal, freq="M"),
        freq="M",
    )
    column = ordinals - first_ordinal
    inside = (column >= 0) & (column < len(periods))

    matrices = {}
    for name in value_columns:
        matrix = np.full((len(keys), len(periods)), np.nan, dtype=dtype)
        matrix[series_id[inside], column[inside]] = summed[name].to_numpy(dtype=np.float64)[inside]
        matrices[name] = matrix
    values = matrices.pop(VALUE_COLUMN)
    return Panel(keys, periods, values, flows.attrs.get("currency"), matrices)


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


def _harmonized(published: pd.Series, periods: pd.Series, hs_level: int) -> pd.Series:
    """HS2022 codes, with the codes of a split family merged into one series.

    A code split in 2022 (854150 → 854151 + 854159) has one pre-2022 history for the
    whole family, so the family's HS2022 codes are filed together under its primary
    successor; otherwise the non-primary codes would look like flows from nothing.
    """
    from anomaly.reference import harmonize_hs, split_families

    if hs_level > 6:
        raise ValueError(
            "the HS revision concordance maps 6-digit codes; national extensions of "
            "changed codes cannot be mapped: build the panel with harmonize=False, "
            f"or at hs_level <= 6 (got {hs_level})"
        )
    hs = harmonize_hs(published, periods)
    family = hs.str[:6].map(split_families())
    return family.where(family.notna(), hs)


def _one_level(
    flows: pd.DataFrame, hs: pd.Series, published_length: pd.Series, hs_level: int
) -> pd.DataFrame:
    """Rows that describe each flow once at ``hs_level``, with ``hs`` cut to that level.

    Whether a row is a heading or a detail is read from the code *as published*
    (harmonisation may shorten a CN8 code to its 6-digit successor).
    """
    length = published_length
    coarse = length < hs_level
    if coarse.any():
        logger.warning(
            "left out %d rows whose HS code is coarser than %d digits (e.g. %s)",
            int(coarse.sum()),
            hs_level,
            hs[coarse].iloc[0],
        )
    table = flows.loc[~coarse].copy()
    table["hs"] = hs[~coarse].str[:hs_level]
    exact = (length[~coarse] == hs_level).to_numpy()
    group = [*SERIES_KEY_COLUMNS, "period"]
    has_exact = (
        pd.Series(exact, index=table.index)
        .groupby([table[c] for c in group], sort=False, observed=True)
        .transform("any")
    )
    shadowed = has_exact.to_numpy() & ~exact
    if shadowed.any():
        logger.info(
            "used %d rows published at the %d-digit level instead of %d more detailed rows",
            int(exact.sum()),
            hs_level,
            int(shadowed.sum()),
        )
    return table.loc[~shadowed]


def _factorize_keys(keys_frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer series id per row and the sorted table of distinct keys."""
    grouped = keys_frame.groupby(list(SERIES_KEY_COLUMNS), sort=True, observed=True)
    series_id = grouped.ngroup().to_numpy()
    keys = keys_frame.drop_duplicates().copy()
    keys["_id"] = series_id[keys.index.to_numpy()]
    keys = keys.sort_values("_id").drop(columns="_id").reset_index(drop=True)
    for column in SERIES_KEY_COLUMNS:
        keys[column] = keys[column].astype(str)
    return series_id, keys
