"""``read_flows``: files in, one validated canonical flows table out."""

from __future__ import annotations

import errno
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from anomaly.errors import CurrencyError, EmptyDataError, FormatError, PeriodError
from anomaly.io.formats import AUTO, INPUT_FORMATS, check_format, detect_format
from anomaly.io.origin import FILE, with_column
from anomaly.io.parsed import ParsedFile
from anomaly.io.rawtable import PARQUET_MAGIC, load_file
from anomaly.io.validate import check_flows, validate_flows
from anomaly.schema import CURRENCIES

MONTHLY = pd.PeriodDtype("M")
#: File names a directory is searched for (case-insensitive).
DIRECTORY_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".parquet")

PathLike = str | Path


def read_flows(
    path_or_paths: PathLike | Sequence[PathLike] | pd.DataFrame,
    format: str = AUTO,
    *,
    currency: str | None = None,
) -> pd.DataFrame:
    """Read trade statistics files into the canonical flows table, validated.

    Parameters
    ----------
    path_or_paths : path, iterable of paths, directory, or DataFrame
        CSV (plain or ``.gz``) or Parquet files. A directory stands for its
        ``.csv``, ``.csv.gz`` and ``.parquet`` files, in sorted order. Several files
        are read and validated together: a key found in two files is a duplicate. A
        DataFrame in canonical columns is validated as a file would be
        (:func:`~anomaly.io.validate_flows`; ``currency`` fills ``attrs`` if it has none).
    format : str
        The files' format: one of :data:`anomaly.io.FORMATS` (``"canonical"``,
        ``"comext"``, ``"comtrade"``, ...), or ``"auto"`` to tell each file's format
        from its header.
    currency : {"EUR", "USD"}, optional
        The currency of canonical files without a ``currency`` column. Eurostat files
        are EUR and Comtrade files USD; asking for another currency is an error.

    Returns
    -------
    pandas.DataFrame
        One row per ``(period, reporter, partner, flow, hs)``, sorted by that key:
        ``period`` (``period[M]`` or ``period[Y-DEC]``, never mixed), ``reporter``,
        ``partner`` (ISO alpha-3), ``flow`` (export, import, re-export, re-import),
        ``hs`` (2-10 digits; ``"00"`` is the total over all products), ``value``
        (float64 >= 0) and, where the source has them, ``quantity``, ``weight_kg``,
        ``value_fob``, ``value_cif``. The four text key columns are categoricals of
        their sorted distinct strings (a table of 10^8 rows names a few thousand
        codes); add a category before writing a new value into one. The table is the
        same whichever way a file was written (CSV, Parquet with dictionary or plain
        string columns, one file or many, any row-group size or row order).
        ``attrs`` holds:

        - ``currency``: ``"EUR"``, ``"USD"`` or None (canonical files of unknown currency);
        - ``sources``: the file paths read, and ``formats``: their formats;
        - ``hs_overlaps``: HS codes published beside their own more detailed codes
          (``count``, ``child_rows``, ``examples``). The rows are kept as published;
          choose one level before summing;
        - ``dropped``: rows left out on purpose (aggregate partners such as World,
          statistical procedures beside their total, ...), each with ``source``,
          ``reason``, ``rows`` and the first ``lines``;
        - ``aggregated_breakdowns``: UN Comtrade breakdown rows (by mode of transport,
          customs procedure, second partner) summed where a key had no total row, each
          with ``source``, ``dimensions``, ``columns``, ``keys``, ``rows`` and ``lines``.

    Raises
    ------
    FileNotFoundError
        A path does not exist.
    DataError
        A subclass from :mod:`anomaly.errors` naming the file, lines and column:
        EmptyDataError, FormatError (unknown header, binary or truncated file, rows
        with a wrong number of fields), DuplicateKeyError, InvalidValueError,
        ConfidentialValueError, UnknownCodeError, PeriodError, CurrencyError.

    Examples
    --------
    >>> flows = read_flows("eurostat_chp_exports_2020_2022.csv")  # doctest: +SKIP
    >>> flows.attrs["currency"], len(flows)  # doctest: +SKIP
    ('EUR', 22809)
    >>> flows.loc[0, ["period", "reporter", "partner", "hs"]].tolist()  # doctest: +SKIP
    [Period('2020-01', 'M'), 'AUT', 'ARM', '84715000']
    """
    check_currency_name(currency)
    if isinstance(path_or_paths, pd.DataFrame):
        frame = path_or_paths
        if currency is not None and not frame.attrs.get("currency"):
            frame = frame.copy()
            frame.attrs["currency"] = currency
        return validate_flows(frame)
    paths = data_files(path_or_paths)
    parsed = [_read_file(path, format) for path in paths]
    table_currency = one_currency({item.source.name: item.currency for item in parsed}, currency)
    _one_frequency(parsed)
    sources = [item.source for item in parsed]
    frame = _stacked([item.frame for item in parsed])
    dropped = [record.record(item.source.name) for item in parsed for record in item.dropped]
    if frame.empty:
        reasons = "; ".join(f"{d['rows']} rows: {d['reason']}" for d in dropped)
        raise EmptyDataError(
            f"no trade rows are left after leaving out {reasons}",
            source=", ".join(paths),
            expected="rows of country-to-country flows",
        )
    table, overlaps = check_flows(frame, sources)
    formats = [item.format for item in parsed]
    aggregated = [record for item in parsed for record in item.aggregated]
    del frame, parsed
    # Arrow's allocator keeps the memory of the decoded files for reuse by Arrow alone;
    # given back, it is there for the panel (0.4 GiB of 0.8 resident after 12M rows).
    pa.default_memory_pool().release_unused()
    table.attrs.update(
        currency=table_currency,
        sources=paths,
        formats=formats,
        hs_overlaps=overlaps,
        dropped=dropped,
        aggregated_breakdowns=aggregated,
    )
    return table


