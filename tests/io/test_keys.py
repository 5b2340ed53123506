"""Integer keys: ``factorize_sorted`` numbers values as ``pandas.factorize(sort=True)``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.io.keys import factorize_sorted


@pytest.mark.parametrize("n_distinct", [1, 7, 5_000])
def test_factorize_sorted_numbers_values_as_pandas_does(n_distinct):
    rng = np.random.default_rng(n_distinct)
    values = rng.integers(-3, 10**12, n_distinct)[rng.integers(0, n_distinct, 20_000)]
    codes, uniques = factorize_sorted(values)
    expected_codes, expected_uniques = pd.factorize(values, sort=True)
    np.testing.assert_array_equal(codes, expected_codes)
    np.testing.assert_array_equal(uniques, expected_uniques)


def test_factorize_sorted_of_nothing():
    codes, uniques = factorize_sorted(np.zeros(0, dtype=np.int64))
    assert codes.tolist() == [] and uniques.tolist() == []
