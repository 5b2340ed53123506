"""The 2022 HS revision: HS2017 codes before 2022, HS2022 codes after."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.simulate.revision import split_revision
from anomaly.simulate.timeline import Timeline
from anomaly.simulate.world import HS2017_PREDECESSOR

REVISION = pd.Period("2022-01", "M")


@pytest.mark.parametrize(("old", "new"), [("854890", "854800"), ("880330", "880730")])
def test_old_codes_before_2022_new_codes_after(world, old, new):
    periods = world.flows["period"]
    assert (periods[world.flows["hs"] == old] < REVISION).all()
    assert (periods[world.flows["hs"] == new] >= REVISION).all()
    assert (world.flows["hs"] == old).any()
    assert (world.flows["hs"] == new).any()


def test_no_revised_code_crosses_the_revision(world):
    flows = world.flows
    before = flows["period"] < REVISION
    assert not flows.loc[before, "hs"].isin(list(HS2017_PREDECESSOR)).any()
    assert not flows.loc[~before, "hs"].isin(list(HS2017_PREDECESSOR.values())).any()


def test_split_codes_merge_before_2022():
    timeline = Timeline.between("2021-10", "2022-03")
    values = np.array(
        [[1, 1, 1, 1, 1, 1], [2, np.nan, 2, 2, 2, 2], [4, 4, np.nan, 4, 4, 4]], dtype=np.float32
    )
    old = split_revision(
        values,
        reporter=np.array([0, 0, 1]),
        partner=np.array([1, 1, 0]),
        hs=np.array(["851713", "851714", "880730"]),
        timeline=timeline,
    )
    assert old.hs.tolist() == ["851712", "880330"]
    np.testing.assert_array_equal(old.values[0, :3], [3, 1, 3])
    np.testing.assert_array_equal(old.values[1, :3], [4, 4, np.nan])
    assert np.isnan(old.values[:, 3:]).all()
    assert np.isnan(values[:, :3]).all() and not np.isnan(values[:, 3:]).any()


def test_window_after_the_revision_keeps_everything():
    timeline = Timeline.between("2022-02", "2022-03")
    values = np.ones((1, 2), dtype=np.float32)
    old = split_revision(values, np.array([0]), np.array([1]), np.array(["854800"]), timeline)
    assert len(old.hs) == 0
    assert (values == 1).all()
