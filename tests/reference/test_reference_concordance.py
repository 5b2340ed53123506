"""HS revision concordance (anomaly.reference.concordance)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from anomaly.reference import RELATIONS, chp_codes, harmonize_hs, hs_concordance
from anomaly.reference._resources import read_table


def _successors(table: pd.DataFrame, code: str, revision: str = "HS2017") -> set[str]:
    rows = table[(table["from_revision"] == revision) & (table["from_code"] == code)]
    return set(rows["to_code"])


def test_table_shape_and_values():
    table = hs_concordance()
    assert list(table.columns) == [
        "from_revision",
        "from_code",
        "to_revision",
        "to_code",
        "relation",
        "primary",
        "note",
    ]
    assert table["from_code"].str.fullmatch(r"\d{6}").all()
    assert table["to_code"].str.fullmatch(r"\d{6}").all()
    assert set(table["relation"]) <= set(RELATIONS) - {"unchanged"}
    assert table["primary"].dtype == bool
    pairs = set(zip(table["from_revision"], table["to_revision"], strict=True))
    assert pairs == {("HS2012", "HS2017"), ("HS2017", "HS2022")}
    assert not table.duplicated(["from_revision", "from_code", "to_code"]).any()


def test_every_from_code_has_exactly_one_primary_successor():
    table = hs_concordance()
    counts = table.groupby(["from_revision", "from_code"])["primary"].sum()
    assert (counts == 1).all(), counts[counts != 1]
    split = table[table["relation"] == "1:n"]
    assert (split.groupby("from_code").size() > 1).all()


def test_documented_correspondences():
    table = hs_concordance()
    assert _successors(table, "854890") == {"854800"}
    assert _successors(table, "880330") == {"880730"}
    assert _successors(table, "852580") == {"852581", "852582", "852583", "852589"}
    assert _successors(table, "854140") == {"854141", "854142", "854143", "854149"}
    assert _successors(table, "854150") == {"854151", "854159"}


def test_covers_every_chp_code_and_predecessor():
    table = hs_concordance()
    chp = read_table("chp.csv")
    hs2022_targets = set(table.loc[table["to_revision"] == "HS2022", "to_code"])
    assert chp_codes() <= hs2022_targets
    predecessors = set(chp["hs2017_predecessor"])
    assert predecessors <= set(table.loc[table["from_revision"] == "HS2017", "from_code"])
    assert predecessors <= set(table.loc[table["from_revision"] == "HS2012", "to_code"])


def test_every_chp_predecessor_is_filed_under_its_chp_code():
    chp = read_table("chp.csv")
    # 854150 split into 854151 and 854159, both on the list: its history goes to 854159.
    expected = chp["hs6"].replace({"854151": "854159"}).tolist()
    periods = pd.PeriodIndex(["2019-06"] * len(chp), freq="M")
    assert harmonize_hs(chp["hs2017_predecessor"], periods).tolist() == expected
    periods_2012 = pd.PeriodIndex(["2015"] * len(chp), freq="Y")
    assert harmonize_hs(chp["hs2017_predecessor"], periods_2012).tolist() == expected


def test_harmonize_examples():
    periods = pd.PeriodIndex(["2019-01", "2023-01", "2016-12", "2022-01", "2021-12"], freq="M")
    result = harmonize_hs(["854890", "854800", "854890", "854890", "854150"], periods)
    assert result.tolist() == ["854800", "854800", "854800", "854890", "854159"]


def test_relations_and_flags():
    periods = pd.PeriodIndex(
        ["2019-01", "2019-01", "2019-01", "2023-01", "2019-01", "2019-01"], freq="M"
    )
    codes = ["854890", "85414010", "85423190", "85414010", "852580", "1234"]
    result = harmonize_hs(codes, periods, return_relation=True)
    assert list(result.columns) == ["hs", "relation", "approximate", "truncated"]
    assert result["hs"].tolist() == ["854800", "854149", "85423190", "85414010", "852589", "1234"]
    assert result["relation"].tolist() == [
        "1:1",
        "1:n",
        "unchanged",
        "unchanged",
        "1:n",
        "unchanged",
    ]
    assert result["approximate"].tolist() == [False, True, False, False, True, False]
    assert result["truncated"].tolist() == [False, True, False, False, False, False]


def test_series_index_period_series_and_missing_codes():
    codes = pd.Series(["854890", None, "880330"], index=["a", "b", "c"], name="product")
    periods = pd.Series(
        pd.PeriodIndex(["2018-03", "2018-03", "2020-07"], freq="M"), index=codes.index
    )
    result = harmonize_hs(codes, periods)
    assert result.index.tolist() == ["a", "b", "c"] and result.name == "product"
    assert result.iloc[0] == "854800" and pd.isna(result.iloc[1]) and result.iloc[2] == "880730"
    relation = harmonize_hs(codes, periods, return_relation=True)
    assert relation.index.tolist() == ["a", "b", "c"]
    assert not relation["approximate"].iloc[1]


def test_scalar_period_and_integer_years():
    assert harmonize_hs(["854890", "854231"], pd.Period("2020", freq="Y")).tolist() == [
        "854800",
        "854231",
    ]
    assert harmonize_hs(["854890", "854890"], [2019, 2022]).tolist() == ["854800", "854890"]


def test_bad_periods():
    with pytest.raises(ValueError, match="length"):
        harmonize_hs(["854890", "854800"], pd.PeriodIndex(["2019-01"], freq="M"))
    with pytest.raises(TypeError, match="Period"):
        harmonize_hs(["854890"], ["2019-01"])


def test_returns_copies():
    table = hs_concordance()
    table.loc[:, "to_code"] = "000000"
    assert (hs_concordance()["to_code"] != "000000").all()


def test_vectorised_on_a_million_rows():
    rng = np.random.default_rng(0)
    pool = np.array(["854890", "85414090", "85423190", "880330", "847150", "854800"], dtype=object)
    codes = pool[rng.integers(0, len(pool), 1_000_000)]
    periods = pd.PeriodIndex(
        pd.period_range("2015-01", "2024-12", freq="M")[rng.integers(0, 120, 1_000_000)]
    )
    start = time.perf_counter()
    result = harmonize_hs(codes, periods, return_relation=True)
    elapsed = time.perf_counter() - start
    assert len(result) == 1_000_000
    expect = np.where(
        (codes == "854890") & (periods.year >= 2017) & (periods.year < 2022), "854800", None
    )
    chosen = expect != None  # noqa: E711 - elementwise comparison on an object array
    assert (result["hs"].to_numpy()[chosen] == "854800").all()
    assert elapsed < 5.0, f"harmonize_hs took {elapsed:.2f}s for 10^6 rows"
