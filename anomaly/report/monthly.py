"""Read the monthly rows of a few series from ``scores.parquet``, for their charts.

The file holds one row per series-month, up to 10^8 rows, of which a report charts
a few dozen series: the reader asks Parquet for the charted series' rows only (a
filter pushed down to the row groups) and the columns it draws, never the whole table.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from anomaly.errors import DuplicateKeyError, FormatError, PeriodError
from anomaly.schema import SERIES_KEY_COLUMNS

__all__ = ["OPTIONAL_SERIES_COLUMNS", "SERIES_COLUMNS", "SeriesKey", "read_monthly"]

#: (reporter, partner, flow, hs)
SeriesKey = tuple[str, str, str, str]

#: Columns ``scores.parquet`` must have for charts (``z`` and others are not drawn).
SERIES_COLUMNS: tuple[str, ...] = (
    "period",
    *SERIES_KEY_COLUMNS,
    "actual",
    "expected",
    "lower",
    "upper",
)
#: The partner's mirror declaration aligned to the series, drawn dashed when present.
OPTIONAL_SERIES_COLUMNS: tuple[str, ...] = ("mirror_actual",)

_VALUES = ("actual", "expected", "lower", "upper", "mirror_actual")


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_null(kind)


def _open(path: Path) -> ds.Dataset:
    try:
        # No partitioning: Hive directory names would turn HS codes into integers
        # and drop their leading zeros, so every column must be inside the files.
        return ds.dataset(path, format="parquet")
    except (pa.ArrowException, OSError) as error:
        raise FormatError(f"not a readable Parquet file ({error})", source=str(path)) from error


def _check_schema(dataset: ds.Dataset, source: str) -> list[str]:
    names = dataset.schema.names
    missing = [column for column in SERIES_COLUMNS if column not in names]
    if missing:
        raise FormatError(
            f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            source=source,
            expected=f"columns {', '.join(SERIES_COLUMNS)} as written by `anomaly score`",
        )
    columns = [*SERIES_COLUMNS, *(c for c in OPTIONAL_SERIES_COLUMNS if c in names)]
    for column in columns:
        kind = dataset.schema.field(column).type
        if column in SERIES_KEY_COLUMNS and not _is_text(kind):
            raise FormatError(
                f"stored as {kind}", source=source, column=column, expected="text (string)"
            )
        if column in _VALUES and not _is_number(kind):
            raise FormatError(f"stored as {kind}", source=source, column=column, expected="numbers")
    return columns


def _months(period: pd.Series, source: str) -> pd.PeriodIndex:
    if isinstance(period.dtype, pd.PeriodDtype):
        return pd.PeriodIndex(period).asfreq("M")
    if pd.api.types.is_datetime64_any_dtype(period.dtype):
        return pd.PeriodIndex(period.dt.to_period("M"))
    try:
        return pd.PeriodIndex(period.astype(str), freq="M")
    except (ValueError, TypeError) as error:
        raise PeriodError(
            f"periods that are not months ({error})",
            source=source,
            column="period",
            expected="YYYY-MM",
        ) from error


def _complete(rows: pd.DataFrame, key: SeriesKey, source: str) -> pd.DataFrame:
    rows = rows.sort_values("period", kind="mergesort").set_index("period")
    repeated = rows.index[rows.index.duplicated()]
    if len(repeated):
        raise DuplicateKeyError(
            f"series {'/'.join(key)} has more than one row for {repeated[0]}",
            source=source,
            expected="one row per series and month",
        )
    # Absent months become gaps in the lines rather than points joined across them.
    months = pd.period_range(rows.index.min(), rows.index.max(), freq="M", name="period")
    return rows.reindex(months)


def read_monthly(path: str | Path, keys: Iterable[SeriesKey]) -> dict[SeriesKey, pd.DataFrame]:
    """Read the monthly rows of the given series.

    Parameters
    ----------
    path : str or Path
        ``scores.parquet``: a file, or a directory of Parquet part files that all hold
        the key columns.
    keys : iterable of (reporter, partner, flow, hs)
        The series wanted.

    Returns
    -------
    dict
        For each key found, a frame indexed by a complete monthly ``PeriodIndex`` named
        ``period`` (absent months as NaN rows) with float columns ``actual, expected,
        lower, upper`` and ``mirror_actual`` when the file has it. Keys without rows are
        left out.

    Raises
    ------
    FormatError
        If the file cannot be read, lacks a required column (all are listed) or stores a
        key column as something other than text.
    PeriodError
        If a period is not a month.
    DuplicateKeyError
        If a series has two rows for one month.

    Examples
    --------
    >>> import tempfile
    >>> rows = pd.DataFrame({"period": ["2022-01", "2022-03"], "reporter": "DEU",
    ...     "partner": "KGZ", "flow": "export", "hs": "854231", "actual": [5.0, 7.0],
    ...     "expected": 1.0, "lower": 0.5, "upper": 1.5})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     rows.to_parquet(f"{tmp}/scores.parquet")
    ...     series = read_monthly(f"{tmp}/scores.parquet", [("DEU", "KGZ", "export", "854231")])
    >>> series["DEU", "KGZ", "export", "854231"]["actual"].tolist()
    [5.0, nan, 7.0]
    """
    path = Path(path)
    source = str(path)
    wanted = pd.DataFrame(sorted(set(keys)), columns=list(SERIES_KEY_COLUMNS), dtype=object)
    if wanted.empty:
        return {}
    dataset = _open(path)
    columns = _check_schema(dataset, source)
    # A coarse filter per column keeps the Parquet scan cheap; the exact pairing of
    # the four keys is the merge below.
    condition = None
    for column in ("reporter", "partner", "hs"):
        test = pc.field(column).isin(sorted(set(wanted[column])))
        condition = test if condition is None else condition & test
    try:
        rows = dataset.to_table(columns=columns, filter=condition).to_pandas()
    except (pa.ArrowException, OSError) as error:
        raise FormatError(f"not a readable Parquet file ({error})", source=source) from error
    for column in SERIES_KEY_COLUMNS:
        rows[column] = rows[column].astype(str)
    rows = rows.merge(wanted.astype(str), on=list(SERIES_KEY_COLUMNS), how="inner")
    rows["period"] = _months(rows["period"], source)
    values = [column for column in _VALUES if column in rows]
    rows[values] = rows[values].astype("float64")
    return {
        key: _complete(group[["period", *values]], key, source)
        for key, group in rows.groupby(list(SERIES_KEY_COLUMNS), sort=True)
    }
