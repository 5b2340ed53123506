"""Key tables as Parquet files: one file per table, plain column types, no index.

Columns are restricted to types every Parquet reader maps to a native type (booleans,
integers, floats, UTF-8 strings and dictionary-encoded strings), so a table can be read
in any language and cannot carry Python objects. The pandas index is not stored: a
table whose index carries information must ``reset_index()`` first, which keeps the
file's columns the whole truth for readers that ignore pandas' metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from anomaly.artifacts.manifest import TABLE_SUFFIX
from anomaly.errors import ArtifactIntegrityError

__all__ = ["describe_table", "read_table", "to_arrow_table", "write_table"]

#: Snappy is the one codec every Parquet reader supports; pyarrow bundles it, so the
#: bytes depend only on the pyarrow version.
COMPRESSION = "snappy"


def _plain_type(data_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(data_type):
        return pa.types.is_integer(data_type.index_type) and _plain_type(data_type.value_type)
    return (
        pa.types.is_boolean(data_type)
        or pa.types.is_integer(data_type)
        or pa.types.is_float32(data_type)
        or pa.types.is_float64(data_type)
        or pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
    )


def to_arrow_table(name: str, frame: pd.DataFrame) -> pa.Table:
    """Check a key table and convert it to Arrow, without its (default) index.

    Examples
    --------
    >>> to_arrow_table("keys", pd.DataFrame({"hs": ["8542"], "n": [3]})).schema.names
    ['hs', 'n']
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"table {name!r} must be a pandas DataFrame, got {type(frame).__name__}")
    index = frame.index
    if not (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    ):
        raise ValueError(
            f"table {name!r} has a non-default index, which is not stored; "
            "call reset_index() to keep it as columns, or reset_index(drop=True)"
        )
    labels = list(frame.columns)
    if not all(isinstance(label, str) for label in labels) or len(set(labels)) != len(labels):
        raise ValueError(f"table {name!r} needs unique str column names, got {labels!r}")
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as error:
        raise ValueError(f"table {name!r} cannot be stored as Parquet: {error}") from error
    table = table.cast(_portable_schema(table.schema))
    odd = [f"{field.name} ({field.type})" for field in table.schema if not _plain_type(field.type)]
    if odd:
        raise ValueError(
            f"table {name!r} has columns of unsupported types: {', '.join(odd)}; "
            "use bool, int, float or str columns"
        )
    return table


def _portable_schema(schema: pa.Schema) -> pa.Schema:
    """``string`` for every text column, however pandas held it.

    pandas 3 holds text as ``large_string``, pandas 2 as ``string``; Parquet stores
    both alike, but the Arrow schema it records (and reads back, partly: dictionary
    values come back as ``string``) would differ, and with it the manifest and bytes.
    """

    def portable(kind: pa.DataType) -> pa.DataType:
        if pa.types.is_large_string(kind):
            return pa.string()
        if pa.types.is_dictionary(kind) and pa.types.is_large_string(kind.value_type):
            return pa.dictionary(kind.index_type, pa.string(), kind.ordered)
        return kind

    return pa.schema(
        [field.with_type(portable(field.type)) for field in schema], metadata=schema.metadata
    )


def describe_table(name: str, table: pa.Table) -> dict[str, Any]:
    """The manifest entry of a table: file name, row count, column names and Arrow types.

    Examples
    --------
    >>> describe_table("keys", pa.table({"hs": ["8542"]}))
    {'file': 'keys.parquet', 'rows': 1, 'columns': [{'name': 'hs', 'type': 'string'}]}
    """
    return {
        "file": name + TABLE_SUFFIX,
        "rows": table.num_rows,
        "columns": [{"name": field.name, "type": str(field.type)} for field in table.schema],
    }


def write_table(path: Path, table: pa.Table) -> None:
    """Write ``table`` to a new Parquet file; equal tables give equal bytes.

    pyarrow records no write time in Parquet files, and every option that shapes the
    bytes is fixed here rather than left to defaults.
    """
    with open(path, "xb") as sink:
        pq.write_table(
            table,
            sink,
            compression=COMPRESSION,
            use_dictionary=True,
            write_statistics=True,
            version="2.6",
        )


def read_table(path: Path, expected: Mapping[str, Any], where: str) -> pd.DataFrame:
    """Load a verified table, refusing columns other than the manifest lists.

    Parameters
    ----------
    path : Path
        The verified Parquet file.
    expected : mapping
        The table's manifest entry (see :func:`describe_table`).
    where : str
        The artifact's path as the user gave it, for error messages.

    Raises
    ------
    ArtifactIntegrityError
        The file is not Parquet, or its rows, columns or types differ from the manifest.
    """
    file = expected["file"]
    try:
        with open(path, "rb") as source:
            parquet = pq.ParquetFile(source)
            schema = parquet.schema_arrow
            columns = [{"name": field.name, "type": str(field.type)} for field in schema]
            if columns != expected.get("columns") or not all(
                _plain_type(field.type) for field in schema
            ):
                raise ArtifactIntegrityError(
                    f"{where}: {file} has columns {str(columns)[:500]}, the manifest says "
                    f"{str(expected.get('columns'))[:500]}"
                )
            # Checked before reading: the row count bounds what reading allocates.
            if parquet.metadata.num_rows != expected.get("rows"):
                raise ArtifactIntegrityError(
                    f"{where}: {file} has {parquet.metadata.num_rows} rows, the manifest "
                    f"says {expected.get('rows')}"
                )
            table = parquet.read()
            frame = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError, TypeError) as error:
        raise ArtifactIntegrityError(
            f"{where}: {file} is not a readable Parquet file: {str(error)[:300]}"
        ) from None
    if len(frame) != expected.get("rows") or list(frame.columns) != [c["name"] for c in columns]:
        raise ArtifactIntegrityError(
            f"{where}: {file} has {len(frame)} rows and columns {list(frame.columns)}, "
            f"the manifest says {expected.get('rows')} rows"
        )
    return frame
