"""Integer codes for the key columns of a table: one int per key, sorting, duplicates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from anomaly.errors import DuplicateKeyError
from anomaly.io.origin import FILE, LINE, Source, error_at


def sorted_factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes and distinct values, in the values' natural order (text: lexicographic).

    ``pd.factorize(sort=True)`` orders a categorical by its categories, which readers
    create in order of appearance; the key order must not depend on that.
    """
    codes, uniques = pd.factorize(values)
    if isinstance(uniques.dtype, pd.CategoricalDtype):
        uniques = pd.Index(np.asarray(uniques, dtype=object))
    order = uniques.argsort()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], uniques[order]


def combine_codes(codes: Sequence[np.ndarray]) -> np.ndarray:
    """One int64 per distinct combination of several integer code arrays."""
    dims = tuple(int(column.max()) + 1 if len(column) else 1 for column in codes)
    try:
        return np.ravel_multi_index(tuple(codes), dims).astype(np.int64)
    except ValueError:
        # More combinations than int64 can count: let pandas number the groups.
        frame = pd.DataFrame({str(i): column for i, column in enumerate(codes)})
        return frame.groupby(list(frame.columns), sort=True).ngroup().to_numpy(np.int64)


def duplicate_error(
    frame: pd.DataFrame,
    key: np.ndarray,
    duplicated: np.ndarray,
    sources: Sequence[Source],
    columns: Sequence[str],
) -> DuplicateKeyError:
    """A DuplicateKeyError naming one duplicated key in full and all duplicate lines."""
    files = frame[FILE].to_numpy() if FILE in frame else np.zeros(len(frame), dtype=np.int64)
    lines = frame[LINE].to_numpy()
    candidates = np.flatnonzero(duplicated)
    first = candidates[np.lexsort((lines[candidates], files[candidates]))[0]]
    same = np.flatnonzero(key == key[first])
    same = same[np.lexsort((lines[same], files[same]))]
    if len(np.unique(files[same])) > 1:
        where = " and ".join(f"{sources[files[row]].name} line {lines[row]}" for row in same)
    else:
        where = "lines " + " and ".join(str(lines[row]) for row in same)
    example = ", ".join(f"{column} {frame[column].iloc[first]}" for column in columns)
    groups = len(np.unique(key[duplicated]))
    return error_at(
        DuplicateKeyError,
        f"{groups} key(s) ({', '.join(columns)}) occur on more than one row, "
        f"e.g. {example} on {where}",
        frame,
        duplicated,
        sources,
        expected="one row per key: drop repeated rows, or read overlapping files once",
    )
