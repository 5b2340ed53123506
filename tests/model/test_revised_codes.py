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
