"""Each kind of bad input raises its own DataError naming the file, lines and column."""

from __future__ import annotations

import gzip
import io
import re
import zipfile

import numpy as np
import pandas as pd
import pytest

from anomaly.errors import (
    ConfidentialValueError,
    CurrencyError,
    DataError,
    DuplicateKeyError,
    EmptyDataError,
    FormatError,
    InvalidValueError,
    PeriodError,
    UnknownCodeError,
)
from anomaly.io import read_flows

CANONICAL = "period,reporter,partner,flow,hs,value\n"
COMEXT = "reporter,partner,product,flow,period,value\n"
GOOD_ROWS = (
    "2022-01,DEU,KGZ,export,854231,100\n"
    "2022-02,DEU,KGZ,export,854231,200\n"
    "2022-03,DEU,KGZ,export,854231,300\n"
)


def raises(error: type[DataError], path, *, lines: str, column: str | None = None, **kwargs):
    """Read ``path`` expecting ``error`` located at ``lines`` (as the message spells them)."""
    with pytest.raises(error) as caught:
        read_flows(path, **kwargs)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert f" {lines}:" in message, message
    if column is not None:
        assert f"column {column!r}" in message, message
    return caught.value


def test_duplicate_keys(write):
    path = write("dup.csv", CANONICAL + GOOD_ROWS + "2022-01,DEU,KGZ,export,854231,999\n")
    error = raises(DuplicateKeyError, path, lines="lines 2, 5")
    assert error.lines == [2, 5]
    assert "period 2022-01, reporter DEU, partner KGZ, flow export, hs 854231" in str(error)


def test_duplicates_after_mapping_names_to_codes(write):
    # Two spellings of one country are one key once mapped.
    path = write(
        "dup.csv",
        COMEXT
        + "Germany,Russian Federation (Russia),85423190,EXPORT,2022-01,1\n"
        + "Germany,Russia,85423190,EXPORT,2022-01,2\n",
    )
    raises(DuplicateKeyError, path, lines="lines 2, 3")


def test_duplicates_across_files_name_both_files(write):
    first = write("a.csv", CANONICAL + GOOD_ROWS)
    second = write("b.csv", CANONICAL + "2022-04,DEU,KGZ,export,854231,1\n" + GOOD_ROWS[:31])
    with pytest.raises(DuplicateKeyError) as caught:
        read_flows([first, second], currency="EUR")
    message = str(caught.value)
    assert message.startswith(f"{first}, line 2:")
    assert f"also in {second} line 3" in message


def test_negative_value(write):
    path = write("neg.csv", CANONICAL + GOOD_ROWS + "2022-04,DEU,KGZ,export,854231,-5\n")
    raises(InvalidValueError, path, lines="line 5", column="value")


def test_non_numeric_values_are_listed(write):
    rows = GOOD_ROWS.replace(",200\n", ",12O\n").replace(",300\n", ",1 234\n")
    error = raises(InvalidValueError, write("text.csv", CANONICAL + rows), lines="lines 3, 4")
    assert "'12O', '1 234' are not numbers" in str(error)


def test_a_decimal_comma_is_named_in_the_error(write):
    semicolons = (CANONICAL + GOOD_ROWS).replace(",", ";").replace(";200\n", ";200,5\n")
    error = raises(InvalidValueError, write("comma.csv", semicolons), lines="line 3")
    assert "'200,5' are not numbers" in str(error)
    assert "no decimal comma" in str(error)


def test_missing_value(write):
    rows = GOOD_ROWS.replace(",200\n", ",\n")
    raises(InvalidValueError, write("gap.csv", CANONICAL + rows), lines="line 3", column="value")


def test_confidential_marker(write):
    path = write(
        "conf.csv",
        COMEXT
        + "Germany,Kyrgyzstan,85423190,EXPORT,2022-01,10\n"
        + "Germany,Kyrgyzstan,85423190,EXPORT,2022-02,:\n"
        + "Germany,Kyrgyzstan,85423190,EXPORT,2022-03,: c\n",
    )
    error = raises(ConfidentialValueError, path, lines="lines 3, 4", column="value")
    assert isinstance(error, InvalidValueError)
    assert "confidential" in str(error) and "delete these rows" in str(error)


