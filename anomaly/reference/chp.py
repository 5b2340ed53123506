"""The Common High Priority (CHP) list of dual-use items, by version.

The CHP list of the US (BIS), EU, UK and Japan names HS6 codes of battlefield goods
found in Russian weapons. Version ``"2023-09"`` has 45 codes in tiers 1 to 4.A;
version ``"2024-02"`` (23 February 2024) adds five tier 4.B machine-tool codes, 50 in
all. Six codes are HS2022 codes whose earlier history sits under other HS2017 codes;
see :func:`~anomaly.reference.harmonize_hs`. Provenance: ``data/PROVENANCE.md``.
"""

from __future__ import annotations

import pandas as pd

from anomaly.reference._resources import read_table

__all__ = ["CHP_VERSIONS", "chp_codes", "chp_list"]

#: Published versions and the column of ``data/chp.csv`` that marks their members.
_VERSION_COLUMNS = {"2023-09": "in_2023_09", "2024-02": "in_2024_02"}
CHP_VERSIONS: tuple[str, ...] = tuple(_VERSION_COLUMNS)


def _members(version: str) -> pd.DataFrame:
    if version not in _VERSION_COLUMNS:
        raise ValueError(
            f"unknown CHP list version {version!r}; expected one of {', '.join(CHP_VERSIONS)}"
        )
    table = read_table("chp.csv")
    return table.loc[table[_VERSION_COLUMNS[version]] == "true"]


def chp_list(version: str = "2024-02") -> pd.DataFrame:
    """Return the CHP list of one version.

    Parameters
    ----------
    version : {"2024-02", "2023-09"}
        ``"2024-02"``: the list of 23 February 2024 (50 codes); ``"2023-09"``: the
        September 2023 list (45 codes, without tier 4.B).

    Returns
    -------
    pandas.DataFrame
        Columns ``hs6`` (6-digit HS2022 code as text, leading zeros kept), ``tier``
        (``"1"``, ``"2"``, ``"3.A"``, ``"3.B"``, ``"4.A"``, ``"4.B"``) and ``label`` (a short
        description written for this package, not the official text), in list order.
        A new frame on every call.

    Raises
    ------
    ValueError
        If ``version`` is not a known version.

    Examples
    --------
    >>> chp = chp_list()
    >>> len(chp), chp.loc[chp["hs6"] == "854231", "tier"].item()
    (50, '1')
    >>> len(chp_list("2023-09"))
    45
    """
    return _members(version)[["hs6", "tier", "label"]].reset_index(drop=True).copy()


def chp_codes(version: str = "2024-02") -> frozenset[str]:
    """Return the HS6 codes of one CHP list version as a frozenset.

    Examples
    --------
    >>> sorted(chp_codes("2024-02") - chp_codes("2023-09"))
    ['845710', '845811', '845891', '845961', '846693']
    """
    return frozenset(_members(version)["hs6"])
