"""``read_panel``: canonical Parquet into a panel, never holding the input table whole.

Reading every row into one table before pivoting it holds 105-120 bytes per row at
its peak (12-13 GiB for the 1.2·10^8 rows of 10^6 series × 120 months). Here the scan of batch
scoring (:mod:`.scan`) reads the files in batches, checks them and splits their rows by
partition (the unordered country pair) into a temporary directory; each partition is
then checked as a whole (a key is in one partition, so duplicates across files are
found) and pivoted by :func:`anomaly.build_panel` over the months of the whole input,
its matrix set aside on disk; last, the partitions' series are put in the order one
pivot of the whole input gives them, in one matrix. What is held at once is one
batch of rows (the scan), the keys found so far and one partition's rows, then the
panel itself.

The panel is the one ``build_panel(read_flows(files), hs_level=...)`` gives (keys in
the same order, the same months, values equal to the bit, the same currency), without
the ``quantity`` and ``weight_kg`` matrices: the scan keeps the values only, and
training reads nothing else.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from anomaly._version import __version__
from anomaly.batch.engines import engine_for, map_in_order
from anomaly.batch.scan import (
    ROW_SCHEMA,
    ScanPlan,
    combined_summary,
    read_scanned,
    scan_unit,
    scanned_frame,
)
from anomaly.batch.sources import Inputs, resolve_inputs
from anomaly.batch.workdir import LAYOUT, publish, work_directory
from anomaly.errors import EmptyDataError
from anomaly.io import Source, data_files
from anomaly.io.keys import combine_codes, duplicate_error, key_order, radix, sorted_factorize
from anomaly.io.read import check_currency_name, one_currency
from anomaly.io.text import categorical, lookup
from anomaly.panel import Panel, as_month, build_panel, coarse_error, log_coarse
from anomaly.progress import logged_step
from anomaly.schema import KEY_COLUMNS, SERIES_KEY_COLUMNS, VALUE_COLUMN

PathLike = str | os.PathLike
#: Input rows per partition. Checking and pivoting a partition holds about 130 bytes per
#: row at its peak: partitions of this size keep it near what the scan itself holds
#: (measured at 10^5 series, 12M rows: a peak of 1.06 GiB with partitions of 6M rows,
#: 0.68 GiB with 3M or 1.5M, in the same time).
ROWS_PER_PARTITION = 3_000_000
#: A pivoted partition's files in its folder of the work directory.
_VALUES, _KEYS, _FOUND = "values.npy", "keys.arrow", "found.json"
#: Months kept in full by the scan when the inputs name none: all of them.
_ALL_MONTHS = (int(np.iinfo(np.int32).min), int(np.iinfo(np.int32).max))


def native_inputs(
    paths: PathLike | Sequence[PathLike],
    format: str,
    months: tuple[str | pd.Period | None, str | pd.Period | None] | None = None,
) -> Inputs | None:
    """The files :func:`anomaly.read_flows` would read, if they are canonical Parquet
    that :func:`read_panel` reads in batches; None for any other input.

    The files are listed as :func:`anomaly.read_flows` lists them (a directory stands for
    its data files, not its folders), so both read the same rows.

    Parameters
    ----------
    paths : path or sequence of paths
    format : str
        ``"auto"`` or a reader's name, as for :func:`anomaly.read_flows`.
    months : (first, last), optional
        Read only the rows of months ``first..last`` (``"YYYY-MM"`` or
        :class:`pandas.Period`; None: unbounded), as a training window needs: row
        groups whose ``period`` statistics show other months only are not read, and
        the other rows of those read are left out (neither checked nor pivoted). If
        no row group may hold one of these months, every month is read.

    Examples
    --------
    >>> native_inputs("flows.csv", "auto") is None  # doctest: +SKIP
    True
    >>> native_inputs("flows.parquet", "auto", (None, "2021-12")).months  # doctest: +SKIP
    (None, 623)
    """
    ordinals = None
    if months is not None:
        ordinals = tuple(None if month is None else as_month(month).ordinal for month in months)
    source = resolve_inputs(data_files(paths), format, ordinals)
    return source if source.native else None


def partitions_for(n_rows: int) -> int:
    """The partitions :func:`read_panel` splits ``n_rows`` input rows into by default.

    Examples
    --------
    >>> partitions_for(1_000), partitions_for(120_000_000)
    (1, 40)
    """
    return max(1, math.ceil(n_rows / ROWS_PER_PARTITION))


def read_panel(
    source: Inputs,
    *,
    hs_level: int = 6,
    currency: str | None = None,
    partitions: int | None = None,
    engine: str = "local",
    jobs: int = 1,
    scheduler: str | None = None,
    work_dir: PathLike | None = None,
    stacked: bool = True,
) -> Panel | PanelParts:
    """The panel of canonical Parquet inputs at ``hs_level``, read in batches.

    Equals ``build_panel(read_flows(files, currency=currency), hs_level=hs_level)``
    without its ``quantity`` and ``weight_kg`` matrices, and refuses the same inputs
    (duplicates within or across files, negative values, mixed currencies, annual
    periods, ...) with messages naming the file, line and column. The scan units and
    the partitions are read by ``jobs`` workers of ``engine`` (the engines of
    :func:`anomaly.batch.score_batch`); the panel is the same whichever reads them.
    Without ``work_dir``, their files go to a directory of :func:`tempfile.mkdtemp`
    (``TMPDIR``), removed in every case.

    Parameters
    ----------
    source : Inputs
        Native inputs (:func:`native_inputs`).
    hs_level : {2, 4, 6}
        Number of HS digits that define a series (HS2012/HS2017 codes harmonised).
    currency : {"EUR", "USD"}, optional
        The currency of files without a ``currency`` column, as for
        :func:`anomaly.read_flows`.
    partitions : int, optional
        Number of partitions; default :func:`partitions_for` the input's rows (a
        resumed read keeps its work directory's count).
    engine : {"local", "dask"}
        Local processes (joblib), or a Dask cluster (``pip install 'anomaly[dask]'``).
    jobs : int
        Worker processes: of joblib (1: in this process), or of the local Dask cluster
        started when no ``scheduler`` is given.
    scheduler : str, optional
        Address of a running Dask scheduler; its workers must see ``work_dir``.
    work_dir : path, optional
        Keep each scanned unit and pivoted partition here, so that the same read,
        started again after it was killed, resumes where it stopped (a directory of
        another read is refused).
    stacked : bool
        Put the partitions' series in one panel; if false, leave them in ``work_dir``
        (which must be given) and return where they are (:class:`PanelParts`), for a
        fit over partitions (:func:`anomaly.batch.fit_partitioned`).

    Returns
    -------
    Panel or PanelParts

    Raises
    ------
    DataError
        Bad input, as :func:`anomaly.read_flows` and :func:`anomaly.build_panel`.

    Examples
    --------
    >>> panel = read_panel(native_inputs("flows/", "auto"))  # doctest: +SKIP
    """
    if not source.native:
        raise ValueError("read_panel reads canonical Parquet inputs (see native_inputs)")
    check_currency_name(currency)
    if not stacked and work_dir is None:
        raise ValueError("partitions are left in a work directory: give work_dir")
    with work_directory(work_dir, "anomaly-panel-") as work:
        n_partitions = (
            partitions or work.recorded_partitions() or partitions_for(source.n_rows or 0)
        )
        if work_dir is not None:
            work.claim(_job(source, hs_level, currency, n_partitions))
        # Its files are read once, by the pivot: written uncompressed, for less CPU.
        plan = ScanPlan(
            source,
            work,
            n_partitions,
            *_months_read(source),
            hs_level,
            outside_keys=False,
            compression=None,
        )
        where = ", ".join(source.paths)
        with engine_for(engine, jobs, scheduler) as runner:
            with logged_step("reading input"):
                found = map_in_order(runner, scan_unit, range(len(source.units)), "scan", plan)
                # One currency for all files, by read_flows's rule (a file without a
                # currency column takes the one declared), then the units combined.
                table_currency = one_currency(
                    {unit.path: s.currency for unit, s in zip(source.units, found, strict=True)},
                    currency,
                )
                found = [replace(s, currency=table_currency) for s in found]
                summary = combined_summary(found, source.sources)
            if summary.rows == 0:
                # What was left out and why, as read_flows says it (summed over files).
                reasons = "; ".join(f"{n} rows: {why}" for why, n in summary.dropped.items())
                raise EmptyDataError(
                    f"no trade rows are left after leaving out {reasons or 'aggregate partners'}",
                    source=where,
                    expected="rows of country-to-country flows",
                )
            with logged_step("pivoting the partitions"):
                months = summary.first, summary.last
                parts = map_in_order(
                    runner, _partition, range(n_partitions), "partitions", plan, *months
                )
        # The workers are stopped: what they held goes back before the panel is built.
        with logged_step("building the panel"):
            coarse = sum(part.coarse_rows for part in parts)
            if summary.last is None:
                raise coarse_error(set().union(*(part.lengths for part in parts)), hs_level)
            log_coarse(coarse, hs_level)
            periods = pd.period_range(
                pd.Period(ordinal=summary.first, freq="M"),
                pd.Period(ordinal=summary.last, freq="M"),
                freq="M",
            )
            kept = [part for part in parts if part.keys is not None]
            if not stacked:
                return PanelParts(
                    tuple(part.keys for part in kept),
                    tuple(part.values for part in kept),
                    periods,
                    table_currency,
                )
            return _stacked(kept, periods, table_currency)


@dataclass(frozen=True)
class PanelParts:
    """A panel left as its pivoted partitions in a work directory.

    Attributes
    ----------
    keys : tuple of pandas.DataFrame
        Each partition's series keys, in its matrix's row order.
    values : tuple of Path
        Each partition's matrix (``values.npy``: series × :attr:`periods`).
    periods : pandas.PeriodIndex
        The months of the whole input.
    currency : str or None
    """

    keys: tuple[pd.DataFrame, ...]
    values: tuple[Path, ...]
    periods: pd.PeriodIndex
    currency: str | None

    def order(self) -> np.ndarray:
        """The panel's row of each partition's series (one after the other): the
        order of one pivot of all rows, as :func:`anomaly.build_panel` gives it."""
        return _panel_rows(pd.concat(self.keys, ignore_index=True))


@dataclass(frozen=True)
class _Part:
    """One partition's pivot: its series' keys, its matrix on disk, its coarse rows."""

    keys: pd.DataFrame | None
    values: Path | None
    coarse_rows: int
    lengths: set[int]


def _partition(plan: ScanPlan, first: int | None, last: int | None, partition: int) -> _Part:
    """Check and pivot one partition's rows over ``first..last`` into its folder of the
    work directory (kept: a resumed read skips it), and what it holds."""
    folder = plan.work.panel_dir(partition)
    if not folder.is_dir():
        publish(folder, lambda staging: _pivot(plan, first, last, partition, staging))
    return _read_part(folder)


def _pivot(plan: ScanPlan, first: int | None, last: int | None, partition: int, to: Path) -> None:
    """Check and pivot one partition's rows; its keys, matrix and coarse rows to ``to``."""
    table = read_scanned(plan.work.rows_files(partition), ROW_SCHEMA)
    found = {"coarse_rows": 0, "lengths": []}
    if table.num_rows:
        # The scan checked every row by itself (values, keys); here it is checked with
        # the others (duplicates across files), as read_flows checks them. Only the rows
        # a panel at this level keeps are pivoted.
        rows = _checked_rows(table, [Source(name) for name in plan.inputs.files])
        del table
        code_lengths = rows["hs"].cat.categories.str.len().to_numpy()
        fine = lookup(code_lengths >= plan.hs_level, rows["hs"].cat.codes.to_numpy())
        found = {"coarse_rows": int((~fine).sum()), "lengths": sorted(set(code_lengths.tolist()))}
        if first is not None and fine.any():
            panel = build_panel(
                rows.loc[fine].reset_index(drop=True) if found["coarse_rows"] else rows,
                hs_level=plan.hs_level,
                start=pd.Period(ordinal=first, freq="M"),
                end=pd.Period(ordinal=last, freq="M"),
            )
            del rows
            pa.default_memory_pool().release_unused()  # the buffers the frame shared with Arrow
            np.save(to / _VALUES, panel.values)
            keys = pa.Table.from_pandas(panel.keys, preserve_index=False)
            with (
                pa.OSFile(str(to / _KEYS), "wb") as sink,
                pa.ipc.new_file(sink, keys.schema) as out,
            ):
                out.write_table(keys)
    (to / _FOUND).write_text(json.dumps(found))


