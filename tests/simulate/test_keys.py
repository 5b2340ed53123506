"""Which series exist: gravity draws, distinct keys, growing catalogue."""

from __future__ import annotations

import numpy as np

from anomaly.simulate.keys import catalogue_for, draw_keys
from anomaly.simulate.world import COUNTRIES


def test_keys_are_distinct_with_the_chp_share():
    catalogue = catalogue_for(20_000, 0.2)
    keys = draw_keys(
        20_000, catalogue, chp_share=0.2, mirror_coverage=0.85, rng=np.random.default_rng(0)
    )
    codes = keys.codes(len(catalogue))
    assert len(np.unique(codes)) == len(keys) == 20_000
    assert (np.diff(codes) > 0).all()
    assert (keys.exporter != keys.importer).all()
    assert abs(catalogue.chp[keys.hs].mean() - 0.2) < 1e-3
    assert 0.8 < keys.mirror.mean() < 0.9


def test_big_economies_trade_more():
    catalogue = catalogue_for(20_000, 0.2)
    keys = draw_keys(
        20_000, catalogue, chp_share=0.2, mirror_coverage=0.85, rng=np.random.default_rng(1)
    )
    exports = np.bincount(keys.exporter, minlength=len(COUNTRIES))
    index = {code: i for i, code in enumerate(COUNTRIES)}
    assert exports[index["DEU"]] > 10 * exports[index["KGZ"]]


def test_catalogue_grows_with_the_world():
    small, large = catalogue_for(1_000, 0.2), catalogue_for(1_000_000, 0.2)
    assert small.chp.sum() == large.chp.sum() == 50
    assert len(large) > 10 * len(small)
    assert set(small.codes) <= set(large.codes)
