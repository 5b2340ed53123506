"""Readers refuse what would otherwise crash or pass silently (issue 14), in the API and
on the command line (exit status 3, one line naming the file and line)."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

import pandas as pd
import pytest

from anomaly.cli.main import main
from anomaly.errors import (
    MAX_PART_CHARS,
    DataError,
    FormatError,
    InvalidValueError,
    PeriodError,
    UnknownCodeError,
)
from anomaly.io import rawtable, read_flows
from anomaly.io.validate import MAX_VALUE

HEADER = "period,reporter,partner,flow,hs,value\n"
ROWS = [
    "2022-01,DEU,KGZ,export,854231,100",
    "2022-02,DEU,KGZ,export,854231,200",
    "2022-03,DEU,KGZ,export,854231,300",
]


def csv(*rows: str, newline: str = "\n") -> str:
    return newline.join([HEADER.rstrip("\n"), *rows]) + newline


def cli(path: Path, tmp_path: Path) -> tuple[int, str]:
    """``anomaly train`` on ``path``: the exit status and standard error."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(
            ["train", "--data", str(path), "--train-end", "2021-12", "--out", str(tmp_path / "m")]
        )
    return code, err.getvalue()


def refused(
    path: Path, tmp_path: Path, error: type[DataError], pattern: str
) -> tuple[DataError, str]:
    """The API error and the CLI's line, both matching ``pattern``."""
    with pytest.raises(error, match=pattern) as caught:
        read_flows(path)
    code, err = cli(path, tmp_path)
    assert code == 3, err
    assert err.startswith("anomaly: error: ") and err.count("\n") == 1, err
    assert str(path) in err
    return caught.value, err


# -- line endings and reading once ----------------------------------------------------


def test_cr_only_line_endings_are_read(write):
    flows = read_flows(write("mac.csv", csv(*ROWS, newline="\r")))
    assert flows["value"].tolist() == [100.0, 200.0, 300.0]


def test_cr_only_line_endings_keep_line_numbers(write, tmp_path):
    path = write("mac.csv", csv(ROWS[0], "2022-02,DEU,KGZ,export,854231,-5", newline="\r"))
    error, _ = refused(path, tmp_path, InvalidValueError, "negative")
    assert error.lines == [3]


