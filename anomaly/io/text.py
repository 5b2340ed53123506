"""Work on the distinct values of a column: a million rows hold a few hundred codes."""

from __future__ import annotations

import numpy as np
import pandas as pd


def as_categorical(codes: np.ndarray, per_text: pd.Series, index: pd.Index) -> pd.Series:
    """Rows ``per_text[codes]`` as a categorical Series (missing where NaN)."""
    category_codes, categories = pd.factorize(per_text, use_na_sentinel=True)
    values = pd.Categorical.from_codes(
        category_codes[codes], categories=pd.Index(categories, dtype=object)
    )
    return pd.Series(values, index=index)


def distinct_text(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Factorize ``values`` into codes and their stripped distinct texts.

    Work on the distinct texts and broadcast with ``result[codes]``: a column of a
    million rows holds a few hundred distinct codes. Missing values become ``""``;
    columns of numbers (Parquet) become their digits.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        # A dictionary column (Parquet, batch scans) already is codes and distinct
        # values: no pass over the rows but the one that moves missing codes to the end.
        codes = values.cat.codes.to_numpy()
        uniques = values.cat.categories
    else:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = np.asarray(uniques, dtype=object)
    if pd.api.types.is_float_dtype(uniques.dtype) and np.all(np.mod(uniques, 1) == 0):
        # A Parquet column of integer codes with gaps arrives as float: 2.0 means "2".
        distinct = np.asarray(uniques, dtype=np.int64).astype(object)
    text = pd.Series(np.append(distinct, ""), dtype=object)
    if (codes < 0).any():
        codes = np.where(codes < 0, len(uniques), codes.astype(np.int64))
    return codes, text.astype(str).str.strip()


def text_column(values: pd.Series) -> pd.Series:
    """Any column as stripped text: numbers as their digits, missing as ``""``."""
    codes, text = distinct_text(values)
    return pd.Series(text.to_numpy()[codes], index=values.index, dtype=object)