def _checked_rows(table: pa.Table, sources: Sequence[Source]) -> pd.DataFrame:
    """A partition's rows checked together and sorted by key: the table
    ``check_flows(scanned_frame(table), sources, rows_checked=True)`` gives.

    Worked on the table's dictionary codes: no frame of the rows is built (nor the HS
    overlaps recorded, which a panel does not keep) unless a key is repeated; then
    the error names its rows, as :func:`anomaly.io.check_flows` does. The rows share
    their numbers with ``table`` when they are in key order already.
    """
    ordinals = table["period"].to_numpy().astype(np.int64)
    codes = {"period": ordinals - ordinals.min()}
    categories = {}
    for name in SERIES_KEY_COLUMNS:
        column = table[name].chunk(0)
        text = categorical(column.indices.to_numpy(), pd.Index(column.dictionary.to_numpy(False)))
        codes[name], categories[name] = sorted_factorize(pd.Series(text, copy=False))
    key = combine_codes(list(codes.values()))
    dims = radix(list(codes.values()))
    order, duplicated = key_order(key, codes["period"], dims and math.prod(dims[1:]))
    if duplicated is not None:
        raise duplicate_error(scanned_frame(table), key, duplicated, sources, KEY_COLUMNS)
    values = table[VALUE_COLUMN].to_numpy()
    if order is not None:
        ordinals, values = ordinals[order], values[order]
        codes = {name: codes[name][order] for name in SERIES_KEY_COLUMNS}
    columns = {"period": pd.arrays.PeriodArray(ordinals, dtype=pd.PeriodDtype("M"))}
    for name in SERIES_KEY_COLUMNS:
        columns[name] = categorical(codes[name], categories[name].astype(str))
    columns[VALUE_COLUMN] = values
    return pd.DataFrame(columns, copy=False)


