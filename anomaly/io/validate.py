"""Check a flows table against the canonical contract of :mod:`anomaly.schema`.

Two stages: :func:`canonical_columns` types and checks the columns of a table that is
already in canonical columns (a canonical file, a user's DataFrame); :func:`check_flows`
runs the checks that span rows and files (negative values, duplicate keys), sorts by
key and records HS overlaps. Readers of other formats type their own columns, then meet
canonical input at :func:`check_flows`. :func:`validate_flows` is the public entry for a
DataFrame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from anomaly.errors import (
    CurrencyError,
    EmptyDataError,
    FormatError,
    InvalidValueError,
    PeriodError,
    describe_items,
)
from anomaly.io.codes import hs_codes, map_codes
from anomaly.io.countries import aggregate_drops, map_countries
from anomaly.io.keys import (
    combine_codes,
    duplicate_error,
    key_order,
    radix,
    sorted_factorize,
)
from anomaly.io.origin import LINE, ORIGIN_COLUMNS, Source, error_at, with_lines
from anomaly.io.overlaps import find_overlaps, may_overlap, no_overlaps
from anomaly.io.parsed import Dropped
from anomaly.io.periods import periods_column
from anomaly.io.text import categorical as categorical_of
from anomaly.io.text import distinct_text, lookup
from anomaly.io.values import parse_numbers
from anomaly.schema import (
    CANONICAL_COLUMNS,
    CURRENCIES,
    FLOWS,
    KEY_COLUMNS,
    OPTIONAL_VALUE_COLUMNS,
    VALUE_COLUMN,
)

#: Values of a Comtrade record on each valuation basis, kept beside ``value`` (which is
#: FOB for exports and CIF for imports) when the source publishes them.
VALUATION_COLUMNS: tuple[str, ...] = ("value_fob", "value_cif")
#: Largest number accepted in a value, quantity or weight column: 10^15 is some forty
#: times a year of all world trade in USD (or kilograms of a year's crude oil
#: shipments), so a larger number is a unit or parsing error — and sums of numbers near
#: the float64 limit (1e308) would overflow to infinity in totals and leads.
MAX_VALUE = 1e15
NUMBER_COLUMNS: tuple[str, ...] = (VALUE_COLUMN, *OPTIONAL_VALUE_COLUMNS, *VALUATION_COLUMNS)
CURRENCY_COLUMN = "currency"
_PERIOD_DTYPES = (pd.PeriodDtype("M"), pd.PeriodDtype("Y"))


def validate_flows(df: pd.DataFrame, source: str = "<DataFrame>") -> pd.DataFrame:
    """Check a table in canonical columns and return it typed, sorted and annotated.

    Parameters
    ----------
    df : DataFrame
        Columns ``period, reporter, partner, flow, hs, value`` and optionally
        ``quantity, weight_kg, value_fob, value_cif, currency``; other columns are
        left out of the result. ``df`` itself is not changed.
    source : str
        How to name the table in error messages.

    Returns
    -------
    DataFrame
        The canonical table (see :func:`anomaly.io.read_flows`), with
        ``attrs["currency"]`` from the ``currency`` column or ``df.attrs``.

    Raises
    ------
    DataError
        A subclass naming the rows at fault. Rows are numbered like the lines of
        ``df.to_csv(index=False)``: the header is line 1, the first row line 2.

    Examples
    --------
    >>> df = pd.DataFrame({"period": ["2022-02", "2022-01"], "reporter": "DEU",
    ...     "partner": "KGZ", "flow": "export", "hs": "854231", "value": [2.0, 1.0]})
    >>> validate_flows(df)["period"].astype(str).tolist()
    ['2022-01', '2022-02']
    >>> validate_flows(df)["reporter"].cat.categories.tolist()
    ['DEU']
    >>> validate_flows(df.assign(value=[-1.0, 1.0]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    anomaly.errors.InvalidValueError: <DataFrame>, column 'value', line 2: 1 negative value(s)...
    """
    sources = [Source(source)]
    frame = with_lines(df.reset_index(drop=True))
    currency = currency_column(frame, sources)
    known = df.attrs.get("currency")
    if currency and known and currency != known:
        raise CurrencyError(
            f"the currency column says {currency} but attrs['currency'] says {known}",
            source=source,
            column=CURRENCY_COLUMN,
            expected="one currency",
        )
    typed, dropped = canonical_columns(frame, sources)
    if typed.empty:
        raise EmptyDataError(
            "the table has no rows" + (" of countries" if dropped else ""),
            source=source,
            expected="rows of country-to-country flows",
        )
    table, overlaps = check_flows(typed, sources)
    table.attrs.update(
        currency=currency or known,
        sources=[source],
        hs_overlaps=overlaps,
        dropped=[item.record(source) for item in dropped],
    )
    return table


def canonical_columns(
    frame: pd.DataFrame, sources: Sequence[Source]
) -> tuple[pd.DataFrame, list[Dropped]]:
    """Type the canonical columns of ``frame`` (text or typed) and check their codes.

    Rows whose reporter or partner is an aggregate (World, EU, ...) are left out and
    described in the returned records.
    """
    missing = [column for column in CANONICAL_COLUMNS if column not in frame]
    if missing:
        raise FormatError(
            f"column(s) {', '.join(map(repr, missing))} are missing; "
            f"found {', '.join(map(repr, (c for c in frame.columns if c not in ORIGIN_COLUMNS)))}",
            source=sources[0].name,
            expected=f"the columns {', '.join(CANONICAL_COLUMNS)}",
        )
    reporter, reporter_aggregate = map_countries(
        frame, [("reporter", "alpha3")], sources, label="reporter"
    )
    partner, partner_aggregate = map_countries(
        frame, [("partner", "alpha3")], sources, label="partner"
    )
    flow, _ = map_codes(frame, "flow", {flow: flow for flow in FLOWS}, sources, what="flow")
    typed = pd.DataFrame(
        {
            "period": period_column(frame, sources),
            "reporter": reporter,
            "partner": partner,
            "flow": flow,
            "hs": hs_codes(frame, "hs", sources),
            VALUE_COLUMN: parse_numbers(frame, VALUE_COLUMN, sources, required=True),
            **{
                column: parse_numbers(frame, column, sources, required=False)
                for column in NUMBER_COLUMNS[1:]
                if column in frame
            },
            LINE: frame[LINE],
        },
        copy=False,
    )
    dropped = aggregate_drops(frame, reporter_aggregate, partner_aggregate, "reporter", "partner")
    keep = ~(reporter_aggregate | partner_aggregate)
    if not keep.all():
        typed = typed.loc[keep]
    check_keys(typed, sources)
    return typed, dropped


def period_column(frame: pd.DataFrame, sources: Sequence[Source]) -> pd.Series:
    """The ``period`` column as a monthly or annual Period dtype."""
    values = frame["period"]
    if isinstance(values.dtype, pd.PeriodDtype):
        if values.dtype not in _PERIOD_DTYPES:
            raise PeriodError(
                f"periods of dtype {values.dtype}",
                source=sources[0].name,
                column=sources[0].column("period"),
                expected="monthly (period[M]) or annual (period[Y]) periods",
            )
        periods = values
    elif pd.api.types.is_datetime64_any_dtype(values):
        # Timestamps are the first day of their month in every source we know.
        periods = values.dt.to_period("M")
    else:
        text = values if pd.api.types.is_string_dtype(values) else values.astype(str)
        return periods_column(text, frame, sources)
    if periods.isna().any():
        raise error_at(
            PeriodError,
            "missing period(s)",
            frame,
            periods.isna().to_numpy(),
            sources,
            column="period",
            expected="a period in every row",
        )
    return periods


def currency_column(frame: pd.DataFrame, sources: Sequence[Source]) -> str | None:
    """The one currency of a ``currency`` column, or None without the column.

    Raises
    ------
    CurrencyError
        Unknown or missing currencies, or more than one; the lines are named.
    """
    if CURRENCY_COLUMN not in frame:
        return None
    # Checked on the distinct spellings; rows are only counted and looked up.
    codes, text = distinct_text(frame[CURRENCY_COLUMN])
    spelled = text.str.upper().to_numpy(dtype=str)
    unknown = lookup(~np.isin(spelled, CURRENCIES), codes)
    if unknown.any():
        # As str: numpy 2 spells a numpy string's repr np.str_('XXX').
        named = [str(code) for code in pd.unique(spelled[codes[unknown]])]
        raise error_at(
            CurrencyError,
            f"unknown currency code(s) {describe_items(map(repr, named))}",
            frame,
            unknown,
            sources,
            column=CURRENCY_COLUMN,
            expected=f"one of {', '.join(CURRENCIES)} in every row",
        )
    per_spelling = np.bincount(codes, minlength=len(spelled))
    found, which = np.unique(spelled, return_inverse=True)
    counts = np.bincount(which.ravel(), weights=per_spelling, minlength=len(found)).astype(np.int64)
    found, counts = found[counts > 0], counts[counts > 0]
    if len(found) > 1:
        rare = found[np.argmin(counts)]
        listing = ", ".join(
            f"{code}: {count} rows" for code, count in zip(found, counts, strict=True)
        )
        raise error_at(
            CurrencyError,
            f"values in {len(found)} currencies ({listing}); the {rare} rows are listed",
            frame,
            lookup(spelled == rare, codes),
            sources,
            column=CURRENCY_COLUMN,
            expected="one currency per table: convert first, or read the files apart",
        )
    return str(found[0])


def check_flows(
    frame: pd.DataFrame,
    sources: Sequence[Source],
    *,
    categorical: bool = True,
    rows_checked: bool = False,
) -> tuple[pd.DataFrame, dict[str, object]]:
    """Check rows of typed canonical columns together; sort them; record HS overlaps.

    Parameters
    ----------
    frame : pandas.DataFrame
    sources : sequence of Source
        The files of the rows (``FILE`` codes), for error messages.
    categorical : bool
        Text key columns as categoricals of their sorted distinct values (the
        default: the codes travel from the file to the panel), or as a string per row.
    rows_checked : bool
        Every row passed :func:`check_negative` and :func:`check_keys` already (as
        batches of a scan do): only what needs the rows together is checked.

    Returns
    -------
    table : DataFrame
        The canonical columns sorted by key, without the origin columns.
    overlaps : dict
        See :func:`anomaly.io.overlaps.find_overlaps`.

    Raises
    ------
    InvalidValueError
        Negative, infinite or implausibly large values (above :data:`MAX_VALUE`);
        reporter equal to partner.
    PeriodError
        Periods after the current month.
    DuplicateKeyError
        Rows sharing a key, within or across files.
    """
    if not rows_checked:
        check_negative(frame, sources)
        check_keys(frame, sources)
    numbers = [column for column in NUMBER_COLUMNS if column in frame]
    codes, uniques = {}, {}
    for column in KEY_COLUMNS:
        codes[column], uniques[column] = sorted_factorize(frame[column])
    key = combine_codes([codes[column] for column in KEY_COLUMNS])
    dims = radix([codes[column] for column in KEY_COLUMNS])
    order, duplicated = key_order(key, codes["period"], dims and math.prod(dims[1:]))
    if duplicated is not None:
        raise duplicate_error(frame, key, duplicated, sources, KEY_COLUMNS)
    if order is not None:
        codes = {column: codes[column][order] for column in KEY_COLUMNS}
    columns = {column: _take(uniques[column], codes[column], categorical) for column in KEY_COLUMNS}
    for column in numbers:
        values = frame[column].to_numpy(dtype=np.float64)
        # Copied (taken in key order, or as they are): the table owns its numbers.
        columns[column] = values[order] if order is not None else values.copy()
    table = pd.DataFrame(columns, copy=False)
    hs_codes = uniques["hs"].astype(str)
    if not may_overlap(hs_codes):
        return table, no_overlaps()
    group = combine_codes([codes[column] for column in KEY_COLUMNS[:-1]])
    return table, find_overlaps(table, group, codes["hs"], hs_codes)


def check_negative(frame: pd.DataFrame, sources: Sequence[Source]) -> None:
    """Raise InvalidValueError for negative, infinite or implausibly large numbers.

    Every number column must hold values in ``[0, MAX_VALUE]`` (missing values of the
    optional columns pass).
    """
    for column in NUMBER_COLUMNS:
        if column not in frame:
            continue
        values = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
        negative = values < 0
        if negative.any():
            raise error_at(
                InvalidValueError,
                f"{negative.sum()} negative value(s)",
                frame,
                negative,
                sources,
                column=column,
                expected="a value >= 0 (net corrections out before reading)",
            )
        huge = values > MAX_VALUE
        if huge.any():
            raise error_at(
                InvalidValueError,
                f"{huge.sum()} value(s) above {MAX_VALUE:.0e} (largest: {values[huge].max():.6g})",
                frame,
                huge,
                sources,
                column=column,
                expected=f"a value <= {MAX_VALUE:.0e}, the ceiling of a plausible trade "
                "figure; a larger one is a unit or parsing error",
            )


def check_keys(frame: pd.DataFrame, sources: Sequence[Source]) -> None:
    """Refuse rows whose reporter is their partner, and rows dated in the future.

    A country does not trade with itself in these statistics (such a row is a mapping
    error), and no office has published a month that has not begun: a row dated after
    the current month (a stray ``2099-01``) would stretch every default window.

    Raises
    ------
    InvalidValueError
        Reporter equal to partner.
    PeriodError
        A period after the current month (or year, for annual data).
    """
    if "reporter" in frame and "partner" in frame:
        same = _same_values(frame["reporter"], frame["partner"])
        if same.any():
            raise error_at(
                InvalidValueError,
                f"{same.sum()} row(s) whose reporter is also the partner "
                f"({describe_items(pd.unique(frame['reporter'].to_numpy()[same]))})",
                frame,
                same,
                sources,
                column="partner",
                expected="a partner other than the reporting country",
            )
    if "period" in frame and isinstance(frame["period"].dtype, pd.PeriodDtype):
        periods = frame["period"]
        now = pd.Timestamp.now().to_period(periods.dtype.freq)
        future = periods.array.asi8 > now.ordinal
        if future.any():
            found = pd.unique(periods[future].astype(str))
            raise error_at(
                PeriodError,
                f"{future.sum()} row(s) dated after the current period {now} "
                f"({describe_items(sorted(found))})",
                frame,
                future,
                sources,
                column="period",
                expected="periods already published; a future date is a typo or a placeholder",
            )


def _same_values(left: pd.Series, right: pd.Series) -> np.ndarray:
    """Row-wise equality of two text columns, categorical or not, without building
    strings per row for categoricals."""
    if isinstance(left.dtype, pd.CategoricalDtype) and isinstance(right.dtype, pd.CategoricalDtype):
        if left.cat.categories.equals(right.cat.categories):
            codes = left.cat.codes.to_numpy()
            return (codes == right.cat.codes.to_numpy()) & (codes >= 0)
        # Each left category's position among the right ones (-1 where absent).
        translated = right.cat.categories.get_indexer(left.cat.categories)
        codes = left.cat.codes.to_numpy()
        if codes.min(initial=0) < 0:
            mapped = np.where(codes >= 0, translated[np.maximum(codes, 0)], -2)
            return (mapped >= 0) & (mapped == right.cat.codes.to_numpy())
        # No missing left value: one lookup per row. A value absent on the right is
        # translated to -2, which no right code (-1 where missing) equals.
        return np.where(translated < 0, -2, translated)[codes] == right.cat.codes.to_numpy()
    same = left.astype(str).to_numpy() == right.astype(str).to_numpy()
    return same & left.notna().to_numpy()


def _take(uniques: pd.Index, codes: np.ndarray, categorical: bool = False) -> pd.Series:
    """Broadcast distinct values back to rows, as the default string dtype for text
    (or, with ``categorical``, as categories of the distinct values)."""
    if isinstance(uniques.dtype, pd.PeriodDtype):
        ordinals = lookup(uniques.asi8, codes)
        return pd.Series(pd.arrays.PeriodArray(ordinals, dtype=uniques.dtype), copy=False)
    uniques = uniques.astype(str)
    if categorical:
        # Copied: rows already in key order would otherwise share the input's codes.
        return pd.Series(categorical_of(codes, uniques, copy=True), copy=False)
    return pd.Series(uniques.take(codes), copy=False)
