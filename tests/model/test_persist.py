"""Saving a fitted TradeAnomalyModel and loading it back, byte for byte."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest

import anomaly
from anomaly import TradeAnomalyModel
from anomaly.artifacts import pack_artifact
from anomaly.demo import SCORE_WINDOW
from anomaly.errors import ArtifactError, ArtifactIntegrityError, DataError

from .conftest import SCORE, TRAIN

FITTED = {
    "demo": ("demo_model", "demo", SCORE_WINDOW),
    "constructed": (
        "constructed_model",
        "constructed_flows",
        SCORE,
    ),
}


@pytest.fixture(params=sorted(FITTED))
def fitted(request):
    """(model, flows, scoring window) of each fitted model."""
    model_name, flows_name, window = FITTED[request.param]
    return request.getfixturevalue(model_name), request.getfixturevalue(flows_name), window


@pytest.fixture(scope="module")
def saved(tmp_path_factory, constructed_model) -> Path:
    return constructed_model.save(tmp_path_factory.mktemp("model") / "constructed")


def flip_byte(path: Path, position: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    where = len(data) // 2 if position is None else position
    data[where] ^= 0x01
    path.write_bytes(bytes(data))


def copy_artifact(source: Path, target: Path) -> Path:
    target.mkdir()
    for item in source.iterdir():
        (target / item.name).write_bytes(item.read_bytes())
    return target


def test_save_then_load_gives_identical_leads_and_frame(fitted, tmp_path):
    model, flows, window = fitted
    loaded = anomaly.load(model.save(tmp_path / "model"))
    before, after = model.score(flows, *window), loaded.score(flows, *window)
    pd.testing.assert_frame_equal(after.leads, before.leads)
    pd.testing.assert_frame_equal(after.frame, before.frame)
    assert after.run == before.run


def test_loading_restores_the_fitted_state_and_parameters(fitted, tmp_path):
    model, _, _ = fitted
    loaded = TradeAnomalyModel.load(model.save(tmp_path / "model"))
    assert loaded.train_window_ == model.train_window_
    assert loaded.currency_ == model.currency_
    assert loaded.data_fingerprint_ == model.data_fingerprint_
    assert loaded.alert_threshold_ == model.alert_threshold_
    assert loaded.detection_config_ == model.detection_config_
    assert [d.name for d in loaded.detectors_] == [d.name for d in model.detectors_]
    pd.testing.assert_frame_equal(loaded.keys_, model.keys_)
    assert (loaded.n_estimators, loaded.placebo_months) == (
        model.n_estimators,
        model.placebo_months,
    )


def assert_same_bytes_apart_from_created(saved: Path, again: Path) -> None:
    names = sorted(p.name for p in saved.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    assert {"arrays.npz", "manifest.json"} <= set(names)
    assert any(name.endswith(".parquet") for name in names)
    for name in names:
        if name != "manifest.json":
            assert (saved / name).read_bytes() == (again / name).read_bytes(), name
    first = json.loads((saved / "manifest.json").read_text())
    second = json.loads((again / "manifest.json").read_text())
    assert first.pop("created") != second.pop("created")
    assert first == second


def test_a_model_trained_on_one_year_loads_and_scores(constructed_flows, tmp_path):
    """Twelve training months: the placebo window is a third of them (4 months), not the
    12 the model asks for, and the saved model loads as it was trained."""
    model = TradeAnomalyModel(n_estimators=20).fit(constructed_flows, "2021-01", "2021-12")
    loaded = anomaly.load(model.save(tmp_path / "model"))
    before, after = model.score(constructed_flows, *SCORE), loaded.score(constructed_flows, *SCORE)
    pd.testing.assert_frame_equal(after.leads, before.leads)


def test_a_training_window_too_short_for_a_placebo_is_refused(constructed_flows):
    with pytest.raises(DataError, match=r"2021-04..2021-11 has 8 months; expected at least 9"):
        TradeAnomalyModel(n_estimators=20).fit(constructed_flows, "2021-04", "2021-11")


def test_two_saves_of_one_fit_are_byte_identical_apart_from_created(
    saved, constructed_model, tmp_path
):
    time.sleep(1.1)  # `created` has one-second resolution: make it differ
    assert_same_bytes_apart_from_created(saved, constructed_model.save(tmp_path / "again"))


def test_a_loaded_model_saves_the_bytes_it_was_loaded_from(saved, tmp_path):
    time.sleep(1.1)
    assert_same_bytes_apart_from_created(saved, anomaly.load(saved).save(tmp_path / "again"))


def test_two_fits_on_the_same_data_save_the_same_bytes(saved, constructed_flows, tmp_path):
    refit = TradeAnomalyModel(n_estimators=100).fit(constructed_flows, *TRAIN)
    again = refit.save(tmp_path / "refit")
    for name in ("arrays.npz", "series.parquet", "detector.mirror.pairs.parquet"):
        assert (saved / name).read_bytes() == (again / name).read_bytes(), name


@pytest.mark.parametrize("name", ["arrays.npz", "series.parquet", "detector.mirror.pairs.parquet"])
def test_load_refuses_one_changed_byte(saved, tmp_path, name):
    copy = copy_artifact(saved, tmp_path / "copy")
    flip_byte(copy / name)
    with pytest.raises(ArtifactIntegrityError, match=name):
        anomaly.load(copy)


def test_load_refuses_a_missing_file(saved, tmp_path):
    copy = copy_artifact(saved, tmp_path / "copy")
    (copy / "series.parquet").unlink()
    with pytest.raises(ArtifactIntegrityError):
        anomaly.load(copy)


def test_load_refuses_something_that_is_not_a_model(tmp_path):
    with pytest.raises(ArtifactError):
        anomaly.load(tmp_path / "nothing-here")


def test_a_zip_archive_loads_and_scores_the_same(
    saved, constructed_flows, constructed_leads, tmp_path
):
    archive = pack_artifact(saved, tmp_path / "model.zip")
    loaded = anomaly.load(archive)
    pd.testing.assert_frame_equal(loaded.score(constructed_flows, *SCORE).leads, constructed_leads)


def test_a_changed_byte_in_a_zip_archive_is_refused(saved, tmp_path):
    archive = pack_artifact(saved, tmp_path / "model.zip")
    flip_byte(archive, position=archive.stat().st_size // 2)
    with pytest.raises(ArtifactIntegrityError):
        anomaly.load(archive)


def test_an_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(ArtifactError, match="fit"):
        TradeAnomalyModel().save(tmp_path / "model")
