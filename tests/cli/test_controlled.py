"""``anomaly train --controlled``: which goods can alert, recorded in the model."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from anomaly.cli.main import EXIT_DATA, EXIT_OK

from .conftest import run


def train(capsys, world_dir, out, *extra):
    command = ["train", "--data", str(world_dir / "flows.parquet"), "--train-end", "2021-12"]
    return run(capsys, *command, "--out", str(out), *extra)


def model_params(model) -> dict:
    return json.loads((model / "manifest.json").read_text())["config"]["model"]


@pytest.fixture(scope="module")
def chips_only(tmp_path_factory, world_dir):
    """A model whose only controlled goods are integrated circuits (heading 8542)."""
    folder = tmp_path_factory.mktemp("controlled")
    (folder / "annex.txt").write_text("# chips only\n8542\n", encoding="utf-8")
    return folder


def test_a_file_of_codes_controls_those_goods_alone(capsys, world_dir, chips_only, tmp_path):
    code, _, err = train(
        capsys, world_dir, tmp_path / "m", "--controlled", str(chips_only / "annex.txt")
    )
    assert code == EXIT_OK, err
    assert model_params(tmp_path / "m")["controlled"] == ["8542"]

    out = tmp_path / "out"
    score = ["score", "--model", str(tmp_path / "m"), "--data", str(world_dir)]
    assert run(capsys, *score, "--start", "2022-01", "--out", str(out))[0] == EXIT_OK
    leads = pd.read_csv(out / "leads.csv", dtype={"hs": str})
    assert leads["in_scope"].any()
    assert leads.loc[leads["in_scope"], "hs"].str.startswith("8542").all()


def test_a_named_list_sets_the_chp_version(capsys, world_dir, tmp_path):
    assert train(capsys, world_dir, tmp_path / "m", "--controlled", "chp-2023-09")[0] == EXIT_OK
    params = model_params(tmp_path / "m")
    assert (params["chp_version"], params["controlled"]) == ("2023-09", "chp")


@pytest.mark.parametrize("value", ["chp-2019-01", "no-such-file.txt"])
def test_an_unknown_list_exits_3_naming_the_choices(capsys, world_dir, tmp_path, value):
    code, _, err = train(capsys, world_dir, tmp_path / "m", "--controlled", value)
    assert code == EXIT_DATA
    assert "chp-2024-02" in err and "all" in err
    assert not (tmp_path / "m").exists()
