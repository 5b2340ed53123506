"""Integer codes for the key columns of a table: one int per key, sorting, duplicates."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from anomaly.errors import DuplicateKeyError
from anomaly.io.origin import FILE, LINE, Source, error_at
from anomaly.io.text import code_dtype, lookup


def sorted_factorize(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes and distinct values, in the values' natural order (text: lexicographic).

    ``pd.factorize(sort=True)`` orders a categorical by its categories, which readers
    create in order of appearance; the key order must not depend on that.

    Categoricals and periods are coded without hashing their rows: a categorical's
    codes are ranked through its (sorted, used) categories, and periods by their
    ordinals, which span a few hundred months.

    Examples
    --------
    >>> values = pd.Series(pd.Categorical(["b", "a", "b"], categories=["b", "z", "a"]))
    >>> codes, uniques = sorted_factorize(values)
    >>> codes.tolist(), uniques.tolist()
    ([1, 0, 1], ['a', 'b'])
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        if not len(codes) or codes.min() >= 0:
            return _ranked(codes, values.cat.categories)
    elif isinstance(values.dtype, pd.PeriodDtype) and len(values):
        ordinals = values.array.asi8
        first, last = int(ordinals.min()), int(ordinals.max())
        if last - first <= max(len(ordinals), _PERIOD_SPAN):
            offsets = ordinals - first
            used = np.bincount(offsets, minlength=last - first + 1) > 0
            months = pd.PeriodIndex.from_ordinals(
                np.flatnonzero(used) + first, freq=values.dtype.freq
            )
            return lookup(np.cumsum(used) - 1, offsets), months
    codes, uniques = pd.factorize(values)
    if isinstance(uniques.dtype, pd.CategoricalDtype):
        uniques = pd.Index(np.asarray(uniques, dtype=object))
    order = uniques.argsort()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank[codes], uniques[order]


def factorize_sorted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pandas.factorize(values, sort=True)`` of integers, by sorting instead of hashing
    (a quarter faster on millions of rows holding tens of thousands of values).

    Examples
    --------
    >>> codes, uniques = factorize_sorted(np.array([30, 10, 30, 20]))
    >>> codes.tolist(), uniques.tolist()
    ([2, 0, 2, 1], [10, 20, 30])
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    codes = np.empty(len(ordered), dtype=np.intp)
    codes[order] = np.cumsum(first) - 1
    return codes, ordered[first]


#: Periods spanning up to this many ordinals are coded by offset, not by hashing.
_PERIOD_SPAN = 1 << 20


def _ranked(codes: np.ndarray, categories: pd.Index) -> tuple[np.ndarray, pd.Index]:
    """Codes into the sorted used categories, from codes into ``categories``."""
    used = np.bincount(codes, minlength=len(categories)) > 0
    distinct = pd.Index(np.asarray(categories, dtype=object)[used])
    order = distinct.argsort()
    rank = np.full(len(categories), -1, dtype=code_dtype(len(categories)))
    rank[np.flatnonzero(used)[order]] = np.arange(len(order))
    return lookup(rank, codes), distinct[order]


def radix(codes: Sequence[np.ndarray]) -> tuple[int, ...] | None:
    """The sizes :func:`combine_codes` combines codes with (its key is then the mixed
    radix number of the codes), or None if it numbers the combinations instead
    (negative codes, or more combinations than int64 counts)."""
    dims = tuple(int(column.max()) + 1 if len(column) else 1 for column in codes)
    lowest = min((int(column.min()) for column in codes if len(column)), default=0)
    return dims if lowest >= 0 and math.prod(dims) <= np.iinfo(np.int64).max else None


def combine_codes(codes: Sequence[np.ndarray]) -> np.ndarray:
    """One int64 per distinct combination of several integer code arrays, increasing
    with the codes (the first array most significant)."""
    dims = radix(codes)
    if dims is not None:
        # Mixed radix in place: two passes per column, nothing allocated per column.
        key = np.array(codes[0], dtype=np.int64)
        for column, dim in zip(codes[1:], dims[1:], strict=True):
            key *= dim
            key += column
        return key
    # More combinations than int64 can count: let pandas number the groups.
    frame = pd.DataFrame({str(i): column for i, column in enumerate(codes)})
    return frame.groupby(list(frame.columns), sort=True).ngroup().to_numpy(np.int64)


def key_order(
    key: np.ndarray, major: np.ndarray, minor_size: int | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The order that sorts ``key``, and the rows whose key is not unique.

    Parameters
    ----------
    key : ndarray of int64
        One integer per row, ``major * minor_size + minor`` (:func:`combine_codes`).
    major : ndarray of int
        The code of the key's leading column (the period), small and non-negative.
    minor_size : int or None
        How many values the rest of the key (the series) can take; None if ``key`` is
        not such a number (then the rows are sorted).

    Returns
    -------
    order : ndarray of int64 or None
        None when the rows are in key order already.
    duplicated : ndarray of bool or None
        Every row of a key found on more than one row (as
        ``pandas.Series.duplicated(keep=False)``); None when all keys are distinct.

    Notes
    -----
    Files are mostly written in key order: checking that takes one pass, and proves
    the keys distinct. Otherwise the series found are numbered in key order (hashing
    the rows, sorting only the distinct series); when (period, series number) pairs
    are not much more than the rows, as in a panel of monthly series, each row's
    place is then counted out in one pass. Only sparser tables pay a full sort (about
    5 s for 24M rows on a 2-core machine).

    Examples
    --------
    >>> order, duplicated = key_order(np.array([4, 1, 5, 2]), np.array([1, 0, 1, 0]), 3)
    >>> order.tolist(), duplicated
    ([1, 3, 0, 2], None)
    >>> key_order(np.array([4, 1, 4]), np.array([1, 0, 1]), 3)[1].tolist()
    [True, False, True]
    """
    if len(key) < 2 or (key[1:] > key[:-1]).all():
        return None, None
    if minor_size is not None:
        order = _counted_order(key, major.astype(np.int64), minor_size)
        if order is not None:
            return order, None
    order = np.argsort(key, kind="stable")
    repeated = key[order][1:] == key[order][:-1]
    if not repeated.any():
        return order, None
    in_order = np.zeros(len(key), dtype=bool)
    in_order[1:] |= repeated
    in_order[:-1] |= repeated
    duplicated = np.empty(len(key), dtype=bool)
    duplicated[order] = in_order
    return order, duplicated


def _counted_order(key: np.ndarray, major: np.ndarray, minor_size: int) -> np.ndarray | None:
    """The order of distinct keys, placed by (major, series number); None if the table
    is too sparse for that, or holds a key twice."""
    series, _ = factorize_sorted(key - major * minor_size)
    n_series = int(series.max()) + 1
    space = (int(major.max()) + 1) * n_series
    if space > _DENSE_FACTOR * len(key):
        return None
    place = np.full(space, -1, dtype=np.int64)
    place[major * n_series + series] = np.arange(len(key))
    order = place[place >= 0]
    # Every row has a place of its own exactly when no key is repeated.
    return order if len(order) == len(key) else None


#: A table is put in order by counting when its (period, series) pairs are at most
#: this many times its rows (a series reported in one month out of four).
_DENSE_FACTOR = 4


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
