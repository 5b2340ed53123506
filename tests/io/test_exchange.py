"""``convert_currency``: amounts into another currency, with one rate or a monthly table."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from anomaly.errors import (
    CurrencyError,
    EmptyDataError,
    FormatError,
    InvalidValueError,
    PeriodError,
)
from anomaly.io import convert_currency, exchange, read_exchange_rates, validate_flows


def usd_flows(months=("2022-01", "2022-02", "2022-03"), currency: str | None = "USD"):
    frame = pd.DataFrame(
        {
            "period": list(months),
            "reporter": "USA",
            "partner": "KAZ",
            "flow": "export",
            "hs": "854231",
            "value": [100.0 * (i + 1) for i in range(len(months))],
            "value_fob": [100.0] * len(months),
            "quantity": [7.0] * len(months),
        }
    )
    if currency:
        frame["currency"] = currency
    return validate_flows(frame)


def test_one_rate_converts_every_amount_and_records_the_conversion():
    flows = usd_flows()
    euros = convert_currency(flows, "EUR", 0.9)
    assert euros["value"].tolist() == pytest.approx([90.0, 180.0, 270.0])
    assert euros["value_fob"].tolist() == pytest.approx([90.0] * 3)
    assert euros["quantity"].tolist() == [7.0] * 3  # not money
    assert euros.attrs["currency"] == "EUR"
    assert euros.attrs["currency_conversion"] == {"from": "USD", "to": "EUR", "rates": 0.9}


def test_the_users_frame_is_not_changed():
    flows = usd_flows()
    before = flows.copy()
    attrs = dict(flows.attrs)
    euros = convert_currency(flows, "EUR", 0.9)
    pd.testing.assert_frame_equal(flows, before)
    assert flows.attrs == attrs
    euros.loc[0, ["value", "quantity"]] = 1.0  # nor by a later edit of the result
    assert flows.loc[0, "value"] == 100.0 and flows.loc[0, "quantity"] == 7.0


def test_a_monthly_table_converts_each_month_at_its_rate():
    rates = pd.DataFrame(
        {"period": ["2022-03", "202202", "2022-01", "2021-12"], "rate": [0.5, 0.8, 0.9, 2]}
    )
    euros = convert_currency(usd_flows(), "EUR", rates)
    assert euros["value"].tolist() == pytest.approx([90.0, 160.0, 150.0])
    assert euros.attrs["currency_conversion"]["rates"] == "<DataFrame of rates>"


def test_a_rates_file_is_read_and_named_in_the_record(tmp_path):
    path = tmp_path / "usd_eur.csv"
    path.write_text("period,rate,note\n2022-01,0.9,ecb\n2022-02, 0.8,\n2022-03,0.5,\n")
    euros = convert_currency(usd_flows(), "EUR", path)
    assert euros["value"].tolist() == pytest.approx([90.0, 160.0, 150.0])
    assert euros.attrs["currency_conversion"]["rates"] == str(path)


def test_months_without_a_rate_are_named_first_ones_first():
    months = [f"2022-{m:02d}" for m in range(1, 13)]
    rates = pd.DataFrame({"period": ["2022-02"], "rate": [0.9]})
    with pytest.raises(PeriodError) as error:
        convert_currency(usd_flows(months), "EUR", rates)
    message = str(error.value)
    assert "no exchange rate for 11 period(s)" in message
    assert "2022-01, 2022-03, 2022-04, 2022-05, 2022-06 and 6 more" in message


@pytest.mark.parametrize("rate", [0, -0.9, float("nan"), float("inf")])
def test_a_rate_that_is_not_positive_and_finite_is_refused(rate):
    with pytest.raises(InvalidValueError, match="not a positive number"):
        convert_currency(usd_flows(), "EUR", rate)


def test_a_bad_rate_in_a_file_names_the_file_column_and_line(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("period,rate\n2022-01,0.9\n2022-02,-1\n2022-03,n/a\n")
    with pytest.raises(InvalidValueError) as error:
        convert_currency(usd_flows(), "EUR", path)
    message = str(error.value)
    assert str(path) in message and "column 'rate'" in message and "lines 3, 4" in message
    assert "'-1'" in message and "'n/a'" in message


def test_a_rates_file_without_its_columns_is_refused_naming_the_column(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("month,usd_eur\n2022-01,0.9\n")
    with pytest.raises(FormatError) as error:
        read_exchange_rates(path)
    assert str(path) in str(error.value) and "column 'period'" in str(error.value)
    assert "month, usd_eur" in str(error.value)


def test_an_empty_or_missing_rates_file_is_refused(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "header.csv").write_text("period,rate\n")
    with pytest.raises(EmptyDataError, match="empty"):
        read_exchange_rates(tmp_path / "empty.csv")
    with pytest.raises(EmptyDataError, match="no rows"):
        read_exchange_rates(tmp_path / "header.csv")
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        read_exchange_rates(tmp_path / "nope.csv")


def test_unparseable_and_repeated_periods_name_their_lines(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("period,rate\n2022-01,0.9\nJanuary,0.8\n")
    with pytest.raises(PeriodError, match="'January' cannot be parsed") as error:
        convert_currency(usd_flows(), "EUR", bad)
    assert "line 3" in str(error.value)
    twice = tmp_path / "twice.csv"
    twice.write_text("period,rate\n2022-01,0.9\n2022-02,0.8\n202201,0.7\n")
    with pytest.raises(PeriodError, match="more than one rate") as error:
        convert_currency(usd_flows(), "EUR", twice)
    assert "lines 2, 4" in str(error.value)


def test_annual_rates_for_monthly_data_are_refused():
    rates = pd.DataFrame({"period": ["2022"], "rate": [0.9]})
    with pytest.raises(PeriodError, match="rates are annual, the data monthly"):
        convert_currency(usd_flows(), "EUR", rates)


def test_an_unknown_or_same_currency_is_refused():
    with pytest.raises(CurrencyError, match="currency is unknown"):
        convert_currency(usd_flows(currency=None), "EUR", 0.9)
    with pytest.raises(CurrencyError, match="in USD already"):
        convert_currency(usd_flows(), "USD", 0.9)
    with pytest.raises(CurrencyError, match="cannot convert into 'GBP'"):
        convert_currency(usd_flows(), "GBP", 0.9)


def test_a_converted_table_still_validates():
    euros = convert_currency(usd_flows(), "EUR", np.float64(0.9))
    again = validate_flows(euros)
    assert again.attrs["currency"] == "EUR"


def test_the_examples_run():
    assert doctest.testmod(exchange).failed == 0
