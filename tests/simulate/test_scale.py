"""simulate_panel scales to large worlds: vectorised, float32, bounded time."""

from __future__ import annotations

import time

import numpy as np

from anomaly.simulate import simulate_panel


def test_hundred_thousand_series():
    started = time.perf_counter()
    panel = simulate_panel(100_000, seed=0)
    elapsed = time.perf_counter() - started
    assert elapsed < 30  # about 2 s on one core
    assert panel.values.dtype == np.float32
    n_exports = int((panel.keys["flow"] == "export").sum())
    assert 95_000 < n_exports < 110_000
    assert panel.values.shape == (len(panel.keys), 120)
    share = len(panel.labels) / len(panel.keys)
    assert 0.005 < share < 0.03
