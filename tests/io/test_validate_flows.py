"""validate_flows on DataFrames: typing, sorting, errors by line, the input untouched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.errors import (
    CurrencyError,
    DuplicateKeyError,
    EmptyDataError,
    FormatError,
    InvalidValueError,
    PeriodError,
    UnknownCodeError,
)
from anomaly.io import LINE, Source, canonical_columns, check_flows, read_flows, validate_flows


def table(**changes) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "period": ["2022-03", "2022-01", "2022-02"],
            "reporter": ["DEU", "DEU", "AUT"],
            "partner": ["KGZ", "KGZ", "ARM"],
            "flow": ["export", "export", "export"],
            "hs": ["854231", "854231", "010121"],
            "value": [3.0, 1.0, 2.0],
        }
    )
    return frame.assign(**changes)


def test_typed_and_sorted():
    flows = validate_flows(table())
    assert flows["period"].dtype == pd.PeriodDtype("M")
    assert flows[["reporter", "hs"]].values.tolist() == [
        ["DEU", "854231"],
        ["AUT", "010121"],
        ["DEU", "854231"],
    ]
    assert flows["value"].tolist() == [1.0, 2.0, 3.0]
    assert flows.attrs["sources"] == ["<DataFrame>"]
    assert flows.attrs["currency"] is None


def test_the_input_is_not_changed():
    frame = table(quantity=[1, None, 3], currency="EUR").set_index(pd.Index([10, 11, 12]))
    frame.attrs["note"] = "mine"
    before = frame.copy(deep=True)
    flows = validate_flows(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert frame.attrs == {"note": "mine"}
    assert flows.attrs["currency"] == "EUR"
    flows.loc[0, "value"] = -1.0
    pd.testing.assert_frame_equal(frame, before)


def test_rows_are_numbered_like_a_written_csv():
    frame = table(value=[3.0, -1.0, 2.0]).set_index(pd.Index(["a", "b", "c"]))
    with pytest.raises(InvalidValueError, match=r"^<DataFrame>, column 'value', line 3: "):
        validate_flows(frame)
    with pytest.raises(DuplicateKeyError, match=r"^flows, lines 2, 5:"):
        validate_flows(pd.concat([table(), table().iloc[:1]]), source="flows")


def test_period_dtypes_and_timestamps():
    periods = pd.PeriodIndex(["2022-03", "2022-01", "2022-02"], freq="M")
    assert validate_flows(table(period=periods))["period"].dtype == pd.PeriodDtype("M")
    stamps = pd.to_datetime(["2022-03-01", "2022-01-01", "2022-02-01"])
    flows = validate_flows(table(period=stamps))
    assert flows["period"].astype(str).tolist() == ["2022-01", "2022-02", "2022-03"]
    years = pd.PeriodIndex(["2020", "2021", "2022"], freq="Y")
    assert validate_flows(table(period=years))["period"].dtype == pd.PeriodDtype("Y")
    with pytest.raises(PeriodError, match="period\\[Q-DEC\\]"):
        validate_flows(table(period=pd.PeriodIndex(["2022Q1"] * 3, freq="Q")))


def test_aggregate_partners_are_left_out_and_recorded():
    flows = validate_flows(table(partner=["KGZ", "WLD", "ARM"]))
    assert len(flows) == 2
    (dropped,) = flows.attrs["dropped"]
    assert (dropped["rows"], dropped["lines"]) == (1, [3])


def test_codes_must_be_text_and_known():
    with pytest.raises(FormatError, match="leading zeros"):
        validate_flows(table(hs=[854231, 854231, 10121]))
    with pytest.raises(UnknownCodeError, match="'Kyrgyzstan'"):
        validate_flows(table(partner=["KGZ", "Kyrgyzstan", "ARM"]))


def test_values_must_be_numbers():
    with pytest.raises(InvalidValueError, match="line 4: value\\(s\\) 'n/a' are not numbers"):
        validate_flows(table(value=["3", "1", "n/a"]))
    with pytest.raises(InvalidValueError, match="not numbers"):
        validate_flows(table(value=[True, False, True]))
    with pytest.raises(InvalidValueError, match="infinite"):
        validate_flows(table(value=[1.0, np.inf, 2.0]))


def test_empty_table():
    with pytest.raises(EmptyDataError, match="no rows"):
        validate_flows(table().iloc[:0])
    with pytest.raises(EmptyDataError, match="no rows of countries"):
        validate_flows(table(partner="WLD"))


def test_missing_columns():
    with pytest.raises(FormatError, match="'value' are missing"):
        validate_flows(table().drop(columns="value"))


def test_currency_column_against_attrs():
    frame = table(currency="USD")
    frame.attrs["currency"] = "EUR"
    with pytest.raises(CurrencyError, match="attrs"):
        validate_flows(frame)


def test_read_output_validates_to_itself(write):
    path = write(
        "flows.csv",
        "period,reporter,partner,flow,hs,value,value_fob\n2022-01,DEU,KGZ,export,854231,1,1\n",
    )
    flows = read_flows(path, currency="EUR")
    again = validate_flows(flows)
    pd.testing.assert_frame_equal(again, flows)
    assert again.attrs["currency"] == "EUR"


def test_rows_checked_one_by_one_are_only_checked_together():
    rows = table(value=[3.0, -1.0, 2.0])
    typed = canonical_columns(rows.assign(**{LINE: np.arange(2, 5)}), [Source("t")])[0]
    with pytest.raises(InvalidValueError, match="negative"):
        check_flows(typed, [Source("t")])
    # A scan's rows passed the checks of single rows already: those are not repeated.
    flows, _ = check_flows(typed, [Source("t")], rows_checked=True)
    assert flows["value"].tolist() == [-1.0, 2.0, 3.0]
    twice = pd.concat([typed, typed.iloc[[0]]], ignore_index=True)
    with pytest.raises(DuplicateKeyError):
        check_flows(twice, [Source("t")], rows_checked=True)
