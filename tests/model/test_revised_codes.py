"""Codes new in HS2022 whose predecessors the input lacks: read against their first months."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly import TradeAnomalyModel
from anomaly.simulate import SimulationConfig, simulate_world

from .conftest import SCORE, TRAIN

KEYS = ["reporter", "partner", "flow", "hs"]


@pytest.fixture(scope="module")
def revision_gap_leads():
    """Leads of a simulated world whose files lack every HS2017 predecessor."""
    world = simulate_world(3_000, seed=1, config=SimulationConfig(quirks=["revision-gap"]))
    model = TradeAnomalyModel(n_estimators=100).fit(world.flows, *TRAIN)
    leads = model.score(world.flows, *SCORE).leads
    planted = pd.MultiIndex.from_frame(world.labels.loc[world.labels["evasion"], KEYS])
    return leads.assign(planted=pd.MultiIndex.from_frame(leads[KEYS]).isin(planted))


def test_schemes_on_codes_without_history_rank_near_the_top(revision_gap_leads):
    unknown = revision_gap_leads[~revision_gap_leads["history_known"].astype(bool)]
    planted = unknown[unknown["planted"]]
    assert len(planted) >= 5
    assert planted["rank"].median() <= 0.02 * len(revision_gap_leads)
    assert planted["signals"].str.contains("baseline_surge").mean() >= 0.5


def test_ordinary_series_of_those_codes_read_as_standard_normal(revision_gap_leads):
    unknown = revision_gap_leads[~revision_gap_leads["history_known"].astype(bool)]
    z = unknown.loc[~unknown["planted"], "baseline_z"].to_numpy(dtype=float)
    assert np.isfinite(z).mean() > 0.9
    z = z[np.isfinite(z)]
    assert abs(np.mean(z)) < 0.3
    assert 0.8 < np.std(z) < 1.25
    assert (z >= 2.326).mean() < 0.03


def test_the_explanation_compares_with_the_months_before_the_sanctions(revision_gap_leads):
    unknown = revision_gap_leads[~revision_gap_leads["history_known"].astype(bool)]
    rose = unknown[unknown["baseline_ratio"].notna()]
    assert rose["explanation"].str.contains("against its months before the sanctions").all()
    assert rose["explanation"].str.contains("history not in the data").all()


def test_training_lists_the_codes_without_history_and_saves_them(tmp_path, caplog):
    world = simulate_world(600, seed=2, config=SimulationConfig(quirks=["revision-gap"]))
    with caplog.at_level("INFO", logger="anomaly"):
        model = TradeAnomalyModel(n_estimators=20).fit(world.flows, *TRAIN)
    codes = model.no_history_codes_
    assert codes  # the world's revised codes, without their predecessors
    in_data = set(world.flows["hs"].astype(str))
    assert set(codes) <= in_data | set(model.scorer_.unknown_history)
    code, before = next(iter(codes.items()))
    assert f"{code} (was {'/'.join(before)})" in caplog.text
    assert "have no history in the training data" in caplog.text
    model.save(tmp_path / "model")
    from anomaly import load

    assert load(tmp_path / "model").no_history_codes_ == codes
    # The same world with its predecessors: fewer such codes among those it holds
    # (a code split in HS2022 keeps its predecessor's history under one successor).
    whole = simulate_world(600, seed=2)
    held = set(whole.flows["hs"].astype(str))
    fitted = TradeAnomalyModel(n_estimators=20).fit(whole.flows, *TRAIN)
    assert len(set(fitted.no_history_codes_) & held) < len(set(codes) & in_data)
