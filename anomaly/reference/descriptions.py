"""What an HS code stands for: descriptions of the HS2022 chapters, headings and
subheadings.

The table ``data/hs_descriptions.csv.gz`` holds UN Comtrade's descriptions of every
HS2022 code of 2, 4 and 6 digits (97 chapters, 1,229 headings, 5,613 subheadings), in
the public domain (ODC-PDDL-1.0); how it was obtained and rebuilt is in
``data/PROVENANCE.md``. They describe, they do not classify: the legal text of the
nomenclature is the WCO's.

No HS2017 descriptions are shipped (no source we may redistribute was found). A code
that HS2022 no longer has (an HS2017 subheading such as 854890, 852580 or 854140, or a
heading such as 8803) is described by what it became where the package's concordance
knows (``"HS2017 subheading, in HS2022 854800: ..."``), otherwise by its heading, marked
as such: never left blank while its heading is known. The panel files such series under
their HS2022 successors (:func:`~anomaly.reference.harmonize_hs`) anyway.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

__all__ = ["HS_DESCRIPTION_REVISION", "hs_description", "hs_descriptions"]

#: The HS revision whose codes :func:`hs_description` describes.
HS_DESCRIPTION_REVISION = "HS2022"
_FILE = "hs_descriptions.csv.gz"


@cache
def _table() -> pd.DataFrame:
    source = resources.files("anomaly.reference").joinpath("data", _FILE)
    with source.open("rb") as handle:
        return pd.read_csv(
            handle, compression="gzip", dtype=str, keep_default_na=False, na_values=[""]
        )


@cache
def _lookup() -> dict[str, str]:
    table = _table()
    return dict(zip(table["hs"], table["description"], strict=True))


@cache
def _successors() -> dict[str, tuple[str, ...]]:
    """The HS2022 codes each HS2017 subheading HS2022 deleted became (concordance)."""
    from anomaly.reference.concordance import hs_concordance

    table = hs_concordance()
    step = table[(table["from_revision"] == "HS2017") & (table["from_code"] != table["to_code"])]
    return {code: tuple(rows["to_code"]) for code, rows in step.groupby("from_code", sort=True)}


def _describe(code: str) -> str | None:
    """One code's description: HS2022's, else what it became, else its heading's."""
    lookup = _lookup()
    # National extensions (CN8, HTS10) share their first six digits with the HS code.
    code = code[:6]
    if code in lookup or len(code) not in (4, 6):
        return lookup.get(code)
    level = "subheading" if len(code) == 6 else "heading"
    successors = _successors()
    # What the code's subheadings became, read at the code's own level.
    became = {
        to[: len(code)] for old in successors if old.startswith(code) for to in successors[old]
    }
    became = sorted(became & lookup.keys())
    if len(became) == 1:
        return f"HS2017 {level}, in HS2022 {became[0]}: {lookup[became[0]]}"
    heading = _describe(code[:4]) if level == "subheading" else None
    if became and heading is not None:
        return f"HS2017 {level}, in HS2022 split into {', '.join(became)}: {heading}"
    return None if heading is None else f"{heading} ({level} {code}, not in HS2022)"


def hs_descriptions() -> pd.DataFrame:
    """Return the table of HS2022 descriptions (a copy).

    Returns
    -------
    pandas.DataFrame
        Columns ``hs`` (2, 4 or 6 digits, as text), ``revision`` (``"HS2022"``) and
        ``description``, sorted by code.

    Examples
    --------
    >>> table = hs_descriptions()
    >>> table["hs"].str.len().value_counts().sort_index().tolist()
    [97, 1229, 5613]
    """
    return _table().copy()


def hs_description(codes: Any) -> pd.Series:
    """Describe HS codes in words.

    Parameters
    ----------
    codes : array-like or Series of str
        HS codes as text, leading zeros kept: chapters (2 digits), headings (4),
        subheadings (6); a national extension (CN8, HTS10) is described by its HS6
        subheading.

    Returns
    -------
    pandas.Series
        Descriptions (object dtype), same length as ``codes`` (and same index and name
        if it is a Series). A subheading HS2022 no longer has is described by its
        successors or its heading (see the module's notes); codes whose heading is
        unknown, and missing codes, are ``None``: this function never raises for them.

    Examples
    --------
    >>> described = hs_description(["854232", "85423290", "8542", "854890"])
    >>> described[0]
    'Electronic integrated circuits; memories'
    >>> described[1] == described[0], described[2]
    (True, 'Electronic integrated circuits')
    >>> described[3]  # doctest: +ELLIPSIS
    'HS2017 subheading, in HS2022 854800: Electrical parts of machinery or apparatus; ...'
    >>> hs_description(["851770"])[0]  # doctest: +ELLIPSIS
    'HS2017 subheading, in HS2022 split into 851771, 851779: Telephone sets, ...'
    >>> hs_description(["854170", "990000"]).tolist()  # doctest: +ELLIPSIS
    ['Semiconductor devices ... crystals (subheading 854170, not in HS2022)', None]
    >>> hs_description(pd.Series(["852691"], index=[7], name="hs"))
    7    Radio navigational aid apparatus
    Name: hs, dtype: object
    """
    if isinstance(codes, pd.Series):
        values, index, name = codes.to_numpy(dtype=object), codes.index, codes.name
    else:
        values = [codes] if isinstance(codes, str) else list(codes)
        index, name = None, None
    found = {code: _describe(code) for code in {str(v) for v in values if not pd.isna(v)}}
    described = [found.get(str(value)) if not pd.isna(value) else None for value in values]
    return pd.Series(described, index=index, name=name, dtype=object)
