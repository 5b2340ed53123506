"""Partners that are not countries: World, the EU, "Areas, nes", secret or unallocated trade.

UN Comtrade reports these with partner codes of their own (``0`` World, ``97`` EU,
``899`` "Areas, nes"), Eurostat with names (``Extra-EU27 (from 2020)``), GEO numbers
(``0958``) and alpha-2 codes from the ISO user-assigned range (``QU``). Readers use
:func:`is_aggregate_partner` to drop or report such rows instead of calling them unknown
countries; :func:`~anomaly.reference.to_alpha3` never maps them to a country.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from anomaly.reference._keys import as_code_number, map_unique, normalize_name, strip_qualifier
from anomaly.reference._resources import read_table
from anomaly.reference.countries import check_scheme

__all__ = ["aggregate_partners", "is_aggregate_partner"]


@dataclass(frozen=True)
class _AggregateKeys:
    comtrade: set[int] = field(default_factory=set)
    eurostat: set[int] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)


def _split(cell: object) -> list[str]:
    return cell.split("|") if isinstance(cell, str) else []


@lru_cache(maxsize=1)
def _keys() -> _AggregateKeys:
    keys = _AggregateKeys()
    for row in read_table("aggregates.csv").itertuples(index=False):
        keys.comtrade.update(int(code) for code in _split(row.comtrade_code))
        keys.eurostat.update(int(code) for code in _split(row.eurostat_geo))
        keys.codes.update(code.upper() for code in _split(row.codes))
        keys.names.update(normalize_name(text) for text in [row.name, *_split(row.aliases)])
    return keys


def aggregate_partners() -> pd.DataFrame:
    """Return the table of non-country partners (a copy).

    Returns
    -------
    pandas.DataFrame
        Columns ``key`` (an identifier of this package), ``name``, ``kind`` (``world``,
        ``union``, ``unspecified``, ``special``, ``region_nes``, ``former``),
        ``comtrade_code``, ``eurostat_geo``, ``codes`` (text codes) and ``aliases``;
        multiple entries in a cell are "|"-separated.

    Examples
    --------
    >>> table = aggregate_partners()
    >>> table.loc[table["key"] == "WLD", "comtrade_code"].item()
    '0'
    """
    return read_table("aggregates.csv").copy()


def _is_aggregate(value: Hashable, scheme: str, keys: _AggregateKeys) -> bool:
    number = as_code_number(value)
    if number is not None:
        if scheme == "eurostat_geo":
            return number in keys.eurostat
        return scheme in ("auto", "numeric", "comtrade") and number in keys.comtrade
    if not isinstance(value, str) or scheme in ("numeric", "comtrade", "eurostat_geo"):
        return False
    text = value.strip()
    if scheme != "name" and text.upper() in keys.codes:
        return True
    if scheme in ("alpha2", "alpha3"):
        return False
    if normalize_name(text) in keys.names:
        return True
    return "(" in text and normalize_name(strip_qualifier(text)) in keys.names


def is_aggregate_partner(values: Any, scheme: str = "auto") -> pd.Series:
    """Tell which values name a non-country partner (World, EU, "Areas, nes", ...).

    Parameters
    ----------
    values : array-like or Series
        Partner names or codes, as given to :func:`~anomaly.reference.to_alpha3`.
    scheme : str
        As in :func:`~anomaly.reference.to_alpha3`. Numbers are UN Comtrade codes except
        with ``"eurostat_geo"``, where they are Comext GEO numbers (``958``: not specified).

    Returns
    -------
    pandas.Series
        Booleans, same length (and index, if a Series) as ``values``; missing values
        give False.

    Examples
    --------
    >>> values = ["World", 0, "Areas, nes", "_X", "Extra-EU27 (from 2020)", "Russia"]
    >>> is_aggregate_partner(values).tolist()
    [True, True, True, True, True, False]
    """
    check_scheme(scheme)
    keys = _keys()
    mapped, index, name = map_unique(values, lambda value: _is_aggregate(value, scheme, keys))
    return pd.Series(mapped.astype(bool), index=index, name=name, dtype=bool)