def _read_part(folder: Path) -> _Part:
    found = json.loads((folder / _FOUND).read_text())
    coarse, lengths = found["coarse_rows"], set(found["lengths"])
    if not (folder / _VALUES).exists():
        return _Part(None, None, coarse, lengths)
    with pa.memory_map(str(folder / _KEYS)) as source:
        keys = pa.ipc.open_file(source).read_all().to_pandas()
    return _Part(keys, folder / _VALUES, coarse, lengths)


def _months_read(source: Inputs) -> tuple[int, int]:
    """The first and last month (ordinals) whose rows the scan keeps: those of
    :attr:`~anomaly.batch.sources.Inputs.months`, every month without them."""
    first, last = source.months or (None, None)
    return (
        _ALL_MONTHS[0] if first is None else first,
        _ALL_MONTHS[1] if last is None else last,
    )


def _job(source: Inputs, hs_level: int, currency: str | None, n_partitions: int) -> dict:
    """What identifies a read's work: a work directory serves only reads that match."""
    return {
        "anomaly": __version__,
        "layout": LAYOUT,
        "job": "training panel",
        "inputs": source.fingerprint(),
        "format": source.format,
        "months": source.months,
        "hs_level": hs_level,
        "currency": currency,
        "n_partitions": n_partitions,
    }


def _stacked(parts: list[_Part], periods: pd.PeriodIndex, currency: str | None) -> Panel:
    """The partitions' series in the order of one pivot of all rows: sorted by reporter,
    partner, flow and HS code (each as text), as :func:`anomaly.build_panel` orders them."""
    keys = pd.concat([part.keys for part in parts], ignore_index=True)
    position = _panel_rows(keys)
    order = np.empty_like(position)
    order[position] = np.arange(len(position))
    values = np.empty((len(keys), len(periods)), dtype=np.float64)
    start = 0
    for part in parts:
        matrix = np.load(part.values, mmap_mode="r")  # copied once, into its rows
        values[position[start : start + len(matrix)]] = matrix
        start += len(matrix)
    return Panel(keys.take(order).reset_index(drop=True), periods, values, currency)


def _panel_rows(keys: pd.DataFrame) -> np.ndarray:
    """The row of each of ``keys`` in a panel of them all: sorted by reporter, partner,
    flow and HS code (each as text), as :func:`_stacked` puts them."""
    codes = [pd.factorize(keys[name], sort=True)[0] for name in SERIES_KEY_COLUMNS]
    order = np.lexsort(codes[::-1])
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    return position
