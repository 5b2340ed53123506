"""Open a data file — CSV (plain or gzipped) or Parquet — as a table of raw columns.

Only the layout is interpreted here: encoding, compression, blank lines, repeated
header lines of stacked downloads, rows with the wrong number of fields, truncation.
CSV columns are all read as strings (codes keep their leading zeros; numbers are
parsed later, where a bad one can be named with its line). Each row keeps the line it
started on, header = line 1, so later errors can point into the file.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from anomaly.errors import EmptyDataError, FormatError
from anomaly.io.origin import LINE, with_lines
from anomaly.io.parsed import Dropped

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
_HEAD_BYTES = 1 << 16
_DELIMITERS = (",", ";", "\t", "|")
_EXPECTED_FILE = "a CSV text file (optionally gzipped) or a Parquet file"
_FALLBACK_ERRORS = "anomaly.io.cp1252-fallback"

#: Arrow strings become pandas strings backed by Arrow: no copy into Python objects.
STRING_DTYPE = pd.StringDtype("pyarrow")


def _decode_cp1252(error: UnicodeError) -> tuple[str, int]:
    # Republished statistics mix encodings: a UTF-8 file (with BOM) can carry single
    # Windows-1252 bytes such as 0xE7 for "ç" in "Curaçao". Decode just those bytes.
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return chunk.decode("cp1252", errors="replace"), error.end


codecs.register_error(_FALLBACK_ERRORS, _decode_cp1252)


@dataclass(frozen=True)
class RawTable:
    """The columns of one file as found, with the line column added.

    Parameters
    ----------
    path : str
        The file.
    frame : pandas.DataFrame
        The file's columns (strings for CSV; Parquet keeps its types) plus the line
        column.
    kind : {"csv", "parquet"}
        The layout the file was read as.
    dropped : tuple of Dropped
        Lines that were not data (repeated header lines of stacked downloads).
    """

    path: str
    frame: pd.DataFrame
    kind: Literal["csv", "parquet"]
    dropped: tuple[Dropped, ...] = ()


@dataclass(frozen=True)
class LoadedFile:
    """A file's bytes, read with one ``open``: its format is told and its rows are
    parsed from these same bytes, so a file replaced or rewritten while it is read
    cannot give a header of one version and rows of another.

    Attributes
    ----------
    path : str
    data : bytes
        The content, gunzipped; CSV text with old-Mac line endings (CR only) has them
        as LF.
    """

    path: str
    data: bytes

    @property
    def is_parquet(self) -> bool:
        """Whether the content is a Parquet file (by its magic bytes)."""
        return self.data.startswith(PARQUET_MAGIC)

    def columns(self) -> list[str]:
        """The column names, from the header line or the Parquet schema."""
        if self.is_parquet:
            try:
                return list(pq.read_schema(pa.BufferReader(self.data)).names)
            except (pa.ArrowException, OSError) as exc:
                raise _unreadable_parquet(self.path, exc) from exc
        head = self.data[:_HEAD_BYTES]
        _reject_binary(head, self.path)
        names, _ = _parse_header(head, self.path)
        return names

    def raw(self, codes: Sequence[str] = ()) -> RawTable:
        """The whole table (see :func:`read_raw`).

        Parameters
        ----------
        codes : sequence of str
            Columns of codes (a few distinct values in a million rows). Parquet text
            columns among them are read as dictionaries, so they arrive as pandas
            categoricals however the file was written: checks then run on the
            distinct values, and no string is made per row.
        """
        if self.is_parquet:
            return _read_parquet(self.path, self.data, codes)
        return _read_csv(self.path, self.data)


def load_file(path: str | Path) -> LoadedFile:
    """Read a file once into memory (gunzipped), checking that it did not change
    while it was read.

    Raises
    ------
    EmptyDataError
        No bytes, or an empty gzip stream.
    FormatError
        A gzip stream that cannot be decompressed, or a file that changed (size or
        modification time) while it was read.
    OSError
        The file cannot be opened or read.
    """
    path = str(path)
    with open(path, "rb") as handle:
        before = os.fstat(handle.fileno())
        data = handle.read()
        after = os.fstat(handle.fileno())
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) or len(
        data
    ) != after.st_size:
        raise FormatError(
            "the file changed while it was read",
            source=path,
            expected="a file that is complete before it is read (write it elsewhere and "
            "move it into place)",
        )
    if not data:
        raise EmptyDataError(
            "the file is empty (0 bytes)", source=path, expected="a header line and data rows"
        )
    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise _unreadable_gzip(path, exc) from exc
        if not data:
            raise EmptyDataError(
                "the compressed file is empty", source=path, expected="a header line and data rows"
            )
    if not data.startswith(PARQUET_MAGIC) and b"\r" in data and b"\n" not in data:
        # Old Mac line endings: CR alone ends a line.
        data = data.replace(b"\r", b"\n")
    return LoadedFile(path, data)


def read_columns(path: str | Path) -> list[str]:
    """The column names of a file, from its header line or Parquet schema."""
    return load_file(path).columns()


def read_raw(path: str | Path) -> RawTable:
    """Read a whole file into a :class:`RawTable`.

    Parameters
    ----------
    path : str or Path
        A CSV file (``.csv``, ``.csv.gz`` or any name: the content decides) or a
        Parquet file.

    Raises
    ------
    EmptyDataError
        The file has no bytes or no data rows.
    FormatError
        Binary content, a truncated or corrupt file, rows whose number of fields
        differs from the header's, or a file that changed while it was read.
    """
    return load_file(path).raw()


#: The first bytes of a zip archive (and so of an .xlsx workbook).
_ZIP_MAGIC = b"PK\x03\x04"


def _unreadable_gzip(path: str, exc: BaseException) -> FormatError:
    return FormatError(
        f"the gzip stream cannot be decompressed ({exc})",
        source=path,
        expected="a complete .csv.gz file; the file may be truncated",
    )


def _unreadable_parquet(path: str, exc: BaseException) -> FormatError:
    return FormatError(
        f"the file starts like Parquet but cannot be read ({exc})",
        source=path,
        expected="a complete Parquet file; the file may be truncated or corrupt",
    )


def _reject_binary(data: bytes, path: str) -> None:
    if data.startswith(_ZIP_MAGIC):
        raise FormatError(
            "the file is a zip archive (as an Excel .xlsx workbook is), not CSV text",
            source=path,
            expected=f"{_EXPECTED_FILE}: save a workbook's sheet as CSV UTF-8, or extract "
            "the CSV files from the archive",
        )
    if b"\x00" in data:
        raise FormatError(
            "the file holds binary data (NUL bytes), not CSV text",
            source=path,
            expected=f"{_EXPECTED_FILE}; a spreadsheet saved as UTF-16 must be saved as CSV UTF-8",
        )


def _decode(data: bytes) -> bytes:
    """Return ``data`` as valid UTF-8, repairing stray Windows-1252 bytes."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", errors=_FALLBACK_ERRORS).encode("utf-8")
    return data


