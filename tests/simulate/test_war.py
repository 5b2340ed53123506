"""Ordinary war effects: Russia and Belarus fall silent, coalition exports collapse."""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.simulate import simulate_panel
from anomaly.simulate.world import CHP_CODES, COALITION


def test_russia_and_belarus_publish_nothing_from_2022(world):
    flows = world.flows
    sanctioned = flows["reporter"].isin(["RUS", "BLR"])
    assert not (sanctioned & (flows["period"] >= pd.Period("2022-01", "M"))).any()
    assert (sanctioned & (flows["period"] < pd.Period("2022-01", "M"))).sum() > 100
    # Their partners still declare trade with them.
    after = flows[flows["period"] >= pd.Period("2022-01", "M")]
    assert after["partner"].isin(["RUS", "BLR"]).any()


def test_coalition_chp_exports_to_russia_collapse():
    # Unplanted, and large enough to hold a few dozen such series.
    panel = simulate_panel(20_000, seed=2, schemes=False, decoys=False)
    values = np.nan_to_num(panel.values)
    before = values[:, (panel.periods.year >= 2019) & (panel.periods.year <= 2021)].mean(axis=1)
    after = values[:, panel.periods >= pd.Period("2022-06", "M")].mean(axis=1)
    keys = panel.keys
    direct = (
        keys["reporter"].isin(list(COALITION))
        & (keys["partner"] == "RUS")
        & (keys["flow"] == "export")
        & keys["hs"].isin(list(CHP_CODES))
    ).to_numpy() & (before > 0)
    assert direct.sum() >= 20
    assert np.median(after[direct] / before[direct]) < 0.3
    others = (keys["flow"] == "export").to_numpy() & ~keys["partner"].isin(
        ["RUS", "BLR"]
    ).to_numpy()
    others &= before > 0
    assert np.median(after[others] / before[others]) > 0.8
