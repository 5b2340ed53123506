"""Common High Priority list (anomaly.reference.chp)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from anomaly.reference import CHP_VERSIONS, chp_codes, chp_list

SHARED_CHP = Path(__file__).resolve().parents[3] / "shared" / "data" / "chp_list_2024.csv"


def test_versions_have_45_and_50_codes():
    assert CHP_VERSIONS == ("2023-09", "2024-02")
    assert len(chp_list("2023-09")) == 45
    assert len(chp_list("2024-02")) == 50
    assert len(chp_list()) == 50
    assert chp_codes("2023-09") < chp_codes("2024-02")


def test_the_five_additions_are_tier_4b():
    latest = chp_list("2024-02")
    added = chp_codes("2024-02") - chp_codes("2023-09")
    assert len(added) == 5
    assert set(latest.loc[latest["hs6"].isin(added), "tier"]) == {"4.B"}
    assert "4.B" not in set(chp_list("2023-09")["tier"])


def test_columns_and_code_format():
    table = chp_list()
    assert list(table.columns) == ["hs6", "tier", "label"]
    assert table["hs6"].str.fullmatch(r"\d{6}").all() and table["hs6"].is_unique
    assert set(table["tier"]) == {"1", "2", "3.A", "3.B", "4.A", "4.B"}
    assert table["label"].str.len().gt(0).all()
    assert {"854231", "854800", "852589", "854149", "854151", "854159", "880730"} <= set(
        table["hs6"]
    )
    assert table.loc[table["hs6"] == "854231", "tier"].item() == "1"


@pytest.mark.skipif(
    not SHARED_CHP.is_file(),
    reason="needs ../shared/data: the real data files beside the clone "
    "(README, 'Tests on real data')",
)
def test_matches_the_shared_source_file():
    source = pd.read_csv(SHARED_CHP, dtype=str)
    table = chp_list()
    assert table["hs6"].tolist() == source["hs6"].tolist()
    assert table["tier"].tolist() == source["tier"].tolist()
    assert chp_codes("2023-09") == set(source.loc[source["in_sep2023_45_list"] == "1", "hs6"])


def test_unknown_version_names_the_valid_ones():
    with pytest.raises(ValueError, match=r"2023-09.*2024-02"):
        chp_list("2022-06")
    with pytest.raises(ValueError, match="2024-02"):
        chp_codes("latest")


def test_returns_copies():
    table = chp_list()
    table.loc[:, "tier"] = "changed"
    del table["label"]
    again = chp_list()
    assert "label" in again and (again["tier"] != "changed").all()
    assert isinstance(chp_codes(), frozenset)
