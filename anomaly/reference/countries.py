"""The country table and :func:`to_alpha3`, which maps names and codes to ISO alpha-3.

Trade sources name countries in many ways: Eurostat writes ``Russian Federation (Russia)``,
UN Comtrade ``Rep. of Korea`` and numeric codes of its own (``842`` for the USA), Comext
bulk files use Eurostat's GEO numbers (``0075`` for Russia). One table holds them all.
Aggregates (World, EU, "Areas, nes") are not countries; see :mod:`.aggregates`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from anomaly.reference._keys import as_code_number, map_unique, normalize_name, strip_qualifier
from anomaly.reference._resources import read_table

__all__ = ["SCHEMES", "countries", "to_alpha3"]

#: Accepted values of ``scheme`` in :func:`to_alpha3` and ``is_aggregate_partner``.
SCHEMES: tuple[str, ...] = (
    "auto",
    "name",
    "alpha3",
    "alpha2",
    "numeric",
    "comtrade",
    "eurostat_geo",
)

# Codes outside ISO 3166-1 alpha-2 that statistics offices use for a country: Eurostat
# writes EL for Greece and UK for the United Kingdom (ISO reserves both for these uses).
_EXTRA_ALPHA2 = {"EL": "GRC", "UK": "GBR"}


@dataclass(frozen=True)
class _Lookups:
    alpha3: dict[str, str] = field(default_factory=dict)
    alpha2: dict[str, str] = field(default_factory=dict)
    numeric: dict[int, str] = field(default_factory=dict)
    comtrade: dict[int, str] = field(default_factory=dict)
    eurostat: dict[int, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def _add(table: dict[Any, str], key: Any, alpha3: str, what: str) -> None:
    # A key claimed by two countries would make lookups depend on file order: refuse it.
    previous = table.setdefault(key, alpha3)
    if previous != alpha3:
        raise ValueError(f"countries.csv: {what} {key!r} maps to both {previous} and {alpha3}")


@lru_cache(maxsize=1)
def _lookups() -> _Lookups:
    table = read_table("countries.csv")
    found = _Lookups()
    for row in table.itertuples(index=False):
        alpha3 = row.alpha3
        _add(found.alpha3, alpha3, alpha3, "alpha-3")
        _add(found.alpha2, row.alpha2, alpha3, "alpha-2")
        if isinstance(row.numeric, str):
            _add(found.numeric, int(row.numeric), alpha3, "numeric code")
            _add(found.comtrade, int(row.numeric), alpha3, "Comtrade code")
        if isinstance(row.comtrade_code, str):
            _add(found.comtrade, int(row.comtrade_code), alpha3, "Comtrade code")
        if isinstance(row.eurostat_geo, str):
            _add(found.eurostat, int(row.eurostat_geo), alpha3, "Eurostat GEO code")
        spellings = [row.name, *(row.aliases.split("|") if isinstance(row.aliases, str) else [])]
        for spelling in spellings:
            _add(found.names, normalize_name(spelling), alpha3, "name")
    for code, alpha3 in _EXTRA_ALPHA2.items():
        _add(found.alpha2, code, alpha3, "alpha-2")
    # In "auto" a 2- or 3-letter value is tried as a code first: a name alias that spells
    # another country's code would be unreachable, so reject it here.
    for key, alpha3 in found.names.items():
        other = found.alpha2.get(key.upper()) or found.alpha3.get(key.upper())
        if other is not None and other != alpha3:
            raise ValueError(f"countries.csv: name {key!r} of {alpha3} is the code of {other}")
    return found


def countries() -> pd.DataFrame:
    """Return the country table (a copy: changing it does not change the next call).

    Returns
    -------
    pandas.DataFrame
        One row per ISO 3166-1 country or territory (plus Kosovo, ``XKX``), columns
        ``alpha3``, ``alpha2``, ``numeric`` (3-digit ISO code, = UN M49), ``comtrade_code``
        (the code UN Comtrade uses, which differs from ISO for a few countries, e.g. 842
        for the USA), ``eurostat_geo`` (Eurostat Comext GEO number, 3 digits, blank where
        Comext has none), ``name``, ``aliases`` ("|"-separated) and ``iso3166``
        ("true"/"false"). All columns are text.

    Examples
    --------
    >>> table = countries()
    >>> table.loc[table["alpha3"] == "RUS", ["alpha2", "numeric", "eurostat_geo"]].values.tolist()
    [['RU', '643', '075']]
    """
    return read_table("countries.csv").copy()


def _resolve_name(value: str, names: dict[str, str]) -> str | None:
    found = names.get(normalize_name(value))
    if found is None and "(" in value:
        found = names.get(normalize_name(strip_qualifier(value)))
    return found


def _resolver(scheme: str) -> Callable[[Hashable], str | None]:
    tables = _lookups()

    def by_number(table: dict[int, str]) -> Callable[[Hashable], str | None]:
        def resolve(value: Hashable) -> str | None:
            number = as_code_number(value)
            return None if number is None else table.get(number)

        return resolve

    def by_code(table: dict[str, str]) -> Callable[[Hashable], str | None]:
        def resolve(value: Hashable) -> str | None:
            return table.get(value.strip().upper()) if isinstance(value, str) else None

        return resolve

    def by_name(value: Hashable) -> str | None:
        return _resolve_name(value, tables.names) if isinstance(value, str) else None

    def auto(value: Hashable) -> str | None:
        # Numbers are ISO numeric codes, then UN Comtrade's own codes (which never reuse
        # an ISO number); never Eurostat GEO numbers, which overlap ISO ones.
        number = as_code_number(value)
        if number is not None:
            return tables.comtrade.get(number)
        if not isinstance(value, str):
            return None
        text = value.strip()
        if len(text) == 2 and (found := tables.alpha2.get(text.upper())):
            return found
        if len(text) == 3 and (found := tables.alpha3.get(text.upper())):
            return found
        return _resolve_name(text, tables.names)

    resolvers = {
        "auto": auto,
        "name": by_name,
        "alpha3": by_code(tables.alpha3),
        "alpha2": by_code(tables.alpha2),
        "numeric": by_number(tables.numeric),
        "comtrade": by_number(tables.comtrade),
        "eurostat_geo": by_number(tables.eurostat),
    }
    return resolvers[scheme]


def check_scheme(scheme: str) -> None:
    """Raise ValueError unless ``scheme`` is one of :data:`SCHEMES`."""
    if scheme not in SCHEMES:
        raise ValueError(
            f"unknown country code scheme {scheme!r}; expected one of {', '.join(SCHEMES)}"
        )


def to_alpha3(values: Any, scheme: str = "auto") -> pd.Series:
    """Map country names or codes to ISO 3166-1 alpha-3 codes.

    Parameters
    ----------
    values : array-like or Series
        Names, aliases, alpha-3, alpha-2 or numeric codes (int or str, any zero padding).
        Names match ignoring case, accents, punctuation and spacing, and a trailing
        parenthesised note is dropped if the full name is unknown (Eurostat's
        ``Spain (incl. Canary Islands 'XB' from 1997)``).
    scheme : {"auto", "name", "alpha3", "alpha2", "numeric", "comtrade", "eurostat_geo"}
        How to read the values. ``"auto"`` reads numbers as ISO numeric codes (falling back
        to UN Comtrade's own codes such as 842 for the USA, which no ISO code reuses),
        2 letters as alpha-2, 3 letters as alpha-3 and anything else as a name.
        ``"numeric"`` accepts ISO codes only, ``"comtrade"`` ISO codes and Comtrade's own;
        ``"eurostat_geo"`` reads Eurostat Comext GEO numbers (``75`` or ``"0075"`` is
        Russia), which overlap ISO numbers and so are never guessed.

    Returns
    -------
    pandas.Series
        Alpha-3 codes, same length as ``values`` (and same index and name if it is a
        Series). Unknown values and aggregates such as "World" are missing (NA); this
        function never raises for them, so a reader can list them in its own error.

    Raises
    ------
    ValueError
        If ``scheme`` is not one of the accepted values.

    Notes
    -----
    The work is done once per distinct value, so a column of 10^6 rows with a few
    hundred country names maps in well under a second.

    Examples
    --------
    >>> names = ["Russian Federation (Russia)", "Belarus (Belorussia)", "USA", 842, "020"]
    >>> to_alpha3(names).tolist()
    ['RUS', 'BLR', 'USA', 'USA', 'AND']
    >>> to_alpha3(["0075", 83], scheme="eurostat_geo").tolist()
    ['RUS', 'KGZ']
    >>> to_alpha3(["World", "Atlantis"]).isna().tolist()
    [True, True]
    """
    check_scheme(scheme)
    mapped, index, name = map_unique(values, _resolver(scheme))
    return pd.Series(mapped, index=index, name=name)
