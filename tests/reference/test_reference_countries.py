"""Country table and name/code mapping (anomaly.reference.countries, .aggregates)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anomaly.reference import (
    aggregate_partners,
    countries,
    country_group,
    is_aggregate_partner,
    to_alpha3,
)

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not SHARED_DATA.is_dir(),
    reason="needs ../shared/data: the real data files beside the clone "
    "(README, 'Tests on real data')",
)


def _read(name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(SHARED_DATA / name, dtype=str, keep_default_na=False, **kwargs)


def _assert_all_resolve(values: pd.Series, where: str) -> None:
    """Every distinct value is a country or a recognised aggregate, never unknown."""
    unique = pd.Series(values.unique())
    codes = to_alpha3(unique)
    aggregate = is_aggregate_partner(unique)
    unknown = unique[codes.isna() & ~aggregate].tolist()
    assert not unknown, f"{where}: unresolved {unknown}"
    both = unique[codes.notna() & aggregate].tolist()
    assert not both, f"{where}: resolved as country and aggregate {both}"


@needs_shared
@pytest.mark.parametrize(
    ("name", "columns"),
    [
        ("comext_member_exports_totals_2019_2024.csv", ["REPORTER", "PARTNER"]),
        ("mirror_eu_exports_vs_partner_imports_2019_2023.csv", ["eu_reporter", "partner"]),
        ("eurostat_chp_exports_2020_2022.csv", ["reporter", "partner"]),
    ],
)
def test_every_eurostat_name_in_shared_data_resolves(name, columns):
    table = _read(name)
    for column in columns:
        _assert_all_resolve(table[column], f"{name}:{column}")


@needs_shared
def test_eurostat_names_map_to_eu_members_and_partners():
    table = _read("eurostat_chp_exports_2020_2022.csv")
    reporters = set(to_alpha3(pd.Series(table["reporter"].unique())))
    assert reporters == set(country_group("EU27"))
    partners = set(to_alpha3(pd.Series(table["partner"].unique())))
    assert partners == {"RUS", "BLR", "KAZ", "KGZ", "ARM", "GEO", "UZB"}


@needs_shared
def test_comext_aggregate_reporters_are_recognised_not_mapped():
    table = _read("comext_member_exports_totals_2019_2024.csv")
    reporters = pd.Series(table["REPORTER"].unique())
    aggregates = reporters[is_aggregate_partner(reporters)]
    assert len(aggregates) == 4  # two Euro area and two European Union spellings
    assert to_alpha3(aggregates).isna().all()
    countries_only = set(to_alpha3(reporters).dropna())
    assert countries_only == set(country_group("EU27")) | {"GBR"}


@needs_shared
def test_comtrade_columns_resolve_and_agree():
    # The file is UTF-8 with a BOM except for one latin-1 byte ("Curaçao").
    table = _read("comtrade_armenia_smartphones_2022_2023.csv", encoding="latin-1")
    assert set(to_alpha3(table["reporter_code"], scheme="comtrade")) == {"ARM"}
    assert set(to_alpha3(table["reporter"])) == {"ARM"}
    for column in ["partner_iso", "partner", "partner_code"]:
        _assert_all_resolve(table[column], column)
    countries_only = table[~is_aggregate_partner(table["partner_iso"])]
    expected = countries_only["partner_iso"].tolist()
    assert to_alpha3(countries_only["partner_iso"], scheme="alpha3").tolist() == expected
    assert to_alpha3(countries_only["partner_code"], scheme="comtrade").tolist() == expected
    assert to_alpha3(countries_only["partner_code"]).tolist() == expected
    assert to_alpha3(countries_only["partner"]).tolist() == expected
    nes = table[table["partner_iso"] == "_X"]
    assert len(nes) > 0
    assert is_aggregate_partner(nes["partner_code"]).all()
    assert is_aggregate_partner(nes["partner"]).all()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Russian Federation (Russia)", "RUS"),
        ("Belarus (Belorussia)", "BLR"),
        ("Kyrgyz Republic", "KGZ"),
        ("Czechia", "CZE"),
        ("Czech Republic", "CZE"),
        ("Netherlands", "NLD"),
        ("Türkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Turkiye", "TUR"),
        ("Korea, Republic of", "KOR"),
        ("Rep. of Korea", "KOR"),
        ("Viet Nam", "VNM"),
        ("China, Hong Kong SAR", "HKG"),
        ("United States of America", "USA"),
        ("USA", "USA"),
        ("Russia", "RUS"),
        ("  russian   FEDERATION ", "RUS"),
        ("Cote d'Ivoire", "CIV"),
        ("Côte d’Ivoire (Ivory Coast)", "CIV"),
        ("Curaçao", "CUW"),
        ("Ireland (Eire)", "IRL"),
        ("Spain (incl. Canary Islands 'XB' from 1997)", "ESP"),
        ("United States (incl. Navassa Island (part of 'UM') from 1995 -> 2000)", "USA"),
        ("Switzerland (incl. Liechtenstein 'LI' -> 1994)", "CHE"),
        ("Taiwan", "TWN"),
        ("United Kingdom", "GBR"),
        ("UK", "GBR"),
        ("EL", "GRC"),
        ("Kosovo", "XKX"),
        ("ru", "RUS"),
        ("rus", "RUS"),
        ("NA", "NAM"),
        (643, "RUS"),
        ("643", "RUS"),
        ("0643", "RUS"),
        (643.0, "RUS"),
        (np.int64(51), "ARM"),
        ("051", "ARM"),
        (51, "ARM"),
        (842, "USA"),
        (699, "IND"),
        (757, "CHE"),
        (251, "FRA"),
        (579, "NOR"),
    ],
)
def test_known_spellings_and_codes(value, expected):
    assert to_alpha3([value]).tolist() == [expected]


@pytest.mark.parametrize(
    ("values", "scheme", "expected"),
    [
        (
            ["0075", "075", 75, 73, "083", 1, 4, 720],
            "eurostat_geo",
            ["RUS", "RUS", "RUS", "BLR", "KGZ", "FRA", "DEU", "CHN"],
        ),
        (["004", 4], "auto", ["AFG", "AFG"]),  # a number in auto is ISO numeric, not Eurostat
        ([842, "840", 643], "numeric", [None, "USA", "RUS"]),
        ([842, "840"], "comtrade", ["USA", "USA"]),
        (["ru", "RU", "GB", "UK", "RUS"], "alpha2", ["RUS", "RUS", "GBR", "GBR", None]),
        (["rus", "USA", "RU", "Russia"], "alpha3", ["RUS", "USA", None, None]),
        (["Russia", "RUS", "643"], "name", ["RUS", None, None]),
    ],
)
def test_schemes_restrict_interpretation(values, scheme, expected):
    result = to_alpha3(values, scheme=scheme)
    assert [None if pd.isna(code) else code for code in result] == expected


def test_unknown_and_odd_values_give_missing_without_raising():
    values = ["Atlantis", "", "  ", None, np.nan, 3.5, -1, True, 999, "ZZZ", "World", b"RUS"]
    result = to_alpha3(values)
    assert len(result) == len(values)
    assert result.isna().all()


def test_aggregates_are_not_countries():
    assert to_alpha3(["World", 0, "EU", "Areas, nes", "Other Asia, nes", "_X"]).isna().all()


def test_index_and_name_preserved():
    values = pd.Series(["Germany", "Atlantis", "FRA"], index=[10, 20, 30], name="partner")
    result = to_alpha3(values)
    assert result.index.tolist() == [10, 20, 30]
    assert result.name == "partner"
    assert result.iloc[0] == "DEU" and pd.isna(result.iloc[1]) and result.iloc[2] == "FRA"


def test_scalar_and_categorical_inputs():
    assert to_alpha3("Armenia").tolist() == ["ARM"]
    assert to_alpha3(pd.Categorical(["Armenia", "Georgia", "Armenia"])).tolist() == [
        "ARM",
        "GEO",
        "ARM",
    ]


def test_unknown_scheme_raises():
    with pytest.raises(ValueError, match="eurostat_geo"):
        to_alpha3(["Russia"], scheme="iso")
    with pytest.raises(ValueError, match="alpha2"):
        is_aggregate_partner(["World"], scheme="m49")


def test_country_table_is_consistent():
    table = countries()
    assert len(table) == 250
    for column in ["alpha3", "alpha2", "name"]:
        assert table[column].notna().all() and table[column].is_unique, column
    iso = table[table["iso3166"] == "true"]
    assert len(iso) == 249
    assert iso["numeric"].str.fullmatch(r"\d{3}").all() and iso["numeric"].is_unique
    geo = table["eurostat_geo"].dropna()
    assert geo.str.fullmatch(r"\d{3}").all() and geo.is_unique
    by_alpha3 = table.set_index("alpha3")
    expected_geo = {
        "FRA": "001",
        "NLD": "003",
        "DEU": "004",
        "ITA": "005",
        "GBR": "006",
        "RUS": "075",
        "BLR": "073",
        "ARM": "077",
        "GEO": "076",
        "KAZ": "079",
        "UZB": "081",
        "KGZ": "083",
        "USA": "400",
        "CHN": "720",
        "HKG": "740",
    }
    for alpha3, code in expected_geo.items():
        assert by_alpha3.loc[alpha3, "eurostat_geo"] == code, alpha3
    assert by_alpha3.loc[list(country_group("EU27")), "eurostat_geo"].notna().all()


def test_countries_returns_a_copy():
    first = countries()
    first.loc[:, "name"] = "changed"
    del first["aliases"]
    again = countries()
    assert "aliases" in again and (again["name"] != "changed").all()


def test_no_country_spelling_is_an_aggregate_and_vice_versa():
    table = countries()
    spellings = pd.Series(
        [*table["name"], *table["aliases"].dropna().str.split("|").explode(), *table["alpha3"]]
    )
    assert not is_aggregate_partner(spellings).any()
    aggregates = aggregate_partners()
    names = pd.Series(
        [*aggregates["name"], *aggregates["aliases"].dropna().str.split("|").explode()]
    )
    assert to_alpha3(names).isna().all()
    assert is_aggregate_partner(names).all()


def test_aggregate_codes_by_scheme():
    assert is_aggregate_partner([958, "0958", 950, 75], scheme="eurostat_geo").tolist() == [
        True,
        True,
        True,
        False,
    ]
    assert is_aggregate_partner([0, 97, 899, 490, 643], scheme="comtrade").tolist() == [
        True,
        True,
        True,
        True,
        False,
    ]
    assert is_aggregate_partner(["QU", "QV", "W00", "EU27_2020", "RU"]).tolist() == [
        True,
        True,
        True,
        True,
        False,
    ]
    assert is_aggregate_partner(["Areas, nes", "_X"], scheme="alpha3").tolist() == [False, True]
    flags = is_aggregate_partner(pd.Series(["World", None, "Russia"], index=[5, 6, 7]))
    assert flags.dtype == bool and flags.index.tolist() == [5, 6, 7]
    assert flags.tolist() == [True, False, False]


def test_aggregate_partners_returns_a_copy():
    table = aggregate_partners()
    table.loc[:, "name"] = "changed"
    assert (aggregate_partners()["name"] != "changed").all()


def test_vectorised_on_a_million_rows():
    names = [*countries()["name"], "Russian Federation (Russia)", 643, "Atlantis"]
    values = pd.Series(np.resize(np.array(names, dtype=object), 1_000_000))
    to_alpha3(values.head(10))  # build the lookups outside the timed part
    start = time.perf_counter()
    result = to_alpha3(values)
    elapsed = time.perf_counter() - start
    assert len(result) == 1_000_000
    assert result.iloc[len(names) - 3] == "RUS" and pd.isna(result.iloc[len(names) - 1])
    assert elapsed < 3.0, f"to_alpha3 took {elapsed:.2f}s for 10^6 rows"
