"""The scan: read the inputs once, check them, and split their rows by partition.

Each scan unit (row groups of one Parquet file, or the one table that
:func:`anomaly.read_flows` returns) writes, for every partition it has rows of:

- ``rows-P.arrows``: every row of the months scoring reads in full — the window, the
  month after it (shipping lags) and :data:`~anomaly.model.scores.HISTORY_MONTHS`
  before it (the charts of the top leads) — checked like :func:`anomaly.read_flows`
  checks them;
- ``keys-P.arrows``: of the other months, one row per series key and HS revision.
  An in-memory run scores every series found anywhere in the data (a series silent
  in the window is scored as zero trade), and its position among the leads depends on
  it, so the keys of every month are kept; their values are not needed. These rows'
  codes are checked; their values and duplicates are not (they are never used).

Rows are stored with the month as an integer (months since 1970-01) and text columns
as dictionaries, in Arrow IPC streams compressed with LZ4: smaller than the input, and
written and read several times faster than Parquet (these files live for one run). A
training read writes them uncompressed (:attr:`ScanPlan.compression`): about 40 bytes
a row in ``TMPDIR``, for a fifth less CPU.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from anomaly.batch.partition import pair_partitions
from anomaly.batch.sources import Inputs, read_unit
from anomaly.batch.workdir import SPLIT_SUFFIX, WorkDir, publish
from anomaly.errors import CurrencyError, PeriodError
from anomaly.io import (
    FILE,
    LINE,
    Source,
    canonical_columns,
    check_negative,
    currency_column,
    period_column,
)
from anomaly.panel import hs_revision
from anomaly.schema import SERIES_KEY_COLUMNS, VALUE_COLUMN

_DICTIONARY = pa.dictionary(pa.int32(), pa.string())
ROW_SCHEMA = pa.schema(
    [("period", pa.int32())]
    + [(name, _DICTIONARY) for name in SERIES_KEY_COLUMNS]
    + [(VALUE_COLUMN, pa.float64()), (FILE, pa.int32()), (LINE, pa.int64())]
)
KEY_SCHEMA = pa.schema([("period", pa.int32())] + [(n, _DICTIONARY) for n in SERIES_KEY_COLUMNS])
SUMMARY_FILE = "summary.json"


@dataclass(frozen=True)
class ScanPlan:
    """What a scan unit needs to know (plain data: sent to workers as is).

    Attributes
    ----------
    inputs : Inputs
    work : WorkDir
    n_partitions : int
    lo, hi : int
        First and last month (as ordinals) whose rows are kept in full.
    hs_level : int
        The model's HS level: rows of coarser codes do not make a month "reported".
    outside_keys : bool
        Keep one row per series key and HS revision of the other months (batch
        scoring); if false, leave those rows out (a training read of its window).
    compression : {"lz4", None}
        Of the split files: LZ4 (a third of the size), or none (a fifth less CPU for
        the scan, for files read once, as a training read's are).
    """

    inputs: Inputs
    work: WorkDir
    n_partitions: int
    lo: int
    hi: int
    hs_level: int
    outside_keys: bool = True
    compression: str | None = "lz4"


@dataclass(frozen=True)
class UnitSummary:
    """What a scan unit found.

    Attributes
    ----------
    currency : str or None
        The currency of its ``currency`` column (None without one).
    last : int or None
        The latest month (ordinal) of its rows at the model's HS level or finer.
    rows : int
        Rows kept in full.
    first : int or None
        The earliest month (ordinal) of its rows at the model's HS level or finer (None
        in the summary of a work directory written before it was recorded).
    dropped : dict of str to int
        Of the rows it would keep in full, how many were left out on purpose, per
        reason (aggregate partners such as World), as :func:`anomaly.read_flows`
        records them.
    """

    currency: str | None
    last: int | None
    rows: int
    first: int | None = None
    dropped: dict[str, int] = dataclasses.field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path) -> UnitSummary:
        return cls(**json.loads((folder / SUMMARY_FILE).read_text()))


def scan_unit(plan: ScanPlan, unit: int) -> UnitSummary:
    """Scan native Parquet unit ``unit`` of ``plan.inputs`` (skipped if already done)."""
    folder = plan.work.unit_dir(unit)
    if (folder / SUMMARY_FILE).exists():
        return UnitSummary.read(folder)
    sources = plan.inputs.sources
    found: list[UnitSummary] = []

    def build(staging: Path) -> None:
        with _PartitionFiles(staging, plan) as files:
            for frame in read_unit(plan.inputs, plan.inputs.units[unit]):
                found.append(_scan_batch(frame, plan, sources, files))
        _write_summary(staging, combined_summary(found, sources))

    publish(folder, build)
    return UnitSummary.read(folder)


def scan_table(plan: ScanPlan, table: pd.DataFrame) -> UnitSummary:
    """Split a table read by :func:`anomaly.read_flows` (checked already) as unit 0."""
    folder = plan.work.unit_dir(0)
    if (folder / SUMMARY_FILE).exists():
        return UnitSummary.read(folder)
    _check_monthly(table["period"], [Source(", ".join(plan.inputs.files))])
    ordinal = table["period"].array.asi8
    inside = (ordinal >= plan.lo) & (ordinal <= plan.hi)
    rows = table.loc[inside].assign(**{FILE: np.int32(0), LINE: np.flatnonzero(inside) + 2})
    outside = table.loc[~inside]
    keys = outside.loc[_representatives(outside, ordinal[~inside])]
    first, last = _span(rows, keys, plan.hs_level)
    summary = UnitSummary(table.attrs.get("currency"), last, len(rows), first)

    def build(staging: Path) -> None:
        with _PartitionFiles(staging, plan) as files:
            files.write(rows, keys)
        _write_summary(staging, summary)

    publish(folder, build)
    return summary


def _scan_batch(
    frame: pd.DataFrame, plan: ScanPlan, sources: list[Source], files: _PartitionFiles
) -> UnitSummary:
    """Check one batch of raw rows and append it to the partition files."""
    currency = currency_column(frame, sources)
    # Parsed once here; the checks below then take the typed column as it is.
    frame["period"] = _check_monthly(period_column(frame, sources), sources)
    ordinal = frame["period"].array.asi8
    inside = (ordinal >= plan.lo) & (ordinal <= plan.hi)
    # A training scan keeps every month: the batch is then not copied.
    rows, dropped = _checked(frame if inside.all() else frame.loc[inside], sources)
    check_negative(rows, sources)
    kept = ~inside if plan.outside_keys else np.zeros(len(frame), dtype=bool)
    outside = frame.loc[kept]
    keys, _ = _checked(outside.loc[_representatives(outside, ordinal[kept])], sources)
    files.write(rows, keys)
    first, last = _span(rows, keys, plan.hs_level)
    return UnitSummary(currency, last, len(rows), first, dropped)


def _checked(frame: pd.DataFrame, sources: list[Source]) -> tuple[pd.DataFrame, dict[str, int]]:
    """Canonical, checked columns of raw rows (aggregate countries left out), with
    origin; and how many rows were left out, per reason."""
    typed, dropped = canonical_columns(frame, sources)
    origin = frame[FILE].to_numpy()
    # Rows are only ever left out (aggregate countries): when none was, they are in order.
    kept = len(typed) == len(frame)
    typed[FILE] = origin if kept else origin[frame.index.get_indexer(typed.index)]
    per_reason: Counter[str] = Counter()
    for item in dropped:
        per_reason[item.reason] += item.rows
    return typed, dict(per_reason)


def _check_monthly(periods: pd.Series, sources: list[Source]) -> pd.Series:
    if periods.dtype != pd.PeriodDtype("M"):
        raise PeriodError(
            f"a panel needs monthly periods, found periods of type {periods.dtype}",
            source=sources[0].name if sources else None,
            column="period",
            expected="monthly periods; annual data cannot be forecast monthly",
        )
    return periods


def _representatives(frame: pd.DataFrame, ordinal: np.ndarray) -> np.ndarray:
    """Mask of one row per series key and HS revision.

    A panel files a code under its HS2022 successor by the revision in force in the
    row's year, so one row per (key as published, revision) gives the panel every
    series these rows would.
    """
    years = ordinal // 12 + 1970
    revision = hs_revision(years)
    columns = {name: pd.factorize(frame[name])[0] for name in SERIES_KEY_COLUMNS}
    return ~pd.DataFrame(columns | {"revision": revision}).duplicated().to_numpy()


def _span(rows: pd.DataFrame, keys: pd.DataFrame, hs_level: int) -> tuple[int | None, int | None]:
    """The earliest and latest month of rows that a panel at ``hs_level`` keeps."""
    found = np.concatenate([_fine_months(frame, hs_level) for frame in (rows, keys)])
    return (int(found.min()), int(found.max())) if len(found) else (None, None)


def _fine_months(frame: pd.DataFrame, hs_level: int) -> np.ndarray:
    """The months (ordinals) of the rows whose code has ``hs_level`` digits or more,
    every row's when all codes have (no pass over the rows then)."""
    codes, lengths = _code_lengths(frame["hs"])
    months = frame["period"].array.asi8
    fine = lengths >= hs_level
    return months if fine.all() else months[fine[codes]]


