"""Distinct texts of a column: stripped, missing as "", the same on every call."""

from __future__ import annotations

import pandas as pd

from anomaly.io.text import distinct_text


def test_a_column_of_the_same_texts_again_gets_its_own_stripped_texts():
    column = pd.Series(pd.Categorical([" DEU", "KGZ ", None]))
    codes, text = distinct_text(column)
    assert codes.tolist() == [0, 1, 2] and text.tolist() == ["DEU", "KGZ", ""]
    text[0] = "changed"  # a caller's copy: the next batch is not affected
    assert distinct_text(column)[1].tolist() == ["DEU", "KGZ", ""]


def test_numbers_equal_as_keys_keep_their_own_spelling():
    assert distinct_text(pd.Series([True]))[1].tolist() == ["True"]
    assert distinct_text(pd.Series([1]))[1].tolist() == ["1"]
    assert distinct_text(pd.Series([1.5]))[1].tolist() == ["1.5"]
