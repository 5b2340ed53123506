"""Distinct texts of a column: stripped, missing as "", the same on every call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.io import text as text_module
from anomaly.io.text import distinct_text, remembered_by_text


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


def _counting(calls: list):
    @remembered_by_text
    def answers(texts, suffix):
        calls.append(texts)
        return (
            np.array([text + suffix for text in texts]),
            np.array([len(text) for text in texts]),
        )

    return answers


def test_remembered_answers_compute_only_texts_never_seen():
    calls = []
    answers = _counting(calls)
    first = answers(("a", "bb"), "!")
    again = answers(("ccc", "bb", "a"), "!")
    assert calls == [("a", "bb"), ("ccc",)]
    assert first[0].tolist() == ["a!", "bb!"]
    # Text answers are as wide as they need: "ccc!" is not cut to the width of "bb!".
    assert again[0].tolist() == ["ccc!", "bb!", "a!"] and again[1].tolist() == [3, 2, 1]
    assert answers(("a",), "?")[0].tolist() == ["a?"]  # other arguments, other answers
    assert calls[-1] == ("a",)
    with pytest.raises(ValueError, match="read-only"):
        again[1][0] = 7


def test_remembered_answers_keep_no_more_texts_than_the_limit(monkeypatch):
    monkeypatch.setattr(text_module, "REMEMBERED_TEXTS", 3)
    calls = []
    answers = _counting(calls)
    answers(("a", "b"), "")
    assert answers(("a", "b", "c", "d"), "")[1].tolist() == [1, 1, 1, 1]  # too many at once
    assert answers(("c", "d"), "")[0].tolist() == ["c", "d"]  # too many with those kept
    assert answers(("d", "a"), "")[0].tolist() == ["d", "a"]
    # Over the limit, each call was computed whole and nothing new was kept.
    assert calls == [("a", "b"), ("a", "b", "c", "d"), ("c", "d"), ("d",)]