def _parse_header(data: bytes, path: str) -> tuple[list[str], str]:
    ends = [end for end in (data.find(b"\n"), data.find(b"\r")) if end >= 0]
    first = data[: min(ends)] if ends else data
    text = _decode(first).decode("utf-8").lstrip("\ufeff")
    if not text.strip():
        raise FormatError(
            "line 1 is blank", source=path, lines=[1], expected="a header line naming the columns"
        )
    delimiter = max(_DELIMITERS, key=text.count)
    try:
        names = [name.strip() for name in next(csv.reader([text], delimiter=delimiter))]
    except csv.Error as exc:
        raise FormatError(
            f"the header line cannot be parsed ({exc})",
            source=path,
            lines=[1],
            expected="a header line of column names separated by , ; tab or |",
        ) from None
    seen: set[str] = set()
    repeated = [name for name in names if name in seen or seen.add(name)]
    if repeated:
        raise FormatError(
            f"the header names column(s) {', '.join(map(repr, repeated))} more than once",
            source=path,
            lines=[1],
            expected="distinct column names",
        )
    return names, delimiter


def _read_csv(path: str, data: bytes) -> RawTable:
    _reject_binary(data, path)
    if not data.strip():
        raise EmptyDataError(
            "the file holds only blank space", source=path, expected="a header and data rows"
        )
    data = _decode(data)
    _reject_open_quote(data, path)
    names, delimiter = _parse_header(data, path)
    invalid: list[tuple[int, int, str]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append((row.number, row.actual_columns, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            # One thread, so that rows set aside by the handler carry their number.
            read_options=pacsv.ReadOptions(use_threads=False, column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowException as exc:
        raise FormatError(f"cannot be parsed as CSV ({exc})", source=path) from exc
    numbers = _record_numbers(table, invalid)
    extra = np.cumsum(_record_newlines(table, invalid))
    # A record starts after all the newlines held inside the records before it.
    lines = numbers + extra[numbers - 1]
    ragged = [(number, count) for number, count, text in invalid if text.strip()]
    if ragged:
        ragged_lines = [int(number + extra[number - 1]) for number, _ in ragged]
        raise FormatError(
            f"{len(ragged)} row(s) do not have one field per header column "
            f"(line {ragged_lines[0]} has {ragged[0][1]})",
            source=path,
            lines=ragged_lines,
            expected=f"{len(names)} fields per line like the header; "
            "the file may be truncated, or a value holds an unquoted delimiter",
        )
    return _drop_non_data(table, lines, path)


def _reject_open_quote(data: bytes, path: str) -> None:
    # A quote inside a quoted value is doubled, so a complete file has an even number
    # of quote characters; an odd count means the file ends inside a quoted value.
    if data.count(b'"') % 2:
        last = data.rindex(b'"')
        raise FormatError(
            "a quoted value is never closed",
            source=path,
            lines=[data.count(b"\n", 0, last) + 1],
            expected="every opening quote closed; the file may be truncated",
        )


def _newline_counts(table: pa.Table) -> np.ndarray:
    counts = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        if pc.any(pc.match_substring(column, "\n")).as_py():
            counts += pc.count_substring(column, "\n").to_numpy(zero_copy_only=False)
    return counts


def _record_newlines(table: pa.Table, invalid: list[tuple[int, int, str]]) -> np.ndarray:
    """Extra physical lines inside each record, indexed by record number."""
    total = table.num_rows + len(invalid) + 2
    extra = np.zeros(total, dtype=np.int64)
    extra[_record_numbers(table, invalid)] = _newline_counts(table)
    for number, _, text in invalid:
        extra[number] = text.count("\n")
    return extra


def _record_numbers(table: pa.Table, invalid: list[tuple[int, int, str]]) -> np.ndarray:
    """Record number of each parsed row (the header is record 1)."""
    numbers = np.arange(2, table.num_rows + len(invalid) + 2, dtype=np.int64)
    if invalid:
        numbers = np.setdiff1d(numbers, [number for number, _, _ in invalid])
    return numbers


def _drop_non_data(table: pa.Table, lines: np.ndarray, path: str) -> RawTable:
    """Drop blank lines and repeated header lines; refuse a table left without rows."""
    blank = np.ones(table.num_rows, dtype=bool)
    header = np.ones(table.num_rows, dtype=bool)
    for name, column in zip(table.column_names, table.columns, strict=True):
        blank &= pc.equal(column, "").to_numpy(zero_copy_only=False)
        header &= pc.equal(pc.utf8_trim_whitespace(column), name).to_numpy(zero_copy_only=False)
    frame = table.to_pandas(types_mapper={pa.string(): STRING_DTYPE}.get)
    frame[LINE] = lines
    dropped = ()
    if header.any():
        dropped = (Dropped.of("repeated header line (stacked downloads)", frame, header),)
    if (blank | header).any():
        frame = frame.loc[~(blank | header)].reset_index(drop=True)
    if frame.empty:
        raise EmptyDataError(
            "no data rows below the header", source=path, expected="at least one data row"
        )
    return RawTable(path, frame, "csv", dropped)


def _read_parquet(path: str, data: bytes, codes: Sequence[str] = ()) -> RawTable:
    try:
        schema = pq.read_schema(pa.BufferReader(data))
        # Only text can be read as a dictionary; a dictionary column already is one.
        text = [
            name
            for name in codes
            if name in schema.names
            and (
                pa.types.is_string(schema.field(name).type)
                or pa.types.is_large_string(schema.field(name).type)
            )
        ]
        table = pq.read_table(pa.BufferReader(data), read_dictionary=text or None)
    except (pa.ArrowException, OSError) as exc:
        raise _unreadable_parquet(path, exc) from exc
    if table.num_rows == 0:
        raise EmptyDataError("the Parquet file has no rows", source=path, expected="data rows")
    # One block per column, each freed from Arrow as it is converted: no copy is made
    # to gather columns of one dtype, and the table and the frame are not both held.
    frame = table.to_pandas(
        types_mapper={pa.string(): STRING_DTYPE}.get, split_blocks=True, self_destruct=True
    )
    del table
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index(drop=True)
    lines = np.int32 if len(frame) < np.iinfo(np.int32).max - 2 else np.int64
    return RawTable(path, with_lines(frame, np.arange(2, len(frame) + 2, dtype=lines)), "parquet")
