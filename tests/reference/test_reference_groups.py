"""Country groups (anomaly.reference.groups)."""

from __future__ import annotations

import pytest

from anomaly.reference import countries, country_group, country_groups, group_sources

EXPECTED_GROUPS = {
    "RUS",
    "BLR",
    "EAEU",
    "EU27",
    "G7",
    "coalition",
    "central_asia_caucasus",
    "fincen_bis_2022",
    "transit",
}


def test_known_groups_and_sources():
    groups = country_groups()
    assert set(groups) == EXPECTED_GROUPS
    sources = group_sources()
    assert set(sources) == EXPECTED_GROUPS
    assert all(len(text) > 20 for text in sources.values())


def test_every_member_is_in_the_country_table():
    known = set(countries()["alpha3"])
    for name, members in country_groups().items():
        assert members and members <= known, name


def test_eu27_and_g7():
    eu = country_group("EU27")
    assert len(eu) == 27 and "GBR" not in eu and {"DEU", "FRA", "HRV", "CYP"} <= eu
    assert country_group("G7") == frozenset({"CAN", "FRA", "DEU", "ITA", "JPN", "GBR", "USA"})


def test_coalition_is_eu_plus_supplement_3_plus_usa():
    partners = {"AUS", "CAN", "ISL", "JPN", "LIE", "NZL", "NOR", "KOR", "CHE", "TWN", "GBR", "USA"}
    assert country_group("coalition") == country_group("EU27") | partners
    assert country_group("G7") <= country_group("coalition")


def test_russia_groups_and_neighbours():
    assert country_group("RUS") == frozenset({"RUS"})
    assert country_group("BLR") == frozenset({"BLR"})
    transit = country_group("transit")
    assert {"ARM", "GEO", "KAZ", "KGZ", "UZB", "AZE", "TJK", "TKM", "MNG", "ARE", "TUR"} <= transit
    assert country_group("central_asia_caucasus") == frozenset(
        {"AZE", "GEO", "KAZ", "KGZ", "UZB", "ARM"}
    )
    assert country_group("central_asia_caucasus") <= transit
    assert not transit & (country_group("coalition") | {"RUS", "BLR"})
    assert len(country_group("fincen_bis_2022")) == 18
    assert country_group("EAEU") == frozenset({"ARM", "BLR", "KAZ", "KGZ", "RUS"})


def test_group_names_case_insensitive_fallback():
    assert country_group("eu27") == country_group("EU27")


def test_unknown_group_lists_known_names():
    with pytest.raises(KeyError, match="coalition"):
        country_group("NATO")


def test_loaders_return_copies():
    groups = country_groups()
    groups["EU27"] = frozenset()
    del groups["G7"]
    assert len(country_groups()["EU27"]) == 27 and "G7" in country_groups()
    sources = group_sources()
    sources["EU27"] = "changed"
    assert group_sources()["EU27"] != "changed"
    assert isinstance(country_group("EU27"), frozenset)
