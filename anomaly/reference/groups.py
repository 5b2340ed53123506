"""Named groups of countries (Russia, its transit neighbours, the sanctions coalition, ...).

Each group and its published basis is listed in ``data/country_groups_sources.csv``;
members of the ``transit`` group carry their own basis in ``data/country_groups.csv``.
"""

from __future__ import annotations

from functools import lru_cache

from anomaly.reference._resources import read_table

__all__ = ["country_group", "country_groups", "group_sources"]


@lru_cache(maxsize=1)
def _groups() -> dict[str, frozenset[str]]:
    table = read_table("country_groups.csv")
    return {
        str(group): frozenset(members)
        for group, members in table.groupby("group", sort=False)["alpha3"]
    }


def country_groups() -> dict[str, frozenset[str]]:
    """Return every group as ``{name: frozenset of alpha-3 codes}`` (a new dict each call).

    Groups: ``RUS``, ``BLR``, ``EAEU``, ``EU27``, ``G7``, ``coalition`` (countries applying
    the coordinated export controls on Russia), ``central_asia_caucasus``,
    ``fincen_bis_2022`` (transshipment points named by BIS in June 2022) and ``transit``
    (Russia's neighbours and diversion hubs). See :func:`group_sources`.

    Examples
    --------
    >>> sorted(country_groups()["central_asia_caucasus"])
    ['ARM', 'AZE', 'GEO', 'KAZ', 'KGZ', 'UZB']
    """
    return dict(_groups())


def country_group(name: str) -> frozenset[str]:
    """Return the alpha-3 codes of one group.

    Parameters
    ----------
    name : str
        A group name, e.g. ``"EU27"`` or ``"transit"``; case is ignored if there is no
        exact match.

    Returns
    -------
    frozenset of str

    Raises
    ------
    KeyError
        If there is no such group; the message lists the known names.

    Examples
    --------
    >>> sorted(country_group("G7"))
    ['CAN', 'DEU', 'FRA', 'GBR', 'ITA', 'JPN', 'USA']
    >>> "RUS" in country_group("transit")
    False
    """
    groups = _groups()
    if name in groups:
        return groups[name]
    by_folded = {key.casefold(): key for key in groups}
    if isinstance(name, str) and name.casefold() in by_folded:
        return groups[by_folded[name.casefold()]]
    raise KeyError(f"unknown country group {name!r}; known groups: {', '.join(groups)}")


def group_sources() -> dict[str, str]:
    """Return ``{group: description and published source}`` for every group.

    Examples
    --------
    >>> "Supplement No. 3 to part 746" in group_sources()["coalition"]
    True
    """
    table = read_table("country_groups_sources.csv")
    return {
        row.group: f"{row.description} Source: {row.source}"
        for row in table.itertuples(index=False)
    }
