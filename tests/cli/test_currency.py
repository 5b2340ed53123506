"""``--currency`` and ``--exchange-rate``: data in USD scored by the EUR default model.

The USD file is the built-in Eurostat extract (EUR) with every value doubled and no
currency column, so that ``--currency USD --exchange-rate 0.5`` gives back the built-in
data exactly: the leads must be those of the built-in file itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import anomaly
from anomaly.cli.main import EXIT_DATA, EXIT_OK

from .conftest import run

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "default"
START = ("--start", "2022-01")


@pytest.fixture(scope="module")
def usd_file(tmp_path_factory) -> Path:
    flows = anomaly.load_eurostat_chp()
    dollars = flows.assign(period=flows["period"].astype(str), value=flows["value"] * 2)
    dollars.attrs = {}  # a canonical file that does not say its currency
    path = tmp_path_factory.mktemp("usd") / "usd.parquet"
    dollars.to_parquet(path)
    return path


def score(capsys, out: Path, *options: str) -> tuple[int, str, str]:
    return run(capsys, "score", "--model", DEFAULT_MODEL, *START, "--out", out, *options)


def leads(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "leads.csv", dtype={"hs": str})


def test_usd_data_are_refused_by_the_eur_model_naming_the_option(capsys, usd_file, tmp_path):
    code, _, err = score(capsys, tmp_path / "out", "--data", usd_file, "--currency", "USD")
    assert code == EXIT_DATA
    assert "data are in USD, the model was trained on EUR" in err
    assert "--exchange-rate" in err and "anomaly.io.convert_currency" in err
    assert not (tmp_path / "out").exists()


def test_usd_data_converted_by_one_rate_score_as_the_eur_data_and_run_json_records_it(
    capsys, usd_file, tmp_path
):
    code, _, err = score(
        capsys,
        tmp_path / "usd",
        *("--data", usd_file, "--currency", "USD", "--exchange-rate", "0.5"),
    )
    assert code == EXIT_OK, err
    assert score(capsys, tmp_path / "eur", "--data", anomaly.eurostat_chp_path())[0] == EXIT_OK
    pd.testing.assert_frame_equal(leads(tmp_path / "usd"), leads(tmp_path / "eur"))
    record = json.loads((tmp_path / "usd" / "run.json").read_text())
    assert record["currency"] == "EUR"
    assert record["currency_conversion"] == {"from": "USD", "to": "EUR", "rates": 0.5}
    eur_record = json.loads((tmp_path / "eur" / "run.json").read_text())
    assert "currency_conversion" not in eur_record


def test_a_file_of_monthly_rates_converts_and_is_named_in_run_json(capsys, usd_file, tmp_path):
    months = pd.period_range("2020-01", "2022-11", freq="M").astype(str)
    rates = tmp_path / "usd_eur.csv"
    pd.DataFrame({"period": months, "rate": 0.5}).to_csv(rates, index=False)
    options = ("--data", usd_file, "--currency", "USD", "--exchange-rate", rates)
    assert score(capsys, tmp_path / "out", *options)[0] == EXIT_OK
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["currency_conversion"] == {"from": "USD", "to": "EUR", "rates": str(rates)}


def test_a_rates_file_missing_months_exits_3_naming_them(capsys, usd_file, tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("period,rate\n2022-01,0.5\n")
    options = ("--data", usd_file, "--currency", "USD", "--exchange-rate", rates)
    code, _, err = score(capsys, tmp_path / "out", *options)
    assert code == EXIT_DATA
    assert str(rates) in err and "2020-01, 2020-02" in err


@pytest.mark.parametrize("rate", ["0", "-0.5", "nan"])
def test_a_rate_that_is_not_positive_exits_3(capsys, usd_file, tmp_path, rate):
    options = ("--data", usd_file, "--currency", "USD", f"--exchange-rate={rate}")
    code, _, err = score(capsys, tmp_path / "out", *options)
    assert code == EXIT_DATA and "not a positive number" in err


def test_an_exchange_rate_for_data_in_the_models_currency_exits_3(capsys, tmp_path):
    options = ("--data", anomaly.eurostat_chp_path(), "--exchange-rate", "0.9")
    code, _, err = score(capsys, tmp_path / "out", *options)
    assert code == EXIT_DATA
    assert "data are in EUR, as the model is" in err and "need no conversion" in err


def test_an_exchange_rate_for_data_of_unknown_currency_exits_3_naming_currency(
    capsys, usd_file, tmp_path
):
    code, _, err = score(capsys, tmp_path / "out", "--data", usd_file, "--exchange-rate", "0.5")
    assert code == EXIT_DATA
    assert "currency is unknown" in err and "--currency" in err


def test_data_of_unknown_currency_still_score_without_an_exchange_rate(capsys, usd_file, tmp_path):
    # Unknown on either side is not refused (as before): the user is trusted.
    assert score(capsys, tmp_path / "out", "--data", usd_file)[0] == EXIT_OK


def test_an_exchange_rate_with_batch_options_exits_3_naming_them(capsys, usd_file, tmp_path):
    options = ("--data", usd_file, "--currency", "USD", "--exchange-rate", "0.5", "--jobs", "1")
    code, _, err = score(capsys, tmp_path / "out", *options)
    assert code == EXIT_DATA
    assert "--exchange-rate cannot be combined with batch scoring (--jobs)" in err


def test_batch_scoring_reads_the_declared_currency(capsys, usd_file, tmp_path):
    options = ("--data", usd_file, "--currency", "USD", "--jobs", "1")
    code, _, err = score(capsys, tmp_path / "out", *options)
    assert code == EXIT_DATA and "data are in USD, the model was trained on EUR" in err


@pytest.mark.parametrize("command", ["train", "score"])
def test_a_declared_currency_that_contradicts_the_file_exits_3(capsys, tmp_path, command):
    data = ("--data", anomaly.eurostat_chp_path(), "--currency", "USD")
    if command == "train":
        argv = ("train", *data, "--train-end", "2021-12", "--out", tmp_path / "m")
    else:
        argv = ("score", "--model", DEFAULT_MODEL, *data, *START, "--out", tmp_path / "out")
    code, _, err = run(capsys, *argv)
    assert code == EXIT_DATA
    assert "currency='USD' was asked for, but the file is in EUR" in err


def test_train_records_the_declared_currency(capsys, usd_file, tmp_path):
    argv = ("train", "--data", usd_file, "--currency", "USD", "--train-start", "2020-01")
    assert run(capsys, *argv, "--train-end", "2021-12", "--out", tmp_path / "m")[0] == EXIT_OK
    assert anomaly.load(tmp_path / "m").currency_ == "USD"


def test_batch_scoring_refuses_a_declared_currency_that_contradicts_the_files(
    capsys, usd_file, tmp_path
):
    marked = tmp_path / "marked.parquet"
    pd.read_parquet(usd_file).assign(currency="EUR").to_parquet(marked)
    options = ("--data", marked, "--currency", "USD", "--jobs", "1")
    code, _, err = score(capsys, tmp_path / "out", *options)
    assert code == EXIT_DATA
    # The file is named, as read_flows names it.
    assert "marked.parquet: currency='USD' was asked for, but the file is in EUR" in err
