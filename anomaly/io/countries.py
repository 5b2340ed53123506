"""Map a source's country names or codes to alpha-3, setting aggregates apart.

The country table lives in :mod:`anomaly.reference`; this module only applies it to
a column and turns what it does not know into an error that names the values and lines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from anomaly.errors import UnknownCodeError, describe_items
from anomaly.io.origin import Source, error_at
from anomaly.io.parsed import Dropped
from anomaly.io.text import categorical, code_dtype, distinct_text, lookup, remembered_by_text
from anomaly.reference import is_aggregate_partner, to_alpha3

_MISSING = ("", "NA", "N/A")
_SCHEME_WORDS = {
    "auto": "name or code",
    "name": "name",
    "alpha3": "ISO alpha-3 code",
    "alpha2": "ISO alpha-2 code",
    "numeric": "ISO numeric code",
    "comtrade": "UN Comtrade (M49) code",
    "eurostat_geo": "Eurostat GEO number",
}


def map_countries(
    frame: pd.DataFrame,
    candidates: Sequence[tuple[str, str]],
    sources: Sequence[Source],
    *,
    label: str,
) -> tuple[pd.Series, np.ndarray]:
    """Map country names or codes to ISO alpha-3.

    Parameters
    ----------
    frame : DataFrame
        Holds the columns and the line column.
    candidates : sequence of (column, scheme)
        Columns to read, best first, each with its scheme for
        :func:`anomaly.reference.to_alpha3` (``"name"``, ``"alpha2"``, ...). A row
        blank in one column is read from the next (Comext bulk files leave the
        alpha-2 column blank where the numeric GEO code is set).
    sources : sequence of Source
        For error messages.
    label : str
        The canonical column (``"reporter"`` or ``"partner"``), for messages.

    Returns
    -------
    alpha3 : Series (categorical)
        Alpha-3 codes; missing on aggregate rows.
    aggregate : ndarray of bool
        Rows naming a non-country aggregate (World, EU, "Areas, nes", ...).

    Raises
    ------
    UnknownCodeError
        Values that are neither a known country nor an aggregate, or no value at all;
        the distinct values and their lines are named.
    """
    # Rows hold integer codes into ``categories``: a million rows name a few
    # hundred countries, and a categorical column is cheap to filter, sort and key.
    categories: list[str] = []
    rows = aggregate = decided = None
    present = [(column, scheme) for column, scheme in candidates if column in frame]
    for number, (column, scheme) in enumerate(present):
        codes, text = distinct_text(frame[column])
        found, is_aggregate, given_text = _answers(tuple(text), scheme)
        categories += [
            code for code in pd.unique(found) if code is not None and code not in categories
        ]
        found_index = pd.Index(categories).get_indexer(found)
        unknown_text = given_text & (found_index < 0) & ~is_aggregate
        if number == 0 and given_text.all() and not unknown_text.any():
            # This column names every row's country (the usual case): each row only
            # looks its distinct value's answers up, and codes that already are
            # positions in ``categories`` are kept as they are.
            found_index = found_index.astype(code_dtype(len(categories)))
            rows, aggregate = lookup(found_index, codes), lookup(is_aggregate, codes)
            break
        if decided is None:
            rows = np.full(len(frame), -1, dtype=np.int64)
            aggregate = np.zeros(len(frame), dtype=bool)
            decided = np.zeros(len(frame), dtype=bool)
        given = lookup(given_text, codes) & ~decided
        unknown = given & lookup(unknown_text, codes)
        if unknown.any():
            distinct = pd.unique(text.to_numpy()[codes[unknown]])
            raise error_at(
                UnknownCodeError,
                f"unknown {label} name(s) or code(s): {describe_items(map(repr, distinct))}",
                frame,
                unknown,
                sources,
                column=label if column == present[0][0] else column,
                expected=f"a country {_SCHEME_WORDS.get(scheme, scheme)} known to "
                "anomaly.reference (or an aggregate such as World, which is left out)",
            )
        rows = np.where(given, found_index[codes], rows)
        aggregate |= given & is_aggregate[codes]
        decided |= given
    if rows is None:  # no column to read
        rows = np.full(len(frame), -1, dtype=np.int64)
        aggregate = decided = np.zeros(len(frame), dtype=bool)
    if decided is not None and not decided.all():
        raise error_at(
            UnknownCodeError,
            f"{(~decided).sum()} row(s) name no {label}",
            frame,
            ~decided,
            sources,
            column=label,
            expected=f"a country in column(s) {', '.join(column for column, _ in present)}",
        )
    alpha3 = categorical(rows, pd.Index(categories, dtype=object))
    return pd.Series(alpha3, index=frame.index), aggregate


@remembered_by_text
def _answers(texts: tuple[str, ...], scheme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct text: its alpha-3 code (None if none), whether it names an aggregate,
    and whether it names anything.

    Kept for the next batch of a scan, whose columns hold the same distinct texts.
    """
    text = pd.Series(texts, dtype=object)
    found = to_alpha3(text, scheme=scheme).to_numpy(dtype=object, na_value=None)
    is_aggregate = is_aggregate_partner(text, scheme=scheme).to_numpy(dtype=bool)
    given_text = ~text.isin(_MISSING).to_numpy()
    return found, is_aggregate, given_text


def aggregate_drops(
    frame: pd.DataFrame,
    reporter_aggregate: np.ndarray,
    partner_aggregate: np.ndarray,
    reporter_column: str,
    partner_column: str,
) -> list[Dropped]:
    """Describe the rows left out because their reporter or partner is an aggregate."""
    dropped = []
    roles = (
        ("reporter", reporter_aggregate, reporter_column),
        ("partner", partner_aggregate & ~reporter_aggregate, partner_column),
    )
    for role, mask, column in roles:
        if mask.any():
            names = [_shorten(str(name)) for name in pd.unique(frame[column].to_numpy()[mask])]
            dropped.append(
                Dropped.of(
                    f"{role} is not a country ({describe_items(map(repr, names))}): an "
                    "aggregate, whose rows total country rows and would count them twice, "
                    "or an unspecified area",
                    frame,
                    mask,
                )
            )
    return dropped


def _shorten(name: str, width: int = 60) -> str:
    # Eurostat names of the EU carry the accession date of every member.
    return name if len(name) <= width else name[: width - 3] + "..."
