"""Period spellings of the sources, parsed by distinct value."""

from __future__ import annotations

import pandas as pd
import pytest

from anomaly.io.periods import _parse_unique, parse_periods


@pytest.mark.parametrize(
    ("spelling", "period"),
    [
        ("2023-01", pd.Period("2023-01", "M")),
        ("2023-1", pd.Period("2023-01", "M")),
        ("202301", pd.Period("2023-01", "M")),
        ("2023-01-01", pd.Period("2023-01", "M")),
        ("2023M01", pd.Period("2023-01", "M")),
        ("2023M7", pd.Period("2023-07", "M")),
        ("Jan. 2023", pd.Period("2023-01", "M")),
        ("May. 2024", pd.Period("2024-05", "M")),
        ("Sept. 2020", pd.Period("2020-09", "M")),
        ("June 2021", pd.Period("2021-06", "M")),
        ("201910-Oct. 2019", pd.Period("2019-10", "M")),
        (" 2020-02 ", pd.Period("2020-02", "M")),
        ("2022", pd.Period("2022", "Y")),
        ("202252", pd.Period("2022", "Y")),
        ("201952-Jan.-Dec. 2019", pd.Period("2019", "Y")),
    ],
)
def test_spellings(spelling, period):
    ordinals, freqs = parse_periods(pd.Series([spelling]))
    assert pd.Period(ordinal=ordinals[0], freq=freqs[0]) == period


@pytest.mark.parametrize(
    "spelling",
    [
        "2023-13",
        "202300",
        "202313",
        "2023M13",
        "2022M52",
        "2023M",
        "201910-Nov. 2019",
        "Foo 2023",
        "23-01",
        "1850",
        "",
        None,
    ],
)
def test_unparseable(spelling):
    ordinals, freqs = parse_periods(pd.Series([spelling], dtype=object))
    assert (ordinals[0], freqs[0]) == (-1, "")


def test_many_rows_few_spellings():
    values = pd.Series(["2021-03", "Apr. 2021", "202105"] * 100_000, dtype="string")
    ordinals, freqs = parse_periods(values)
    months = pd.PeriodIndex.from_ordinals(ordinals[:3], freq="M").strftime("%Y-%m").tolist()
    assert months == ["2021-03", "2021-04", "2021-05"]
    assert (freqs == "M").all()


def test_canonical_months_read_without_patterns_agree_with_the_patterns():
    # YYYY-MM is read by a shortcut; every spelling near it must read as the patterns
    # read it, whether it takes the shortcut or not.
    spellings = ["1899-12", "1900-01", "2023-01", "2023-12", "2100-12", "2101-01", "2023-00"]
    spellings += ["2023-13", "2023-1", " 2023-01", "2023-01 ", "2023-01-01", "٢٠٢٣-٠١"]
    ordinals, freqs = parse_periods(pd.Series(spellings))
    expected_ordinals, expected_freqs = _parse_unique(pd.Series(spellings).str.strip())
    assert ordinals.tolist() == expected_ordinals.tolist()
    assert freqs.tolist() == expected_freqs.tolist()
    assert freqs.tolist().count("M") >= 8
