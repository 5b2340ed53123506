"""write_world: files, formats and atomic replacement."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from anomaly.simulate import simulate_world, write_world


@pytest.fixture(scope="module")
def small_world():
    return simulate_world(300, seed=4)


def test_files_round_trip(tmp_path, small_world):
    out = write_world(small_world, tmp_path / "world")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*")) == [
        "config.json",
        "csv/flows.csv",
        "flows.parquet",
        "labels/labels.csv",
    ]
    csv = pd.read_csv(out / "csv" / "flows.csv", dtype={"hs": str})
    parquet = pd.read_parquet(out / "flows.parquet")
    expected = small_world.flows.assign(period=small_world.flows["period"].dt.strftime("%Y-%m"))
    pd.testing.assert_frame_equal(csv, expected, check_dtype=False)
    pd.testing.assert_frame_equal(parquet, expected, check_dtype=False)
    assert csv["period"].str.fullmatch(r"\d{4}-\d{2}").all()
    labels = pd.read_csv(out / "labels" / "labels.csv", dtype={"hs": str})
    assert list(labels.columns) == list(small_world.labels.columns)
    assert len(labels) == len(small_world.labels)
    assert labels["onset"].str.fullmatch(r"\d{4}-\d{2}").all()
    config = json.loads((out / "config.json").read_text())
    assert config["currency"] == "EUR"
    assert config["transshipment_per_10k"] == small_world.config.transshipment_per_10k


def test_rewrite_replaces_and_leaves_no_temporary_files(tmp_path, small_world):
    write_world(small_world, tmp_path)
    other = simulate_world(100, seed=9)
    write_world(other, tmp_path)
    assert len(pd.read_csv(tmp_path / "csv" / "flows.csv")) == len(other.flows)
    assert not [p for p in tmp_path.rglob(".*")]


def test_failed_write_keeps_the_previous_file(tmp_path, small_world, monkeypatch):
    write_world(small_world, tmp_path)
    before = (tmp_path / "csv" / "flows.csv").read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        write_world(simulate_world(100, seed=9), tmp_path)
    assert (tmp_path / "csv" / "flows.csv").read_bytes() == before
    assert not [p for p in tmp_path.rglob(".*")]
