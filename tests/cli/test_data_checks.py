"""The checks between a model and the data, as the command line reports them (exit 3)."""

from __future__ import annotations

import pandas as pd
import pytest

from anomaly.cli.main import EXIT_ARTIFACT, EXIT_DATA, EXIT_IO

from .conftest import run


def test_a_training_start_before_the_data_exits_3_naming_the_first_month(
    capsys, world_dir, tmp_path
):
    code, _, err = run(
        capsys,
        "train",
        "--data",
        str(world_dir / "flows.parquet"),
        "--train-start",
        "2010-01",
        "--train-end",
        "2021-12",
        "--out",
        str(tmp_path / "m"),
    )
    assert code == EXIT_DATA
    assert "before the data" in err and "2015-01" in err
    assert not (tmp_path / "m").exists()


def test_a_training_end_after_the_data_exits_3(capsys, world_dir, tmp_path):
    code, _, err = run(
        capsys,
        "train",
        "--data",
        str(world_dir / "flows.parquet"),
        "--train-end",
        "2031-12",
        "--out",
        str(tmp_path / "m"),
    )
    assert code == EXIT_DATA
    assert "after the data" in err


def test_data_in_another_currency_exit_3(capsys, world_dir, tmp_path):
    flows = pd.read_parquet(world_dir / "flows.parquet")
    flows.attrs = {}  # the values are declared by their currency column alone
    flows.assign(currency="EUR").to_parquet(tmp_path / "eur.parquet")
    flows.assign(currency="USD").to_parquet(tmp_path / "usd.parquet")
    train = ["train", "--data", str(tmp_path / "eur.parquet"), "--train-end", "2021-12"]
    assert run(capsys, *train, "--out", str(tmp_path / "m"))[0] == 0
    code, _, err = run(
        capsys,
        "score",
        "--model",
        str(tmp_path / "m"),
        "--data",
        str(tmp_path / "usd.parquet"),
        "--start",
        "2022-01",
        "--out",
        str(tmp_path / "out"),
    )
    assert code == EXIT_DATA
    assert "data are in USD, the model was trained on EUR" in err


def test_coarser_data_than_the_model_exit_3_naming_the_levels(
    capsys, world_dir, model_dir, tmp_path
):
    flows = pd.read_parquet(world_dir / "flows.parquet")
    flows["hs"] = flows["hs"].astype(str).str[:4]
    keys = ["period", "reporter", "partner", "flow", "hs"]
    flows.groupby(keys, as_index=False, observed=True)["value"].sum().to_parquet(
        tmp_path / "hs4.parquet"
    )
    code, _, err = run(
        capsys,
        "score",
        "--model",
        str(model_dir),
        "--data",
        str(tmp_path / "hs4.parquet"),
        "--start",
        "2022-01",
        "--out",
        str(tmp_path / "out"),
    )
    assert code == EXIT_DATA
    assert "coarser than the 6 digits" in err and "4 digits" in err


@pytest.fixture
def notes(tmp_path):
    """A file of the user's, where an --out might point by mistake."""
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    return path


def test_an_out_that_train_cannot_replace_is_refused_before_the_data_are_read(
    capsys, tmp_path, notes
):
    code, _, err = run(
        capsys,
        "train",
        "--data",
        str(tmp_path / "absent.csv"),
        "--train-end",
        "2021-12",
        "--out",
        str(notes),
    )
    assert code == EXIT_ARTIFACT
    assert f"{notes} exists and is not an anomaly artifact directory" in err
    assert notes.read_text() == "mine"


def score_before_reading(capsys, tmp_path, out):
    """``anomaly score`` into ``out`` with a model and data that do not exist: a check
    of ``out`` that fails names it; one made after reading would name the model."""
    return run(
        capsys,
        "score",
        "--model",
        str(tmp_path / "absent"),
        "--data",
        str(tmp_path / "absent.csv"),
        "--start",
        "2022-01",
        "--out",
        str(out),
    )


def test_an_out_that_is_a_file_is_refused_before_scoring(capsys, tmp_path, notes):
    code, _, err = score_before_reading(capsys, tmp_path, notes)
    assert code == EXIT_IO
    assert f"{notes}: exists and is not a directory" in err
    assert notes.read_text() == "mine"


def test_outputs_that_no_run_wrote_are_not_replaced(capsys, tmp_path):
    out = tmp_path / "analysis"
    out.mkdir()
    (out / "leads.csv").write_text("my own leads")
    code, _, err = score_before_reading(capsys, tmp_path, out)
    assert code == EXIT_IO
    assert "holds leads.csv that no anomaly run wrote" in err
    assert (out / "leads.csv").read_text() == "my own leads"