def _code_lengths(hs: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the rows into their distinct HS codes, and the length of each of those
    (a categorical's codes and categories are taken as they are)."""
    if isinstance(hs.dtype, pd.CategoricalDtype) and hs.cat.codes.min(skipna=False) >= 0:
        codes, distinct = hs.cat.codes.to_numpy(), hs.cat.categories
    else:
        codes, distinct = pd.factorize(hs)
    return codes, pd.Series(np.asarray(distinct, dtype=object), dtype=object).str.len().to_numpy()


def combined_summary(found: list[UnitSummary], sources: list[Source]) -> UnitSummary:
    """What several scan units (or batches of one) found, together.

    Raises
    ------
    CurrencyError
        The units are in different currencies.
    """
    currencies = {s.currency for s in found}
    if len(currencies) > 1:
        raise CurrencyError(
            f"the files are in different currencies ({', '.join(sorted(map(str, currencies)))})",
            source=sources[0].name if sources else None,
            expected="one currency: read the files apart, or convert them first",
        )
    lasts = [s.last for s in found if s.last is not None]
    firsts = [s.first for s in found if s.first is not None]
    return UnitSummary(
        next(iter(currencies), None),
        max(lasts) if lasts else None,
        sum(s.rows for s in found),
        min(firsts) if firsts else None,
        dict(sum((Counter(s.dropped) for s in found), Counter())),
    )


def _write_summary(folder: Path, summary: UnitSummary) -> None:
    (folder / SUMMARY_FILE).write_text(json.dumps(summary.__dict__))


class _PartitionFiles:
    """One Arrow IPC stream per partition of a unit, opened at its first rows."""

    def __init__(self, folder: Path, plan: ScanPlan) -> None:
        self.folder = folder
        self.n_partitions = plan.n_partitions
        self.options = pa.ipc.IpcWriteOptions(compression=plan.compression)
        self.writers: dict[str, pa.ipc.RecordBatchStreamWriter] = {}
        self.sinks: list[pa.OSFile] = []

    def __enter__(self) -> _PartitionFiles:
        return self

    def __exit__(self, *exc) -> None:
        try:
            for writer in self.writers.values():
                writer.close()
        finally:
            for sink in self.sinks:
                sink.close()

    def write(self, rows: pd.DataFrame, keys: pd.DataFrame) -> None:
        self._append("rows", rows, ROW_SCHEMA)
        self._append("keys", keys, KEY_SCHEMA)

    def _append(self, kind: str, frame: pd.DataFrame, schema: pa.Schema) -> None:
        if frame.empty:
            return
        part = pair_partitions(frame["reporter"], frame["partner"], self.n_partitions)
        # Sorted by radix when the partitions fit 16 bits: a tenth of sorting 32-bit ones.
        order = np.argsort(part.astype(_partition_dtype(self.n_partitions)), kind="stable")
        bounds = np.searchsorted(part[order], np.arange(self.n_partitions + 1))
        table = _arrow(frame, schema).take(pa.array(order))
        for partition in np.flatnonzero(np.diff(bounds)):
            name = f"{kind}-{partition:05d}.{SPLIT_SUFFIX}"
            if name not in self.writers:
                sink = pa.OSFile(str(self.folder / name), "wb")
                self.writers[name] = pa.ipc.new_stream(sink, schema, options=self.options)
                self.sinks.append(sink)
            start = bounds[partition]
            self.writers[name].write_table(table.slice(start, bounds[partition + 1] - start))


def _partition_dtype(n_partitions: int) -> type[np.signedinteger]:
    """The smallest of int16 and int32 that numbers ``n_partitions`` partitions."""
    return np.int16 if n_partitions <= np.iinfo(np.int16).max else np.int32


def read_scanned(files: list[Path], schema: pa.Schema) -> pa.Table:
    """A partition's split rows from every scan unit, one dictionary per text column."""
    tables = [pa.Table.from_batches(list(scanned_batches(path)), schema) for path in files]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    return table.unify_dictionaries().combine_chunks()


def scanned_frame(table: pa.Table) -> pd.DataFrame:
    """Rows of :func:`read_scanned` as canonical columns (text columns categorical).

    ``table`` is consumed: its buffers are let go column by column as they are
    converted (not to be used afterwards), and the columns are not consolidated.
    """
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    frame["period"] = pd.PeriodIndex.from_ordinals(frame["period"].to_numpy(np.int64), freq="M")
    return frame


def scanned_batches(path: Path) -> Iterator[pa.RecordBatch]:
    """The record batches of one split file (each with dictionaries of its own), read
    from a memory map: those of an uncompressed file are not copied."""
    with pa.memory_map(str(path)) as source:
        yield from pa.ipc.open_stream(source)


def dictionary_codes(table: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and distinct values of a dictionary column of :func:`read_scanned`.

    Parameters
    ----------
    table : pyarrow.Table
        One chunk per column (as :func:`read_scanned` returns it), or none.
    name : str

    Returns
    -------
    codes : numpy.ndarray of int64
    values : numpy.ndarray of object
        ``values[codes]`` is the column.
    """
    column = table[name]
    if column.num_chunks == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    array = column.chunk(0)
    return array.indices.to_numpy().astype(np.int64), array.dictionary.to_numpy(False)


def _arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    columns = []
    for field in schema:
        if field.name == "period":
            columns.append(pa.array(frame["period"].array.asi8.astype(np.int32)))
        elif pa.types.is_dictionary(field.type):
            values = frame[field.name]
            if not isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype("category")
            array = pa.DictionaryArray.from_arrays(
                pa.array(values.cat.codes.to_numpy(np.int32)),
                pa.array(np.asarray(values.cat.categories, dtype=object), type=pa.string()),
            )
            columns.append(array)
        else:
            columns.append(pa.array(frame[field.name].to_numpy(), type=field.type))
    return pa.Table.from_arrays(columns, schema=schema)
