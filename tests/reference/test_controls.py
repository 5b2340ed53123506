"""The controlled goods: named sets, users' lists of codes, and matching codes to them."""

from __future__ import annotations

import pandas as pd
import pytest

from anomaly.errors import DataError
from anomaly.reference import chp_codes, controlled_codes, is_controlled, read_code_list


def test_named_sets_are_the_chp_list_and_every_good():
    assert controlled_codes("chp", "2023-09") == frozenset(chp_codes("2023-09"))
    assert controlled_codes("all", "2024-02") is None
    with pytest.raises(DataError, match="unknown set"):
        controlled_codes("chp-2024-02", "2024-02")


@pytest.mark.parametrize("codes", [["85423"], ["8542319000"], ["85.42"], []])
def test_a_list_takes_only_chapters_headings_and_subheadings(codes):
    with pytest.raises(DataError):
        controlled_codes(codes, "2024-02")


def test_a_code_stands_for_every_code_under_it():
    hs = pd.Series(["85423190", "854231", "854110", "930190", "93", "8542"])
    found = is_controlled(hs, frozenset({"8542", "93"}))
    assert found.tolist() == [True, True, False, True, True, True]
    assert is_controlled(hs, None).all()


def test_a_text_list_skips_comments_blanks_and_dots(tmp_path):
    path = tmp_path / "annex.txt"
    path.write_text("# Annex XXIII\n\n8542.31  # chips\n8482\n 930190\n8482\n", encoding="utf-8")
    assert read_code_list(path) == ("854231", "8482", "930190")


def test_a_csv_list_is_read_from_its_code_column(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("tier,hs6,label\n1,854231,chips\n3.B,848220,bearings\n", encoding="utf-8")
    assert read_code_list(path) == ("854231", "848220")


def test_a_bad_line_is_named_by_file_and_line(tmp_path):
    path = tmp_path / "annex.txt"
    path.write_text("854231\nchips\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2.*'chips' is not an HS code") as caught:
        read_code_list(path)
    assert str(path) in str(caught.value)


def test_a_file_without_codes_is_refused(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# nothing yet\n", encoding="utf-8")
    with pytest.raises(DataError, match="lists no HS codes"):
        read_code_list(path)
