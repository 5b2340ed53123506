"""Key normalisation and the map-over-unique-values helper shared by the lookups."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["as_code_number", "map_unique", "normalize_name", "strip_qualifier"]

_NON_WORD = re.compile(r"[\W_]+")
_NUMBER = re.compile(r"^\d+(?:\.0*)?$")
# Eurostat appends history notes in parentheses ("Belgium (incl. Luxembourg 'LU' -> 1998)");
# cutting at the first "(" also copes with the nested parentheses some of them contain.
_QUALIFIER = re.compile(r"\s*\(.*$", re.DOTALL)


def normalize_name(text: str) -> str:
    """Fold case, accents, punctuation and spacing so spellings of a name compare equal.

    Examples
    --------
    >>> normalize_name("  Côte d’Ivoire ")
    'cote d ivoire'
    >>> normalize_name("Bosnia & Herzegovina")
    'bosnia and herzegovina'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = stripped.casefold().replace("&", " and ")
    return _NON_WORD.sub(" ", folded).strip()


def strip_qualifier(text: str) -> str:
    """Drop a trailing parenthesised note: ``"Ireland (Eire)"`` -> ``"Ireland"``."""
    return _QUALIFIER.sub("", text)


def as_code_number(value: Any) -> int | None:
    """Read ``value`` as a non-negative whole number code, or return None.

    Accepts ints, integral floats (a numeric column with gaps is read as float) and
    digit strings with or without zero padding (``"075"``, ``"0075"``, ``"643.0"``).
    """
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, Integral):
        return int(value) if value >= 0 else None
    if isinstance(value, Real):
        number = float(value)
        if np.isfinite(number) and number >= 0 and number.is_integer():
            return int(number)
        return None
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.match(text):
            return int(float(text)) if "." in text else int(text)
    return None


def map_unique(
    values: Any, func: Callable[[Hashable], Any]
) -> tuple[np.ndarray, pd.Index | None, Hashable]:
    """Apply ``func`` once per distinct non-missing value and broadcast the results.

    Returns the object array of results (None where the input is missing), and the index
    and name of ``values`` when it is a Series (so callers can keep them).
    """
    if isinstance(values, str | bytes) or np.ndim(values) == 0:
        values = [values]
    if isinstance(values, pd.Series):
        index, name, series = values.index, values.name, values
    else:
        index, name = None, None
        series = pd.Series(values, dtype=object) if not isinstance(values, pd.Index) else values
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [func(unique) for unique in uniques]
    table[-1] = None  # the slot code -1 (missing input) points to
    return table[codes], index, name
