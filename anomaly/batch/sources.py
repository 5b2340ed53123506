"""The inputs of a batch run: which files, how they are read, in which units of work.

Canonical Parquet (a file, many files, or a dataset directory of any depth, e.g.
hive-partitioned by year) is read natively with :mod:`pyarrow.dataset`, in batches
of rows, so an input larger than memory is never held whole; the scan is split into
units of a few million rows (row groups of one file), each a task of its own. Every
other input (CSV, Comext, Comtrade, ...) goes through :func:`anomaly.read_flows`,
which reads it into memory as one table, as the in-memory ``score`` does.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from anomaly.errors import DataError, EmptyDataError, FormatError
from anomaly.io import DIRECTORY_SUFFIXES, FILE, LINE, Source, check_links, detect_format
from anomaly.schema import CANONICAL_COLUMNS

PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")
#: Rows of one scan unit (row groups of a file are grouped up to about this many).
ROWS_PER_UNIT = 4_000_000
#: Files hashed at once for a run's identity (:meth:`Inputs.fingerprint`).
HASH_THREADS = 4
#: Rows per batch read from Parquet: large enough that per-batch work is amortised, and
#: the row group pyarrow and pandas write (2**20 rows). Pyarrow's batches never span
#: row groups: a size just under theirs would read each as a batch and a sliver,
#: paying the per-batch work twice (a sixth of the scan's CPU with 10^6-row batches);
#: smaller groups are joined (:func:`_joined`).
BATCH_ROWS = 1 << 20
#: Optional canonical column read besides :data:`~anomaly.schema.CANONICAL_COLUMNS`.
CURRENCY = "currency"
#: The columns a scan reads (those absent from the files are left out).
SCAN_COLUMNS: tuple[str, ...] = (*CANONICAL_COLUMNS, CURRENCY)
_TEXT_COLUMNS = ("period", "reporter", "partner", "flow", "hs", CURRENCY)
#: Months spelled ``YYYY-MM``: their text sorts as the months do.
_ISO_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class ScanUnit:
    """Row groups of one Parquet file, read as one task.

    Attributes
    ----------
    root : str
        The input (file or dataset directory) the file belongs to.
    path : str
        The file.
    row_groups : tuple of int
        Its row groups in this unit.
    first_line : int
        Line of the unit's first row, numbered as in the CSV the file would be
        written to (header = line 1), for error messages.
    rows : int
    """

    root: str
    path: str
    row_groups: tuple[int, ...]
    first_line: int
    rows: int


@dataclass(frozen=True)
class Inputs:
    """The resolved inputs of a batch run (plain data: sent to workers as is).

    Attributes
    ----------
    paths : tuple of str
        The inputs as given, made absolute.
    format : str
        The ``format`` asked for (``"auto"`` or a reader's name).
    native : bool
        True for canonical Parquet read with :mod:`pyarrow.dataset`; False for
        inputs read by :func:`anomaly.read_flows`.
    files : tuple of str
        Every file read, sorted; with ``native``, the index of a file is its ``FILE``
        number in error messages.
    units : tuple of ScanUnit
        With ``native``, the scan's units of work; empty otherwise.
    months : tuple of (int or None, int or None), optional
        With ``native``, the first and last month (ordinals; None: unbounded) whose rows
        are read: row groups whose statistics show no such month are not among the
        units, and a scan leaves the other rows of the units out. None: every month.
    """

    paths: tuple[str, ...]
    format: str
    native: bool
    files: tuple[str, ...]
    units: tuple[ScanUnit, ...] = ()
    months: tuple[int | None, int | None] | None = None

    @property
    def sources(self) -> list[Source]:
        """One :class:`~anomaly.io.origin.Source` per file, for error messages."""
        return [Source(path) for path in self.files]

    @property
    def n_rows(self) -> int | None:
        """Rows of the native inputs (from Parquet metadata); None for other inputs."""
        return sum(unit.rows for unit in self.units) if self.native else None

    def fingerprint(self) -> list[list]:
        """Path, size and sha256 of the bytes of every file: changes when an input does.

        Identity by content, not by size and modification time: a value changed in
        place (same length) with its modification time restored would otherwise let a
        resumed run reuse work done on the old bytes. Hashing runs at disk or memory
        speed (sha256 at about 1.4 GB/s on one core of a 2-core test machine: 0.75 s
        per GB, 1 s from a cold cache), several files at once.
        """
        if not self.files:
            return []
        workers = min(len(self.files), os.cpu_count() or 1, HASH_THREADS)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(content_identity, self.files))


def content_identity(path: str) -> list:
    """``[path, size, sha256 hex]`` of a file's bytes.

    Raises
    ------
    DataError
        The file changed (size or modification time) while it was hashed: its content
        is in doubt, so no work can be matched to it.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as handle:
    ...     content_identity(handle.name)[1:]
    [0, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']
    """
    before = os.stat(path)
    with open(path, "rb") as handle:
        # hashlib releases the GIL while it digests, so files hash in parallel threads.
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
        after = os.fstat(handle.fileno())
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        raise DataError(
            "the file changed while it was read",
            source=path,
            expected="inputs that stay unchanged during a run",
        )
    return [path, after.st_size, digest]


def resolve_inputs(
    inputs: str | os.PathLike | Sequence[str | os.PathLike],
    format: str,
    months: tuple[int | None, int | None] | None = None,
) -> Inputs:
    """Find the files of ``inputs`` and decide how they are read.

    With ``months`` (first and last month as ordinals, None: unbounded), native inputs
    are read for those months only (:attr:`Inputs.months`); if no row group may hold
    one, every month is read (what the months do not cover is then told by the reader).

    Examples
    --------
    >>> resolve_inputs("flows.parquet", "auto").native  # doctest: +SKIP
    True
    """
    items = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    if not items:
        raise EmptyDataError(
            "no files were given", expected="a path, a list of paths or a directory"
        )
    paths = []
    for item in items:
        path = Path(item)
        if not path.exists():
            check_links([path])
            raise FileNotFoundError(f"no such file or directory: {str(path)!r}")
        if path.is_dir():
            # A file skipped without a word would silently drop its rows.
            check_links(
                [Path(folder) / name for folder, _, names in os.walk(path) for name in names]
            )
        paths.append(str(path.resolve()))
    parquet = [_parquet_files(path) for path in paths]
    if format in ("auto", "canonical") and all(parquet):
        roots = [_dataset(path) for path in paths]
        names = set().union(*(root.schema.names for root in roots))
        if _is_canonical(names, format, paths[0]):
            units = tuple(
                unit for path, root in zip(paths, roots, strict=True) for unit in _units(path, root)
            )
            if not units:
                raise EmptyDataError("the Parquet inputs hold no rows", source=", ".join(paths))
            files = tuple(sorted({unit.path for unit in units}))
            return _within(Inputs(tuple(paths), format, True, files, units), roots, months)
    files = tuple(sorted(path for path in paths if Path(path).is_file()))
    files += tuple(
        sorted(
            str(child)
            for path in paths
            if Path(path).is_dir()
            for child in Path(path).iterdir()
            # As read_flows lists a directory: its data files, not its folders.
            if child.is_file() and child.name.lower().endswith(DIRECTORY_SUFFIXES)
        )
    )
    return Inputs(tuple(paths), format, False, files)


def read_unit(inputs: Inputs, unit: ScanUnit) -> Iterator[pd.DataFrame]:
    """Batches of a scan unit as DataFrames (text columns categorical), with ``FILE`` and
    ``LINE`` columns naming each row's origin."""
    dataset = _dataset(unit.root)
    fragment = next(f for f in dataset.get_fragments() if f.path == unit.path)
    present = [c for c in SCAN_COLUMNS if c in dataset.schema.names]
    file_number = inputs.files.index(unit.path)
    line = unit.first_line
    batches = fragment.subset(row_group_ids=list(unit.row_groups)).to_batches(
        schema=dataset.schema, columns=present, batch_size=BATCH_ROWS
    )
    for batch in _joined(batches, BATCH_ROWS):
        frame = batch.to_pandas()
        frame[FILE] = np.int32(file_number)
        frame[LINE] = np.arange(line, line + len(frame), dtype=np.int64)
        line += len(frame)
        yield frame


def _joined(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Consecutive batches joined into tables of at least ``rows`` rows (the last may
    be smaller): a batch never spans row groups, and files of small row groups (DuckDB
    writes 122,880 rows, Spark files of a few MB) would pay the per-batch work for
    every group."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield _table(pending)
            pending, count = [], 0
    if pending:
        yield _table(pending)


def _table(batches: list[pa.RecordBatch]) -> pa.Table:
    table = pa.Table.from_batches(batches)
    # One chunk and one dictionary per column, as a single batch has.
    return table if len(batches) == 1 else table.unify_dictionaries().combine_chunks()


def _parquet_files(path: str) -> bool:
    """Whether ``path`` is a Parquet file or a directory holding only Parquet files."""
    target = Path(path)
    if target.is_file():
        return target.name.lower().endswith(PARQUET_SUFFIXES)
    found = [
        name
        for folder, _, names in os.walk(target)
        if not _hidden(Path(folder).relative_to(target))
        for name in names
        if not name.startswith((".", "_"))
    ]
    return bool(found) and all(name.lower().endswith(PARQUET_SUFFIXES) for name in found)


def _hidden(relative: Path) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts)


def _dataset(path: str) -> ds.Dataset:
    # Key columns are read as dictionaries: a billion rows name a few thousand codes.
    options = ds.ParquetReadOptions(dictionary_columns=list(_TEXT_COLUMNS))
    parquet = ds.ParquetFileFormat(read_options=options)
    partitioning = "hive" if Path(path).is_dir() else None
    return ds.dataset(path, format=parquet, partitioning=partitioning)


def _is_canonical(names: set[str], format: str, source: str) -> bool:
    if format == "canonical":
        missing = [c for c in CANONICAL_COLUMNS if c not in names]
        if missing:
            raise FormatError(
                f"column(s) {', '.join(map(repr, missing))} are missing",
                source=source,
                expected=f"the columns {', '.join(CANONICAL_COLUMNS)}",
            )
        return True
    try:
        return detect_format(sorted(names), source=source) == "canonical"
    except FormatError:
        return False


def _within(
    inputs: Inputs, roots: list[ds.Dataset], months: tuple[int | None, int | None] | None
) -> Inputs:
    """``inputs`` read for ``months`` only, unless no row group may hold one of them."""
    if months is None:
        return inputs
    units = tuple(
        unit
        for path, root in zip(inputs.paths, roots, strict=True)
        for unit in _units(path, root, months)
    )
    if not units:
        return inputs
    return replace(inputs, units=units, months=months)


def _units(
    root: str, dataset: ds.Dataset, months: tuple[int | None, int | None] | None = None
) -> Iterator[ScanUnit]:
    """Row groups of each file of ``dataset`` (those that may hold ``months``, all
    without), consecutive ones grouped up to :data:`ROWS_PER_UNIT` rows."""
    for fragment in sorted(dataset.get_fragments(), key=lambda f: f.path):
        metadata = fragment.metadata
        chosen: list[int] = []
        rows = 0
        line = 2
        for index in range(metadata.num_row_groups):
            group = metadata.row_group(index)
            if months is None or _may_hold(group, months):
                chosen.append(index)
                rows += group.num_rows
            elif not chosen:
                line += group.num_rows  # skipped: the next unit starts after it
                continue
            else:
                # A skipped row group ends the unit (its rows are consecutive lines).
                yield ScanUnit(root, fragment.path, tuple(chosen), line, rows)
                line += rows + group.num_rows
                chosen, rows = [], 0
                continue
            if rows >= ROWS_PER_UNIT or index == metadata.num_row_groups - 1:
                yield ScanUnit(root, fragment.path, tuple(chosen), line, rows)
                line += rows
                chosen, rows = [], 0


def _may_hold(group: pq.RowGroupMetaData, months: tuple[int | None, int | None]) -> bool:
    """Whether a row group may hold rows of ``months`` (first and last month as
    ordinals, None: unbounded), by the statistics of its ``period`` column."""
    span = _period_span(group)
    if span is None:
        return True
    first, last = months
    return (first is None or span[1] >= first) and (last is None or span[0] <= last)


def _period_span(group: pq.RowGroupMetaData) -> tuple[int, int] | None:
    """The first and last month (ordinals) of a row group's ``period`` column, from
    its statistics; None unless they are ``YYYY-MM`` text (which sorts as months do)
    or timestamps."""
    for index in range(group.num_columns):
        column = group.column(index)
        if column.path_in_schema != "period":
            continue
        stats = column.statistics
        if stats is None or not stats.has_min_max:
            return None
        ends = [_month_ordinal(value) for value in (stats.min, stats.max)]
        return None if None in ends else (ends[0], ends[1])
    return None


def _month_ordinal(value: object) -> int | None:
    """The month (ordinal) of a ``period`` statistic: ``YYYY-MM`` text, a date or a
    timestamp without time zone (one with a zone is stored in UTC, whose month may not
    be the zone's); None for anything else."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and _ISO_MONTH.match(value):
        return (int(value[:4]) - 1970) * 12 + int(value[5:]) - 1
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return None
    if isinstance(value, datetime.datetime | datetime.date):
        return (value.year - 1970) * 12 + value.month - 1
    return None
