"""Map a source's flow and product codes onto the canonical ones, naming unknown codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from anomaly.errors import FormatError, UnknownCodeError, describe_items
from anomaly.io.origin import Source, error_at
from anomaly.io.text import as_categorical, distinct_text, lookup, remembered_by_text

#: The ``hs`` code of a total over all products (Comext ``TOTAL``, Comtrade ``TOTAL``).
#: HS has no chapter 00, so the code cannot be confused with a product, and it keeps
#: ``hs`` a string of 2-10 digits. A total is never summed with products: the overlap
#: record treats it as the parent of every other code of its reporter/partner/flow/period.
TOTAL_HS = "00"
#: Spellings of "all products" in the sources, compared case-insensitively.
TOTAL_PRODUCT_CODES: tuple[str, ...] = ("TOTAL", "TT")
#: HS chapters, headings, subheadings and their national extensions: 2, 4, 6, 8 or 10
#: ASCII digits. ``\d`` would also take other scripts' digits (``٨٥٤٢``), and an odd
#: length is a code that lost a leading zero (``85423`` for ``085423``) or a digit.
HS_PATTERN = r"^(?:[0-9]{2}){1,5}$"
HS_EXPECTED = (
    "2, 4, 6, 8 or 10 ASCII digits with leading zeros kept (HS2/HS4/HS6, CN8, HTS10), "
    "or TOTAL for all products"
)


def map_codes(
    frame: pd.DataFrame,
    column: str,
    mapping: Mapping[str, str],
    sources: Sequence[Source],
    *,
    what: str,
    label: str | None = None,
    ignored: Sequence[str] = (),
) -> tuple[pd.Series, np.ndarray]:
    """Translate ``frame[column]`` through ``mapping`` (keys compared case-insensitively).

    Parameters
    ----------
    frame : DataFrame
        Holds the column and the line column.
    column : str
        The column of codes.
    mapping : mapping of str to str
        Source code -> canonical value.
    sources : sequence of Source
        For error messages.
    what : str
        What the codes are, for messages (``"flow"``).
    label : str, optional
        The canonical column name, to find how the file spells it.
    ignored : sequence of str
        Known codes whose rows the caller leaves out (returned as a mask).

    Returns
    -------
    mapped : Series (categorical)
        Canonical values (missing where ignored).
    ignored_rows : ndarray of bool
        Rows holding an ignored code.

    Raises
    ------
    UnknownCodeError
        For codes neither mapped nor ignored; the distinct codes and lines are named.
    """
    codes, text = distinct_text(frame[column])
    keys = text.str.casefold()
    folded = {key.casefold(): value for key, value in mapping.items()}
    mapped = keys.map(folded)
    ignored_rows = lookup(keys.isin([code.casefold() for code in ignored]).to_numpy(), codes)
    unknown = lookup(mapped.isna().to_numpy(), codes) & ~ignored_rows
    if unknown.any():
        distinct = pd.unique(text.to_numpy()[codes[unknown]])
        known = [*mapping, *ignored]
        raise error_at(
            UnknownCodeError,
            f"unknown {what} code(s) {describe_items(map(repr, distinct))}",
            frame,
            unknown,
            sources,
            column=label or column,
            expected=f"one of {', '.join(map(repr, known))}",
        )
    return as_categorical(codes, mapped, frame.index), ignored_rows


def hs_codes(
    frame: pd.DataFrame, column: str, sources: Sequence[Source], *, label: str = "hs"
) -> pd.Series:
    """Check product codes and spell a total over all products as :data:`TOTAL_HS`.

    Raises
    ------
    FormatError
        The column holds numbers: leading zeros (``010121``) are already lost.
    UnknownCodeError
        Codes that are not 2-10 digits; the distinct codes and lines are named.
    """
    values = frame[column]
    if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        raise FormatError(
            f"the product codes are stored as {values.dtype} numbers, "
            "which loses leading zeros (010121 becomes 10121)",
            source=sources[0].name if sources else None,
            column=sources[0].column(label) if sources else column,
            expected="product codes stored as text",
        )
    codes, text = distinct_text(values)
    hs, valid = _hs_spellings(tuple(text))
    bad = lookup(~valid, codes)
    if bad.any():
        distinct = pd.unique(text.to_numpy()[codes[bad]])
        raise error_at(
            UnknownCodeError,
            f"product code(s) {describe_items(map(repr, distinct))} are not HS codes",
            frame,
            bad,
            sources,
            column=label,
            expected=HS_EXPECTED,
        )
    return as_categorical(codes, pd.Series(hs, dtype=object), frame.index)


@remembered_by_text
def _hs_spellings(texts: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct text as an HS code (totals as :data:`TOTAL_HS`), and whether it is
    one; kept for the next batch of a scan, which names the same codes."""
    text = pd.Series(texts, dtype=object)
    hs = text.mask(text.str.upper().isin(TOTAL_PRODUCT_CODES), TOTAL_HS)
    return hs.to_numpy(dtype=object), hs.str.fullmatch(HS_PATTERN).to_numpy(dtype=bool)