def test_unknown_country_names_are_listed_with_lines(write):
    path = write(
        "names.csv",
        COMEXT
        + "Germany,Kyrgyzstan,85423190,EXPORT,2022-01,10\n"
        + "Germany,Atlantis,85423190,EXPORT,2022-01,10\n"
        + "Germany,Kyrgyzstan,85423190,EXPORT,2022-02,10\n"
        + "Germany,Atlantis,85423190,EXPORT,2022-02,10\n"
        + "Germany,Narnia,85423190,EXPORT,2022-02,10\n",
    )
    error = raises(UnknownCodeError, path, lines="lines 3, 5, 6", column="partner")
    assert "'Atlantis', 'Narnia'" in str(error)


def test_unknown_country_code_in_canonical_file(write):
    path = write("codes.csv", CANONICAL + GOOD_ROWS + "2022-04,DEU,XYZ,export,854231,1\n")
    raises(UnknownCodeError, path, lines="line 5", column="partner")


def test_unknown_flow_code(write):
    path = write(
        "flow.csv", CANONICAL + GOOD_ROWS.replace("02,DEU,KGZ,export", "02,DEU,KGZ,transit")
    )
    error = raises(UnknownCodeError, path, lines="line 3", column="flow")
    assert "'transit'" in str(error) and "'re-export'" in str(error)


@pytest.mark.parametrize("code", ["8", "85423190123", "85A231", "8542.31"])
def test_hs_codes_must_be_two_to_ten_digits(write, code):
    path = write("hs.csv", CANONICAL + GOOD_ROWS + f"2022-04,DEU,KGZ,export,{code},1\n")
    error = raises(UnknownCodeError, path, lines="line 5", column="hs")
    assert repr(code) in str(error)


@pytest.mark.parametrize("period", ["2022-13", "Foo 2022", "22-01", "202200"])
def test_unparseable_period(write, period):
    path = write("period.csv", CANONICAL + GOOD_ROWS + f"{period},DEU,KGZ,export,854231,1\n")
    error = raises(PeriodError, path, lines="line 5", column="period")
    assert repr(period) in str(error)


def test_monthly_and_annual_rows_mixed(write):
    path = write("mixed.csv", CANONICAL + GOOD_ROWS + "2022,DEU,KGZ,export,854231,600\n")
    error = raises(PeriodError, path, lines="line 5", column="period")
    assert "monthly and annual" in str(error)


def test_monthly_and_annual_files_mixed(write):
    monthly = write("m.csv", CANONICAL + GOOD_ROWS)
    annual = write("y.csv", CANONICAL + "2021,DEU,KGZ,export,854231,600\n")
    with pytest.raises(PeriodError, match="monthly and annual files are mixed"):
        read_flows([monthly, annual], currency="EUR")


def test_two_currencies_in_a_currency_column(write):
    text = CANONICAL.replace("\n", ",currency\n") + GOOD_ROWS.replace("\n", ",EUR\n")
    text += "2022-04,DEU,KGZ,export,854231,1,USD\n"
    error = raises(CurrencyError, write("cur.csv", text), lines="line 5", column="currency")
    assert "EUR: 3 rows" in str(error) and "USD: 1 rows" in str(error)


def test_files_of_different_currencies(write):
    euros = write("eur.csv", COMEXT + "Germany,Kyrgyzstan,85423190,EXPORT,2022-01,10\n")
    dollars = write(
        "usd.csv", CANONICAL.replace("\n", ",currency\n") + "2022-01,DEU,KGZ,export,854231,1,USD\n"
    )
    with pytest.raises(CurrencyError, match="different currencies"):
        read_flows([euros, dollars])


def test_currency_argument_contradicting_the_file(write):
    path = write("eur.csv", COMEXT + "Germany,Kyrgyzstan,85423190,EXPORT,2022-01,10\n")
    with pytest.raises(CurrencyError, match="file is in EUR"):
        read_flows(path, currency="USD")
    with pytest.raises(CurrencyError, match="not supported"):
        read_flows(path, currency="GBP")


def test_canonical_file_of_unknown_currency_beside_a_known_one(write):
    euros = write("eur.csv", COMEXT + "Germany,Kyrgyzstan,85423190,EXPORT,2022-01,10\n")
    unknown = write("plain.csv", CANONICAL + "2022-02,DEU,KGZ,export,854231,1\n")
    with pytest.raises(CurrencyError, match="unknown"):
        read_flows([euros, unknown])
    assert len(read_flows([euros, unknown], currency="EUR")) == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "0 bytes"),
        (CANONICAL, "no data rows"),
        (CANONICAL + "\n\n\n", "no data rows"),
        ("\n\n", "blank"),
    ],
)
def test_empty_files(write, content, problem):
    with pytest.raises(EmptyDataError if problem != "blank" else DataError, match=problem):
        read_flows(write("empty.csv", content))