def count_rows(path_or_paths: PathLike | Sequence[PathLike]) -> int | None:
    """The rows of the files :func:`read_flows` would read, where their footers say it
    (Parquet), without reading any row: to refuse a file too large for memory before
    reading it. None if a file is not Parquet or its footer cannot be read (the reader
    then reports the problem itself).

    Examples
    --------
    >>> count_rows("flows/")  # doctest: +SKIP
    120000000
    """
    total = 0
    for path in data_files(path_or_paths):
        with open(path, "rb") as file:
            if file.read(4) != PARQUET_MAGIC:
                return None
        try:
            total += pq.ParquetFile(path).metadata.num_rows
        except (OSError, ValueError):
            return None
    return total


def data_files(path_or_paths: PathLike | Sequence[PathLike]) -> list[str]:
    """The files :func:`read_flows` reads: the paths given, a directory standing for its
    data files (:data:`DIRECTORY_SUFFIXES`, not its folders), in sorted order.

    Raises
    ------
    FileNotFoundError
        A path does not exist.
    EmptyDataError
        No files, or a directory without data files.
    FormatError
        A broken symbolic link among them.

    Examples
    --------
    >>> data_files("flows/")  # doctest: +SKIP
    ['flows/2023.parquet', 'flows/2024.parquet']
    """
    items = [path_or_paths] if isinstance(path_or_paths, str | Path) else list(path_or_paths)
    paths: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            children = sorted(path.iterdir())
            check_links(children)
            found = [
                str(child)
                for child in children
                if child.is_file() and child.name.lower().endswith(DIRECTORY_SUFFIXES)
            ]
            if not found:
                raise EmptyDataError(
                    "the directory holds no data files",
                    source=str(path),
                    expected=f"files named *{', *'.join(DIRECTORY_SUFFIXES)}",
                )
            paths += found
        elif path.exists():
            paths.append(str(path))
        else:
            check_links([path])
            raise FileNotFoundError(f"no such file or directory: {str(path)!r}")
    if not paths:
        raise EmptyDataError(
            "no files were given", expected="a path, a list of paths or a directory"
        )
    return paths


def check_links(paths: Sequence[Path]) -> None:
    """Refuse symbolic links whose target is missing or that loop (a directory's file
    skipped without a word would silently drop its months).

    Raises
    ------
    FormatError
        Naming the link and where it points.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     link = Path(tmp) / "2023-01.csv"
    ...     link.symlink_to(Path(tmp) / "moved.csv")
    ...     check_links([link])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    anomaly.errors.FormatError: .../2023-01.csv: a symbolic link to ...moved.csv, which does ...
    """
    for path in paths:
        if not path.is_symlink():
            continue
        try:
            path.stat()
        except OSError as error:
            looping = error.errno == errno.ELOOP
            raise FormatError(
                "a symbolic link that points to itself (a loop)"
                if looping
                else f"a symbolic link to {os.readlink(path)}, which does not exist",
                source=str(path),
                expected="links to existing data files; remove the link or restore its target",
            ) from None


def _read_file(path: str, format: str) -> ParsedFile:
    # One read of the file: its format is told from the same bytes that are parsed.
    loaded = load_file(path)
    columns = loaded.columns()
    if format == AUTO:
        format = detect_format(columns, source=path)
    else:
        check_format(format, columns, source=path)
    entry = INPUT_FORMATS[format]
    return entry.read(loaded.raw(entry.codes))


