"""From the partitions' evidence to the outputs of an in-memory run, row for row.

The in-memory run scores the panel's series in the panel's order: every series of
the data sorted by key, then the trained series the data lacks, in training order.
Ranking breaks ties by that order and the cross-series statistics sum in it, so the
partitions' summaries are put back in it before anything is ranked. The series-month
detail (``scores.parquet``) is streamed from the partitions' memory-mapped arrays in
row groups, so it is never held whole in memory, and written while the leads are
ranked; the top leads' earlier months, known once they are, come last.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from anomaly.batch.store import MONTHLY, load_summary, monthly_arrays
from anomaly.batch.workdir import WorkDir
from anomaly.io import sorted_factorize
from anomaly.model.outputs import is_text
from anomaly.reference import GOODS_COLUMNS, describe_goods
from anomaly.schema import SERIES_KEY_COLUMNS

#: Series per row group of ``scores.parquet``.
CHUNK_SERIES = 50_000


@dataclass(frozen=True)
class Summary:
    """The whole run's per-series summary, in the in-memory order.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per series scored.
    partition, row : numpy.ndarray
        Where each row's monthly arrays are: partition, and row within it.
    """

    table: pd.DataFrame
    partition: np.ndarray
    row: np.ndarray


def gather_summary(work: WorkDir, partitions: Iterable[int]) -> Summary:
    """Concatenate the partitions' summaries and put them in the in-memory order."""
    tables, trained, partition, row = [], [], [], []
    for part in partitions:
        table, positions = load_summary(work.evidence_dir(part))
        tables.append(table)
        trained.append(positions)
        partition.append(np.full(len(table), part, dtype=np.int64))
        row.append(np.arange(len(table), dtype=np.int64))
    table = stacked([t for t in tables if len(t)] or tables[:1])
    order = in_memory_order(table, np.concatenate(trained))
    table = table.iloc[order]
    table.index = pd.RangeIndex(len(table))  # reset_index would copy it all once more
    return Summary(
        table,
        np.concatenate(partition)[order],
        np.concatenate(row)[order],
    )


