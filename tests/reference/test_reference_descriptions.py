"""Descriptions of HS codes (anomaly.reference.descriptions)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from anomaly.reference import (
    HS_DESCRIPTION_REVISION,
    chp_list,
    harmonize_hs,
    hs_description,
    hs_descriptions,
)

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
SANCTIONED_DEV = SHARED_DATA / "eurostat_sanctioned_exports_2020_2021_dev.csv.gz"


def test_every_hs2022_chapter_heading_and_subheading_is_described():
    table = hs_descriptions()
    assert list(table.columns) == ["hs", "revision", "description"]
    assert set(table["revision"]) == {HS_DESCRIPTION_REVISION} == {"HS2022"}
    assert table["hs"].is_unique and table["hs"].str.fullmatch(r"\d{2}|\d{4}|\d{6}").all()
    assert table["description"].str.len().gt(0).all()
    lengths = table["hs"].str.len().value_counts()
    assert (lengths[2], lengths[4]) == (97, 1229)
    assert lengths[6] > 5_600
    # Each subheading sits under a described heading, each heading under a chapter.
    codes = set(table["hs"])
    assert all(code[:4] in codes and code[:2] in codes for code in codes if len(code) == 6)


def test_every_chp_code_and_every_harmonized_code_is_described():
    codes = chp_list()["hs6"]
    assert hs_description(codes).notna().all()
    # The HS2017 predecessors are described by what they became; their series are
    # filed under HS2022 successors, which have HS2022's own words.
    predecessors = ["854890", "852580", "854140", "854150", "880330"]
    assert hs_description(predecessors).str.startswith("HS2017 subheading").all()
    harmonized = harmonize_hs(pd.Series(predecessors), pd.Series([2019] * 5))
    assert hs_description(harmonized).notna().all()


@pytest.mark.skipif(not SANCTIONED_DEV.exists(), reason=f"needs ../shared/data ({SANCTIONED_DEV})")
def test_every_code_of_the_broad_sanctioned_extract_is_described():
    """Every CN8/HS4 code of 1,432 HS6 goods in 2020-2021 (HS2017) gets words."""
    codes = pd.read_csv(SANCTIONED_DEV, usecols=["product"], dtype=str)["product"].unique()
    digits = pd.Series(codes).str.extract(r"^(\d+)")[0].dropna()
    described = hs_description(digits)
    assert described.notna().all(), sorted(set(digits[described.isna()]))[:10]


def test_the_words_are_those_of_the_code():
    described = hs_description(["854231", "880730", "8542", "85"])
    assert described[0].startswith("Electronic integrated circuits; processors and controllers")
    assert "unmanned aircraft" in described[1]
    assert described[2] == "Electronic integrated circuits"
    assert described[3].startswith("Electrical machinery and equipment")


def test_national_extensions_take_their_subheadings_words():
    assert (
        hs_description(["85423190", "8542319000"]).tolist()
        == hs_description(["854231", "854231"]).tolist()
    )


def test_unknown_and_missing_codes_are_none_and_never_raise():
    described = hs_description(["000000", "", "8", None, float("nan"), "990000"])
    assert described.tolist() == [None] * 6


def test_a_subheading_hs2022_deleted_is_described_by_what_it_became():
    renumbered, split = hs_description(["854890", "85414000"])
    assert renumbered == "HS2017 subheading, in HS2022 854800: " + hs_description("854800")[0]
    assert split.startswith("HS2017 subheading, in HS2022 split into 854141, 854142, 854143")
    assert split.endswith(hs_description("8541")[0])


def test_a_subheading_unknown_to_the_concordance_is_described_by_its_heading():
    (described,) = hs_description(["854170"])
    assert described == hs_description("8541")[0] + " (subheading 854170, not in HS2022)"


def test_a_series_keeps_its_index_and_name():
    codes = pd.Series(["854232", "000000"], index=[10, 20], name="hs")
    described = hs_description(codes)
    assert described.index.tolist() == [10, 20] and described.name == "hs"
    assert described[10] == "Electronic integrated circuits; memories"
    assert described[20] is None


def test_a_single_code_is_one_row_and_the_table_is_a_copy():
    assert len(hs_description("854232")) == 1
    table = hs_descriptions()
    table.loc[0, "description"] = "changed"
    assert hs_descriptions().loc[0, "description"] != "changed"