def test_each_file_is_opened_once(write, monkeypatch):
    path = write("flows.csv", csv(*ROWS))
    opened = []
    real_open = open

    def counting_open(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(rawtable, "open", counting_open, raising=False)
    read_flows(path)
    assert opened == [str(path)]


def test_a_file_rewritten_while_read_is_refused(write, tmp_path, monkeypatch):
    path = write("flows.csv", csv(*ROWS))
    real_fstat = os.fstat
    calls = []

    def growing(descriptor):
        info = real_fstat(descriptor)
        calls.append(1)
        if len(calls) > 1:  # the second look, after reading: the file grew meanwhile
            return os.stat_result((*info[:6], info.st_size + 10, *info[7:]))
        return info

    monkeypatch.setattr(rawtable.os, "fstat", growing)
    with pytest.raises(FormatError, match="changed while it was read"):
        read_flows(path)


def test_detection_and_parsing_read_the_same_bytes(write, monkeypatch):
    """A file swapped for another format between the two steps cannot mix them."""
    canonical = write("flows.csv", csv(*ROWS))
    comext = write(
        "other.csv",
        "reporter,partner,product,flow,period,value\nGermany,Kyrgyzstan,85423190,EXPORT,2022-01,5\n",
    )
    real_load = rawtable.load_file

    def load_then_swap(path):
        loaded = real_load(path)
        canonical.write_bytes(comext.read_bytes())  # replaced after it was read
        return loaded

    monkeypatch.setattr("anomaly.io.read.load_file", load_then_swap)
    assert read_flows(canonical)["hs"].tolist() == ["854231"] * 3


# -- codes, values, keys, periods -----------------------------------------------------


@pytest.mark.parametrize("code", ["85423", "8542319", "854231901", "٨٥٤٢٣١٩٠", "８５４２３１"])
def test_hs_codes_must_be_an_even_number_of_ascii_digits(write, tmp_path, code):
    path = write("hs.csv", csv(ROWS[0], f"2022-02,DEU,KGZ,export,{code},200"))
    error, err = refused(path, tmp_path, UnknownCodeError, "are not HS codes")
    assert error.lines == [3]
    assert "2, 4, 6, 8 or 10 ASCII digits" in err


@pytest.mark.parametrize("value", ["1e308", "1.7976931348623157e308", "2e15", "inf"])
def test_values_above_the_ceiling_are_refused(write, tmp_path, value):
    path = write("huge.csv", csv(ROWS[0], f"2022-02,DEU,KGZ,export,854231,{value}"))
    error, _ = refused(path, tmp_path, InvalidValueError, "above 1e\\+15|infinite")
    assert error.lines == [3]


def test_the_ceiling_itself_is_accepted(write):
    flows = read_flows(write("max.csv", csv(f"2022-01,DEU,KGZ,export,854231,{MAX_VALUE:.0f}")))
    assert flows["value"].max() == MAX_VALUE


def test_a_quantity_above_the_ceiling_is_refused(write):
    path = write(
        "q.csv",
        "period,reporter,partner,flow,hs,value,quantity\n2022-01,DEU,KGZ,export,854231,1,1e300\n",
    )
    with pytest.raises(InvalidValueError, match=r"column 'quantity'.*above 1e\+15"):
        read_flows(path)


def test_reporter_equal_to_partner_is_refused(write, tmp_path):
    path = write("self.csv", csv(ROWS[0], "2022-02,DEU,DEU,export,854231,200"))
    error, _ = refused(path, tmp_path, InvalidValueError, "reporter is also the partner")
    assert error.lines == [3]


def test_reporter_equal_to_partner_is_refused_in_a_dataframe():
    from anomaly.io import validate_flows

    frame = pd.DataFrame(
        {"period": ["2022-01"], "reporter": ["KGZ"], "partner": ["KGZ"],
         "flow": ["export"], "hs": ["854231"], "value": [1.0]}
    )  # fmt: skip
    with pytest.raises(InvalidValueError, match="reporter is also the partner"):
        validate_flows(frame)


def test_a_month_after_the_current_one_is_refused(write, tmp_path):
    path = write("future.csv", csv(*ROWS, "2099-01,DEU,KGZ,export,854231,5"))
    error, err = refused(path, tmp_path, PeriodError, "dated after the current period")
    assert error.lines == [5]
    assert "2099-01" in err


def test_a_year_after_the_current_one_is_refused(write):
    path = write(
        "annual.csv", HEADER + "2021,DEU,KGZ,export,854231,1\n2099,DEU,KGZ,export,854231,1\n"
    )
    with pytest.raises(PeriodError, match="2099"):
        read_flows(path)


def test_the_current_month_is_accepted(write):
    month = str(pd.Timestamp.now().to_period("M"))
    assert len(read_flows(write("now.csv", csv(f"{month},DEU,KGZ,export,854231,1")))) == 1


# -- links in a data folder -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["broken", "loop"])
def test_broken_or_looping_links_in_a_data_folder_are_reported(tmp_path, kind):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "2022-01.csv").write_text(csv(ROWS[0]))
    link = folder / "2022-02.csv"
    if kind == "broken":
        link.symlink_to(tmp_path / "moved-away.csv")
        pattern = "moved-away.csv, which does not exist"
    else:
        link.symlink_to(link)
        pattern = "points to itself"
    with pytest.raises(FormatError, match=pattern):
        read_flows(folder)
    code, err = cli(folder, tmp_path)
    assert code == 3 and "2022-02.csv" in err and err.count("\n") == 1, err


def test_a_broken_link_given_directly_is_reported(tmp_path):
    link = tmp_path / "flows.csv"
    link.symlink_to(tmp_path / "nowhere.csv")
    with pytest.raises(FormatError, match=r"nowhere\.csv, which does not exist"):
        read_flows(link)


# -- message lengths ----------------------------------------------------------------------


def test_a_huge_bad_value_gives_a_short_message(write, tmp_path):
    bad = "8" * 2_000_000 + "x"
    path = write("long.csv", csv(ROWS[0], f"2022-02,DEU,KGZ,export,{bad},200"))
    error, err = refused(path, tmp_path, UnknownCodeError, "are not HS codes")
    assert len(str(error)) < 3 * MAX_PART_CHARS
    assert len(err) < 3 * MAX_PART_CHARS
    assert "more]" in err  # the value is shortened in the middle, and says so


def test_a_huge_unknown_country_gives_a_short_message(write, tmp_path):
    bad = "Q" * 1_000_000
    path = write("country.csv", csv(ROWS[0], f"2022-02,{bad},KGZ,export,854231,200"))
    with pytest.raises(DataError) as caught:
        read_flows(path)
    assert len(str(caught.value)) < 3 * MAX_PART_CHARS
    code, err = cli(path, tmp_path)
    assert code == 3 and len(err) < 3 * MAX_PART_CHARS
