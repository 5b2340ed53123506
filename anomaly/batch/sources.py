"""The inputs of a batch run: which files, how they are read, in which units of work.

Canonical Parquet (a file, many files, or a dataset directory of any depth, e.g.
hive-partitioned by year) is read natively with :mod:`pyarrow.dataset`, in batches
of rows, so an input larger than memory is never held whole; the scan is split into
units of a few million rows (row groups of one file), each a task of its own. Every
other input (CSV, Comext, Comtrade, ...) goes through :func:`anomaly.read_flows`,
which reads it into memory as one table, as the in-memory ``score`` does.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from anomaly.errors import DataError, EmptyDataError, FormatError
from anomaly.io import DIRECTORY_SUFFIXES, FILE, LINE, Source, check_links, detect_format
from anomaly.schema import CANONICAL_COLUMNS

PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")
#: Rows of one scan unit (row groups of a file are grouped up to about this many).
ROWS_PER_UNIT = 4_000_000
#: Files hashed at once for a run's identity (:meth:`Inputs.fingerprint`).
HASH_THREADS = 4
#: Rows per batch read from Parquet: large enough that per-batch work is amortised.
BATCH_ROWS = 1_000_000
#: Optional canonical column read besides :data:`~anomaly.schema.CANONICAL_COLUMNS`.
CURRENCY = "currency"
#: The columns a scan reads (those absent from the files are left out).
SCAN_COLUMNS: tuple[str, ...] = (*CANONICAL_COLUMNS, CURRENCY)
_TEXT_COLUMNS = ("period", "reporter", "partner", "flow", "hs", CURRENCY)


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
    """

    paths: tuple[str, ...]
    format: str
    native: bool
    files: tuple[str, ...]
    units: tuple[ScanUnit, ...] = ()

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


def resolve_inputs(inputs: str | os.PathLike | Sequence[str | os.PathLike], format: str) -> Inputs:
    """Find the files of ``inputs`` and decide how they are read.

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
            return Inputs(tuple(paths), format, True, files, units)
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
    for batch in fragment.subset(row_group_ids=list(unit.row_groups)).to_batches(
        schema=dataset.schema, columns=present, batch_size=BATCH_ROWS
    ):
        frame = batch.to_pandas()
        frame[FILE] = np.int32(file_number)
        frame[LINE] = np.arange(line, line + len(frame), dtype=np.int64)
        line += len(frame)
        yield frame


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


def _units(root: str, dataset: ds.Dataset) -> Iterator[ScanUnit]:
    """Row groups of each file of ``dataset``, grouped up to :data:`ROWS_PER_UNIT` rows."""
    for fragment in sorted(dataset.get_fragments(), key=lambda f: f.path):
        metadata = fragment.metadata
        chosen: list[int] = []
        rows = 0
        line = 2
        for index in range(metadata.num_row_groups):
            chosen.append(index)
            rows += metadata.row_group(index).num_rows
            if rows >= ROWS_PER_UNIT or index == metadata.num_row_groups - 1:
                yield ScanUnit(root, fragment.path, tuple(chosen), line, rows)
                line += rows
                chosen, rows = [], 0
