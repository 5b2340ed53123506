"""A detector written outside the package plugs in through the public protocol alone.

``MonthsAboveBand`` (the share of a window's months above the band, read against the
placebo's share) is written here, as a user would write one: it is fitted and scored
by a model, saved and loaded, and scored in a batch run, with nothing changed in
``anomaly.model``, ``anomaly.batch`` or ``anomaly.artifacts``.
"""

from __future__ import annotations

import filecmp

import numpy as np
import pytest
from scipy.stats import binom

import anomaly
from anomaly import TradeAnomalyModel
from anomaly.batch import score_batch
from anomaly.detect import BaseDetector, DetectionConfig, DetectorState, default_detectors
from anomaly.detect import register_detector as register
from anomaly.simulate import simulate_world, write_world

TRAIN, SCORE = ("2015-01", "2021-12"), ("2022-01", "2023-12")


class MonthsAboveBand(BaseDetector):
    """Months above the band, against the placebo's rate (a binomial tail)."""

    name, pvalue_column, signal_names = "months_above_band", "p_above_band", ("above_band",)

    def summarise(self, window):
        return {"months_above": (window.z_months > self.config.band_z).sum(axis=1)}

    def fit(self, train, placebo):
        if placebo is not None:
            table = placebo.table
            self.rate_ = float(table["months_above"].sum() / table["n_months"].sum())
        return self

    def log_pvalue(self, table):
        return binom.logsf(table["months_above"] - 1, table["n_months"], self.rate_)

    def signals(self, table):
        return {"above_band": table[self.pvalue_column].to_numpy() <= 1e-3}

    def to_state(self):
        return DetectorState(arrays={"rate": np.array(self.rate_)})

    @classmethod
    def from_state(cls, state, config):
        detector = cls(config)
        detector.rate_ = float(state.arrays["rate"])
        return detector


@pytest.fixture(scope="module")
def registered():
    register(MonthsAboveBand)
    yield MonthsAboveBand
    anomaly.detect.DETECTORS.pop(MonthsAboveBand.name)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return write_world(simulate_world(600, seed=4), tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def fitted(registered, world):
    detectors = [*default_detectors(DetectionConfig(), n_estimators=50), MonthsAboveBand()]
    flows = anomaly.read_flows(world / "flows.parquet")
    return TradeAnomalyModel(detectors=detectors).fit(flows, *TRAIN), flows


def test_the_new_detector_adds_its_evidence_and_signal_to_the_leads(fitted):
    model, flows = fitted
    leads = model.score(flows, *SCORE).leads
    assert model.detectors_[-1].rate_ == pytest.approx(0.05, abs=0.04)
    p = leads["p_above_band"]
    assert p.between(0, 1).all() and (p < 1e-3).any() and (p > 0.5).any()
    assert leads["signals"].str.contains("above_band").any()
    # Its evidence counts in the score: a lead it alone supports ranks above p = 1.
    strongest = leads.loc[p.idxmin()]
    assert strongest["score"] >= -np.log10(strongest["p_above_band"]) - np.log10(5)


def test_it_is_saved_and_loaded_and_scores_the_same(fitted, tmp_path):
    model, flows = fitted
    saved = model.save(tmp_path / "model")
    loaded = anomaly.load(saved)
    assert type(loaded.detectors_[-1]) is MonthsAboveBand
    assert loaded.detectors_[-1].rate_ == model.detectors_[-1].rate_
    memory = model.score(flows, *SCORE).write(tmp_path / "memory")
    again = loaded.score(flows, *SCORE).write(tmp_path / "loaded")
    assert filecmp.cmp(memory / "leads.csv", again / "leads.csv", shallow=False)


def test_a_batch_run_of_the_saved_model_gives_the_in_memory_leads(fitted, world, tmp_path):
    # One job: the detector is registered in this process only. Workers of other
    # processes find a detector that an installed package declares as an entry point
    # (see test_an_installed_entry_point_is_found).
    model, flows = fitted
    saved = model.save(tmp_path / "model")
    memory = model.score(flows, *SCORE).write(tmp_path / "memory")
    batch = tmp_path / "batch"
    score_batch(saved, [world / "flows.parquet"], start=SCORE[0], end=SCORE[1], out_dir=batch)
    assert filecmp.cmp(memory / "leads.csv", batch / "leads.csv", shallow=False)


def test_an_installed_entry_point_is_found(tmp_path, monkeypatch):
    (tmp_path / "plugin_detectors.py").write_text(
        "from anomaly.detect import BaseDetector\n"
        "class Quiet(BaseDetector):\n    name = 'quiet_plugin'\n"
    )
    info = tmp_path / "plugin_detectors-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plugin-detectors\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[anomaly.detectors]\nquiet_plugin = plugin_detectors:Quiet\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert anomaly.detect.detector_class("quiet_plugin").__name__ == "Quiet"
        assert anomaly.detect.detector_class("no_such_detector") is None
    finally:
        anomaly.detect.DETECTORS.pop("quiet_plugin", None)


def test_loading_a_model_whose_detector_is_not_registered_is_refused(fitted, tmp_path):
    model, _ = fitted
    saved = model.save(tmp_path / "model")
    anomaly.detect.DETECTORS.pop(MonthsAboveBand.name)
    try:
        with pytest.raises(anomaly.errors.ArtifactError, match="months_above_band"):
            anomaly.load(saved)
    finally:
        register(MonthsAboveBand)