def stacked(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of ``tables`` one after the other, as ``pandas.concat`` stacks them.

    Tables of the same columns and types (the partitions' summaries) are stacked
    column by column: ``pandas.concat`` of frames would look at every value of an
    object column whose first values are missing (a text column empty for most
    series), one Python call per row, to choose the column's type.

    Examples
    --------
    >>> parts = [pd.DataFrame({"a": [1], "b": [None]}), pd.DataFrame({"a": [2], "b": ["x"]})]
    >>> stacked(parts).to_dict("list")
    {'a': [1, 2], 'b': [None, 'x']}
    """
    first = tables[0]
    alike = all(
        table.columns.equals(first.columns) and table.dtypes.equals(first.dtypes)
        for table in tables
    )
    if not alike or not first.columns.is_unique:
        return pd.concat(tables, ignore_index=True)
    return pd.DataFrame(
        {name: pd.concat([table[name] for table in tables], ignore_index=True) for name in first}
    )


def in_memory_order(keys: pd.DataFrame, trained: np.ndarray) -> np.ndarray:
    """Rows sorted as in an in-memory panel.

    Series of the data (``trained`` -1) first, by key; then trained series the data
    lacks, by their position in training.

    Examples
    --------
    >>> keys = pd.DataFrame({"reporter": ["B", "A", "C"], "partner": "X",
    ...                      "flow": "export", "hs": "01"})
    >>> in_memory_order(keys, np.array([-1, 7, -1])).tolist()
    [0, 2, 1]
    """
    ranks = [sorted_factorize(keys[column])[0] for column in SERIES_KEY_COLUMNS]
    return np.lexsort((*reversed(ranks), trained, trained >= 0))


def scores_schema(summary: Summary, periods: pd.PeriodIndex) -> pa.Schema:
    """The schema of ``scores.parquet``, as ``Scores.frame`` gives it (the goods columns
    as text, whatever the sample row holds)."""
    sample = _window_frame(summary.table.iloc[:1], periods)
    schema = pa.Table.from_pandas(sample, preserve_index=False).schema
    # Text as ``string`` whatever pandas gives (pandas 3: ``large_string``): the chunks'
    # dictionaries of text are kept as they are only when the schema's type is theirs.
    schema = pa.schema([pa.field(f.name, pa.string()) if is_text(f.type) else f for f in schema])
    for name in GOODS_COLUMNS:
        schema = schema.append(pa.field(name, pa.string()))
    return schema


def window_tables(
    work: WorkDir, summary: Summary, periods: pd.PeriodIndex, schema: pa.Schema, chp_version: str
) -> Iterator[pa.Table]:
    """The window's rows of ``scores.parquet``, in chunks, in the summary's order.

    Text columns are Arrow dictionaries (codes into the distinct keys and months): tens
    of millions of rows never become strings, and Parquet stores them as they are. The
    goods columns are described once per distinct HS code (on the model's CHP list
    ``chp_version``) and coded like ``hs``.
    """
    n_months = len(periods)
    keys = summary.table
    labels = pa.array(np.asarray(periods.astype(str), dtype=object), type=pa.string())
    factorized = {c: pd.factorize(keys[c]) for c in SERIES_KEY_COLUMNS}
    # Codes as int32 from the start (Arrow takes them as dictionary indices as they are),
    # dictionaries made once.
    key_codes = {
        column: (codes.astype(np.int32), pa.array(np.asarray(distinct, dtype=object), pa.string()))
        for column, (codes, distinct) in factorized.items()
    }
    hs_codes, distinct_hs = key_codes["hs"][0], factorized["hs"][1]
    goods = describe_goods(distinct_hs, chp_version)
    # Per goods column: the code of each distinct HS code's text (-1: none) and the
    # distinct texts. A dictionary must not repeat a value: Parquet would then write
    # the column as plain strings (tens of millions of them), not as a dictionary.
    goods_text = {
        name: _distinct_text(goods[name].to_numpy(dtype=object)) for name in GOODS_COLUMNS
    }
    for start in range(0, len(keys), CHUNK_SERIES):
        chunk = slice(start, start + CHUNK_SERIES)
        partition, row = summary.partition[chunk], summary.row[chunk]
        monthly = {name: np.empty((len(row), n_months)) for name in MONTHLY}
        for part in np.unique(partition):
            # Mapped for this chunk only: pages read stay out of this process's memory.
            arrays = monthly_arrays(work.evidence_dir(part))
            here = partition == part
            for name in MONTHLY:
                monthly[name][here] = arrays[name][row[here]]
        months = np.arange(n_months, dtype=np.int32)
        columns = {"period": _coded(np.tile(months, len(row)), labels)}
        for column, (codes, dictionary) in key_codes.items():
            columns[column] = _coded(np.repeat(codes[chunk], n_months), dictionary)
        columns |= {name: pa.array(values.ravel()) for name, values in monthly.items()}
        columns["in_window"] = pa.array(np.ones(len(row) * n_months, dtype=bool))
        at = np.repeat(hs_codes[chunk], n_months)
        for name, (text_codes, dictionary) in goods_text.items():
            codes = text_codes[at]
            columns[name] = pa.DictionaryArray.from_arrays(
                pa.array(codes, type=pa.int32(), mask=codes < 0), dictionary
            )
        arrays = [
            columns[f.name] if pa.types.is_string(f.type) else columns[f.name].cast(f.type)
            for f in schema
        ]
        yield pa.Table.from_arrays(arrays, names=schema.names)


def _distinct_text(text: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """Codes into the distinct values of ``text`` (``-1`` where missing), and those values.

    Examples
    --------
    >>> codes, values = _distinct_text(np.array(["b", None, "a", "b"], dtype=object))
    >>> codes.tolist(), values.to_pylist()
    ([0, -1, 1, 0], ['b', 'a'])
    """
    codes, values = pd.factorize(pd.Series(text, dtype=object))
    return codes.astype(np.int32), pa.array(np.asarray(values, dtype=object), type=pa.string())


def history_tables(history: pd.DataFrame, schema: pa.Schema) -> list[pa.Table]:
    """The top leads' months before the window (rows of ``scores.parquet``)."""
    if history.empty:
        return []
    return [pa.Table.from_pandas(history, schema=schema, preserve_index=False)]


def _window_frame(keys: pd.DataFrame, periods: pd.PeriodIndex) -> pd.DataFrame:
    """Window rows as ``Scores.frame`` builds them (values left empty): for the schema."""
    n = len(periods)
    frame = pd.DataFrame(
        {"period": np.tile(periods.astype(str), len(keys))}
        | {c: np.repeat(keys[c].to_numpy(), n) for c in SERIES_KEY_COLUMNS}
        | {name: np.full(len(keys) * n, np.nan) for name in MONTHLY}
    )
    frame["in_window"] = True
    return frame


def _coded(indices: np.ndarray, dictionary: pa.Array) -> pa.DictionaryArray:
    """A dictionary column of int32 ``indices`` (codes into ``dictionary`` by
    construction: not checked again, row by row)."""
    return pa.DictionaryArray.from_arrays(pa.array(indices), dictionary, safe=False)