def _stacked(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of every file, with the file's number in ``FILE``.

    A column that is categorical in every file stays categorical, on the union of
    the files' categories (``pandas.concat`` would make it a string per row). Files
    with the same columns are stacked column by column, each copied once (categoricals
    as their codes); others through ``pandas.concat``.
    """
    if len(frames) == 1:
        return with_column(frames[0], FILE, np.zeros(len(frames[0]), dtype=np.int16))
    for name in frames[0].columns:
        if all(
            name in frame and isinstance(frame[name].dtype, pd.CategoricalDtype) for frame in frames
        ):
            union = pd.Index(
                pd.unique(
                    np.concatenate([frame[name].cat.categories.to_numpy() for frame in frames])
                )
            )
            for frame in frames:
                frame[name] = frame[name].cat.set_categories(union)
    numbers = np.repeat(np.arange(len(frames), dtype=np.int64), [len(frame) for frame in frames])
    names = list(frames[0].columns)
    if any(list(frame.columns) != names for frame in frames) or not frames[0].columns.is_unique:
        return pd.concat(
            [frame.assign(**{FILE: np.int64(index)}) for index, frame in enumerate(frames)],
            ignore_index=True,
        )
    columns: dict[str, object] = {}
    for name in names:
        parts = [frame[name] for frame in frames]
        dtype = parts[0].dtype
        if isinstance(dtype, pd.CategoricalDtype) and all(part.dtype == dtype for part in parts):
            codes = np.concatenate([part.cat.codes.to_numpy() for part in parts])
            columns[name] = pd.Categorical.from_codes(codes, dtype=dtype, validate=False)
        else:
            columns[name] = pd.concat(parts, ignore_index=True)
    columns[FILE] = numbers
    return pd.DataFrame(columns, index=pd.RangeIndex(len(numbers)), copy=False)


def check_currency_name(currency: str | None) -> None:
    """Refuse a ``currency=`` argument that is not one of :data:`~anomaly.schema.CURRENCIES`."""
    if currency is not None and currency not in CURRENCIES:
        raise CurrencyError(
            f"currency={currency!r} is not supported",
            expected=f"one of {', '.join(CURRENCIES)}",
        )


def declared_currency(
    found: str | None, requested: str | None, source: str, inputs: str = "the file is"
) -> str | None:
    """The currency of inputs (``source``, called ``inputs`` in the message) that say
    ``found`` (None: they do not), with ``currency=`` ``requested``: the two must agree
    where both are known.

    Examples
    --------
    >>> declared_currency(None, "USD", "flows.csv"), declared_currency("EUR", None, "x.csv")
    ('USD', 'EUR')
    """
    if found and requested and found != requested:
        raise CurrencyError(
            f"currency={requested!r} was asked for, but {inputs} in {found}",
            source=source,
            expected=f"files in {requested}, or no currency= argument",
        )
    return found or requested


def one_currency(found: dict[str, str | None], requested: str | None) -> str | None:
    """The one currency of files whose currency columns say ``found`` (None: no column),
    given the currency the user declared for them (``requested``, or None).

    Raises
    ------
    CurrencyError
        A file's currency is not the one declared; the files are in different
        currencies; or, with nothing declared, some files say their currency and
        others do not.

    Examples
    --------
    >>> one_currency({"a.parquet": "EUR", "b.parquet": None}, "EUR")
    'EUR'
    """
    known = {name: code for name, code in found.items() if code}
    if requested:
        for name, code in known.items():
            declared_currency(code, requested, name)
        return requested
    if len(set(known.values())) > 1:
        listing = ", ".join(f"{name}: {code}" for name, code in known.items())
        raise CurrencyError(
            f"the files are in different currencies ({listing})",
            source=next(iter(known)),
            expected="one currency: read the files apart, or convert them first",
        )
    unknown = [name for name, code in found.items() if not code]
    if known and unknown:
        raise CurrencyError(
            f"the currency of this file is unknown (no currency column), while "
            f"{next(iter(known))} is in {next(iter(known.values()))}",
            source=unknown[0],
            expected="a currency column, or currency= naming the currency of all files",
        )
    return next(iter(known.values()), None)


def _one_frequency(parsed: list[ParsedFile]) -> None:
    kinds = {item.source.name: item.frame["period"].dtype for item in parsed}
    if len(set(kinds.values())) > 1:
        listing = ", ".join(
            f"{name}: {'monthly' if dtype == MONTHLY else 'annual'}"
            for name, dtype in kinds.items()
        )
        raise PeriodError(
            f"monthly and annual files are mixed ({listing})",
            source=next(iter(kinds)),
            expected="one frequency: read monthly and annual files apart",
        )
