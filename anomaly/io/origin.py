"""Where each row came from, so that an error names the file, the lines and the column.

Every frame passed between the reading stages carries two private columns: the
index of its source file and the 1-based line of the file the row was read from
(the header is line 1). Rows of Parquet files and DataFrames have no lines of their
own; they are numbered as in the CSV the table would be written to, header = line 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from anomaly.errors import DataError, describe_items

LINE = "_line"
FILE = "_file"
ORIGIN_COLUMNS: tuple[str, ...] = (FILE, LINE)

#: How many other files an error message names besides the first one.
_OTHER_FILES_LISTED = 2


@dataclass(frozen=True)
class Source:
    """One input: its name in messages and the spelling of its columns.

    Parameters
    ----------
    name : str
        The file path (or ``"<DataFrame>"``).
    columns : mapping of str to str
        Canonical column name -> the column it was read from, so that an error found
        after renaming still names the column the user can see in the file.
    """

    name: str
    columns: Mapping[str, str] = field(default_factory=dict)

    def column(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)


def with_lines(frame: pd.DataFrame, lines: np.ndarray | None = None) -> pd.DataFrame:
    """Return ``frame`` with a line column (default: positions as in a written CSV)."""
    if lines is None:
        lines = np.arange(2, len(frame) + 2, dtype=np.int64)
    return with_column(frame, LINE, lines)


def with_column(frame: pd.DataFrame, name: str, values: np.ndarray) -> pd.DataFrame:
    """``frame.assign(name=values)`` without copying ``values`` or the columns (a
    column of 10^8 rows is not copied to be attached); ``values`` must not be changed
    afterwards.

    Examples
    --------
    >>> lines = np.array([2, 3])
    >>> framed = with_column(pd.DataFrame({"a": ["x", "y"]}), LINE, lines)
    >>> framed.columns.tolist(), np.shares_memory(framed[LINE].to_numpy(), lines)
    (['a', '_line'], True)
    """
    if not frame.columns.is_unique:
        return frame.assign(**{name: values})
    columns = {column: frame[column] for column in frame.columns if column != name}
    return pd.DataFrame({**columns, name: values}, index=frame.index, copy=False)


def error_at(
    error: type[DataError],
    problem: str,
    frame: pd.DataFrame,
    mask: np.ndarray | pd.Series,
    sources: Sequence[Source],
    *,
    column: str | None = None,
    expected: str | None = None,
) -> DataError:
    """Build ``error`` located at the rows of ``frame`` selected by ``mask``.

    The error names the first file holding an offending row and that file's lines
    (in increasing order); offending rows in further files are named in the problem
    text, so a duplicate split across two files points at both.
    """
    mask = np.asarray(mask, dtype=bool)
    files = frame[FILE].to_numpy()[mask] if FILE in frame else np.zeros(mask.sum(), dtype=np.int64)
    lines = frame[LINE].to_numpy()[mask] if LINE in frame else np.flatnonzero(mask) + 2
    order = np.lexsort((lines, files))
    files, lines = files[order], lines[order]
    involved = pd.unique(files)
    if len(involved) == 0:
        return error(problem, source=sources[0].name if sources else None, expected=expected)
    first = sources[int(involved[0])]
    others = []
    for index in involved[1 : 1 + _OTHER_FILES_LISTED]:
        other_lines = lines[files == index]
        plural = "s" if len(other_lines) > 1 else ""
        others.append(f"{sources[int(index)].name} line{plural} {describe_items(other_lines)}")
    if len(involved) > 1 + _OTHER_FILES_LISTED:
        others.append(f"{len(involved) - 1 - _OTHER_FILES_LISTED} more files")
    if others:
        problem += "; also in " + ", ".join(others)
    return error(
        problem,
        source=first.name,
        column=first.column(column) if column else None,
        lines=[int(line) for line in lines[files == involved[0]]],
        expected=expected,
    )
