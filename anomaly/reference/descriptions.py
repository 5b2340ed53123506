"""What an HS code stands for: descriptions of the HS2022 chapters, headings and
subheadings.

The table ``data/hs_descriptions.csv.gz`` holds UN Comtrade's descriptions of every
HS2022 code of 2, 4 and 6 digits (97 chapters, 1,229 headings, 5,613 subheadings), in
the public domain (ODC-PDDL-1.0); how it was obtained and rebuilt is in
``data/PROVENANCE.md``. They describe, they do not classify: the legal text of the
nomenclature is the WCO's. HS2017 descriptions are not shipped: an HS2017 code that no
longer exists in HS2022 (854890, 852580, 854140, ...) has none; the panel files such
series under their HS2022 successors (:func:`~anomaly.reference.harmonize_hs`), which
have one.
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
        if it is a Series). Codes that are not HS2022 codes, and missing codes, are
        ``None``: this function never raises for them.

    Examples
    --------
    >>> described = hs_description(["854232", "85423290", "8542", "854890"])
    >>> described[0]
    'Electronic integrated circuits; memories'
    >>> described[1] == described[0], described[2], described[3]
    (True, 'Electronic integrated circuits', None)
    >>> hs_description(pd.Series(["852691"], index=[7], name="hs"))
    7    Radio navigational aid apparatus
    Name: hs, dtype: object
    """
    if isinstance(codes, pd.Series):
        values, index, name = codes.to_numpy(dtype=object), codes.index, codes.name
    else:
        values = [codes] if isinstance(codes, str) else list(codes)
        index, name = None, None
    lookup = _lookup()
    # National extensions (CN8, HTS10) share their first six digits with the HS code.
    found = {
        code: lookup.get(code if len(code) <= 6 else code[:6])
        for code in {str(value) for value in values if not pd.isna(value)}
    }
    described = [found.get(str(value)) if not pd.isna(value) else None for value in values]
    return pd.Series(described, index=index, name=name, dtype=object)