def test_empty_gzip_and_parquet_files(write, tmp_path):
    with pytest.raises(EmptyDataError):
        read_flows(write("empty.csv.gz", gzip.compress(b"")))
    frame = pd.DataFrame(
        {"period": [], "reporter": [], "partner": [], "flow": [], "hs": [], "value": []}
    )
    frame.astype(str).to_parquet(tmp_path / "empty.parquet")
    with pytest.raises(EmptyDataError):
        read_flows(tmp_path / "empty.parquet")


def test_binary_garbage(write):
    rng = np.random.default_rng(7)
    garbage = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + rng.bytes(2000)
    with pytest.raises(FormatError, match="binary data"):
        read_flows(write("picture.csv", garbage))


def test_a_workbook_or_zip_archive_is_named(write):
    workbook = io.BytesIO()
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    path = write("flows.xlsx", workbook.getvalue())
    with pytest.raises(FormatError, match=r"flows\.xlsx: the file is a zip archive") as caught:
        read_flows(path)
    assert "save a workbook's sheet as CSV UTF-8" in str(caught.value)


def test_text_garbage_names_columns_and_formats(write):
    path = write("notes.csv", "Dear colleague,\nplease find the figures attached.\n")
    with pytest.raises(FormatError) as caught:
        read_flows(path)
    message = str(caught.value)
    assert "'Dear colleague'" in message
    for name in ("canonical", "comext-relational", "comext-bulk", "comtrade-api"):
        assert name in message


def test_last_line_cut_mid_row(write):
    path = write("cut.csv", CANONICAL + GOOD_ROWS + "2022-04,DEU,KG")
    error = raises(FormatError, path, lines="line 5")
    assert "has 3" in str(error)


def test_last_line_cut_inside_a_quoted_value(write):
    text = COMEXT + '"Germany",Kyrgyzstan,85423190,EXPORT,2022-01,10\n"Germ'
    raises(FormatError, write("cut.csv", text), lines="line 3")


def test_ragged_rows(write):
    rows = GOOD_ROWS.replace(
        "2022-02,DEU,KGZ,export,854231,200", "2022-02,DEU,KGZ,export,854231,2,00"
    )
    error = raises(FormatError, write("ragged.csv", CANONICAL + rows), lines="line 3")
    assert "6 fields per line" in str(error)


def test_truncated_gzip(write):
    data = gzip.compress((CANONICAL + GOOD_ROWS * 50).encode())
    with pytest.raises(FormatError, match="truncated"):
        read_flows(write("cut.csv.gz", data[: len(data) // 2]))


def test_truncated_parquet(tmp_path):
    frame = pd.read_csv(pd.io.common.StringIO(CANONICAL + GOOD_ROWS), dtype=str)
    frame.to_parquet(tmp_path / "whole.parquet")
    data = (tmp_path / "whole.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match="Parquet"):
        read_flows(tmp_path / "cut.parquet")


def test_product_codes_stored_as_numbers(tmp_path):
    frame = pd.DataFrame(
        {
            "period": ["2022-01"],
            "reporter": ["DEU"],
            "partner": ["KGZ"],
            "flow": ["export"],
            "hs": [10121],
            "value": [1.0],
        }
    )
    frame.to_parquet(tmp_path / "ints.parquet")
    with pytest.raises(FormatError, match="leading zeros"):
        read_flows(tmp_path / "ints.parquet")


def test_line_numbers_count_blank_lines_and_quoted_newlines(write):
    text = (
        COMEXT
        + "Germany,Kyrgyzstan,85423190,EXPORT,2022-01,10\n"
        + "\n"
        + '"Germany\n(quoted, on two lines)",Kyrgyzstan,85423190,EXPORT,2022-02,10\n'
        + "Germany,Kyrgyzstan,85423190,EXPORT,2022-03,-1\n"
    )
    raises(InvalidValueError, write("lines.csv", text), lines="line 6", column="value")


def test_errors_are_never_library_tracebacks(write):
    for content in ("period".encode("utf-16"), b"PAR1garbage", b'a,"b\n'):
        with pytest.raises(DataError):
            read_flows(write("odd.csv", content))


def test_missing_path():
    with pytest.raises(FileNotFoundError):
        read_flows("/nonexistent/flows.csv")


def test_unrecognised_format_name(write):
    path = write("ok.csv", CANONICAL + GOOD_ROWS)
    with pytest.raises(FormatError, match=re.escape("unknown format 'excel'")):
        read_flows(path, format="excel")
