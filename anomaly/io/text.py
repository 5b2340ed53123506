"""Work on the distinct values of a column: a million rows hold a few hundred codes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import TypeVar

import numpy as np
import pandas as pd


def lookup(per_value: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``per_value[codes]``: each row's answer, from the answers of the distinct values.

    The rows are not touched when every value has the same answer, nor when the answer
    to value ``i`` is ``i`` (codes into categories that are already the canonical ones):
    a table of 10^8 rows pays for a lookup only where one is needed.

    Examples
    --------
    >>> codes = np.array([2, 0, 2], dtype=np.int8)
    >>> lookup(np.array([True, True, True]), codes).tolist()
    [True, True, True]
    >>> lookup(np.arange(3), codes) is codes, lookup(np.array([5, 6, 7]), codes).tolist()
    (True, [7, 5, 7])
    """
    per_value = np.asarray(per_value)
    if len(per_value) and (per_value == per_value[0]).all():
        return np.full(len(codes), per_value[0], dtype=per_value.dtype)
    if per_value.dtype.kind == "i" and (per_value == np.arange(len(per_value))).all():
        return codes
    return per_value[codes]


def as_categorical(codes: np.ndarray, per_text: pd.Series, index: pd.Index) -> pd.Series:
    """Rows ``per_text[codes]`` as a categorical Series (missing where NaN)."""
    category_codes, categories = pd.factorize(per_text, use_na_sentinel=True)
    categories = pd.Index(categories, dtype=object)
    return pd.Series(categorical(lookup(category_codes, codes), categories), index=index)


def code_dtype(n_categories: int) -> type[np.signedinteger]:
    """The integer type pandas stores the codes of ``n_categories`` categories in.

    Examples
    --------
    >>> code_dtype(5), code_dtype(5000)
    (<class 'numpy.int8'>, <class 'numpy.int16'>)
    """
    return next(
        kind
        for kind in (np.int8, np.int16, np.int32, np.int64)
        if n_categories < np.iinfo(kind).max
    )


def categorical(codes: np.ndarray, categories: pd.Index, *, copy: bool = False) -> pd.Categorical:
    """A categorical from codes known to be valid (-1 or a position in ``categories``,
    whose dtype it keeps), without a pass over the rows to check them (``copy``: never
    share ``codes``)."""
    small = code_dtype(len(categories))
    # Already in the type pandas keeps: no copy is made unless asked for.
    codes = np.array(codes, dtype=small) if copy else np.asarray(codes).astype(small, copy=False)
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories), validate=False)


def distinct_text(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Factorize ``values`` into codes and their stripped distinct texts.

    Work on the distinct texts and broadcast with ``result[codes]``: a column of a
    million rows holds a few hundred distinct codes. Missing values become ``""``;
    columns of numbers (Parquet) become their digits.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        # A dictionary column (Parquet, batch scans) already is codes and distinct
        # values: no pass over the rows but the one that moves missing codes to the end.
        codes = values.cat.codes.to_numpy()
        uniques = values.cat.categories
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = np.asarray(uniques, dtype=object)
    if pd.api.types.is_float_dtype(uniques.dtype) and np.all(np.mod(uniques, 1) == 0):
        # A Parquet column of integer codes with gaps arrives as float: 2.0 means "2".
        distinct = np.asarray(uniques, dtype=np.int64).astype(object)
    if (codes < 0).any():
        # Missing values point at an extra distinct text, "".
        codes = np.where(codes < 0, len(uniques), codes.astype(np.int64))
        distinct = np.append(distinct, "")
    if pd.api.types.infer_dtype(distinct, skipna=False) == "string":
        # Kept for the next batch of a scan, whose columns hold the same distinct texts
        # (texts only: as keys of a cache, 1, 1.0 and True are one value).
        (stripped,) = _stripped(tuple(distinct))
        return codes, pd.Series(stripped, dtype=object, copy=True)
    return codes, pd.Series(distinct, dtype=object).astype(str).str.strip()


#: Distinct texts whose answers a function of :func:`remembered_by_text` keeps.
REMEMBERED_TEXTS = 100_000

_Answers = TypeVar("_Answers", bound=tuple)


def remembered_by_text(
    compute: Callable[..., _Answers],
) -> Callable[..., _Answers]:
    """Remember the answers of ``compute(texts, *args)`` text by text.

    ``compute`` takes a tuple of distinct texts (and hashable arguments) and returns a
    tuple of arrays, each with one answer per text. A scan asks it about the distinct
    values of every batch. A dictionary-encoded Parquet column gives every batch the
    same values: the last calls' answers are returned whole. Plain text gives each batch
    values of its own, mostly seen before: only the texts never seen are computed.
    Answers are read-only (they are shared). Once :data:`REMEMBERED_TEXTS` texts are
    kept for some arguments, or given at once (a column of free text), new texts are
    computed, not kept.

    Examples
    --------
    >>> @remembered_by_text
    ... def lengths(texts):
    ...     print("computing", texts)
    ...     return (np.array([len(text) for text in texts]),)
    >>> lengths(("a", "bb"))[0].tolist()
    computing ('a', 'bb')
    [1, 2]
    >>> lengths(("ccc", "a"))[0].tolist()
    computing ('ccc',)
    [3, 1]
    """
    known: dict[tuple, dict[str, tuple]] = {}
    dtypes: dict[tuple, list[np.dtype]] = {}

    @functools.wraps(compute)
    def answers(texts: tuple[str, ...], *args: Hashable) -> _Answers:
        if not texts or len(texts) > REMEMBERED_TEXTS:
            return _read_only(compute(texts, *args))
        return remembered(texts, *args)

    @functools.lru_cache(maxsize=16)
    def remembered(texts: tuple[str, ...], *args: Hashable) -> _Answers:
        seen = known.setdefault(args, {})
        new = tuple(text for text in dict.fromkeys(texts) if text not in seen)
        if len(seen) + len(new) > REMEMBERED_TEXTS:
            return _read_only(compute(texts, *args))
        if new:
            fresh = compute(new, *args)
            dtypes.setdefault(args, [answer.dtype for answer in fresh])
            seen.update(zip(new, zip(*fresh, strict=True), strict=True))
        rows = [seen[text] for text in texts]
        return _read_only(
            tuple(
                # Text answers take the width they need, not the first call's.
                np.array([row[i] for row in rows], dtype=None if dtype.kind == "U" else dtype)
                for i, dtype in enumerate(dtypes[args])
            )
        )

    return answers


def _read_only(answers: _Answers) -> _Answers:
    for answer in answers:
        answer.flags.writeable = False
    return answers


@remembered_by_text
def _stripped(texts: tuple[str, ...]) -> tuple[np.ndarray]:
    """Each text stripped of surrounding white space."""
    return (pd.Series(texts, dtype=object).str.strip().to_numpy(dtype=object),)


def text_column(values: pd.Series) -> pd.Series:
    """Any column as stripped text: numbers as their digits, missing as ``""``."""
    codes, text = distinct_text(values)
    return pd.Series(text.to_numpy()[codes], index=values.index, dtype=object)
