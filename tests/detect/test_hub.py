"""Hub detector: the other suppliers' inflow into a hub, beside the hub's onward leg."""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.detect import DetectionConfig, HubDetector, hub_inflow

CONFIG = DetectionConfig(transit=("KAZ",))


def table(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["reporter", "partner", "flow", "hs", "actual", "expected", "z", "onward_z"]
    )
    return frame.assign(lower=frame["expected"] * 0.7, upper=frame["expected"] * 1.33)


def test_a_suppliers_own_surge_does_not_lend_strength_to_itself_or_bystanders():
    rows = [
        ("DEU", "KAZ", "export", "854231", 1000.0, 100.0, 9.0, 5.0),  # one big surge
        ("KAZ", "DEU", "import", "854231", 1000.0, 100.0, 9.0, 5.0),  # ... its mirror
        ("FRA", "KAZ", "export", "854231", 100.0, 100.0, 2.5, 5.0),  # flat bystanders
        ("KAZ", "FRA", "import", "854231", 100.0, 100.0, 2.5, 5.0),
        ("POL", "KAZ", "export", "854231", 100.0, 100.0, 2.5, 5.0),
        ("KAZ", "POL", "import", "854231", 100.0, 100.0, 2.5, 5.0),
    ]
    inflow = hub_inflow(table(rows), CONFIG)["hub_inflow_z"].to_numpy()
    assert abs(inflow[0]) < 1e-9 and abs(inflow[1]) < 1e-9  # the others did not rise
    assert inflow[2] > 10  # the bystanders see DEU's surge in the hub's inflow ...
    log_p = HubDetector(CONFIG).log_pvalue(table(rows).assign(hub_inflow_z=inflow))
    assert np.isfinite(log_p).all()


def test_moderate_rises_of_several_suppliers_form_one_strong_picture():
    suppliers = ["DEU", "FRA", "POL", "ITA", "NLD", "SWE"]
    rows = [(s, "KAZ", "export", "854231", 160.0, 100.0, 2.2, 6.0) for s in suppliers]
    frame = table(rows)
    frame = frame.assign(**hub_inflow(frame, CONFIG))
    assert (frame["hub_inflow_z"] > 4).all()
    detector = HubDetector(CONFIG)
    assert (np.exp(detector.log_pvalue(frame)) < 1e-4).all()
    assert detector.signals(frame)["hub_inflow"].all()
    flat = frame.assign(z=0.5)  # the same picture, but this supplier did not rise
    assert np.isnan(detector.log_pvalue(flat)).all()
    no_onward = frame.assign(onward_z=0.0)  # the goods did not go on
    assert (np.exp(detector.log_pvalue(no_onward)) >= 0.5).all()


def test_flows_without_history_are_read_against_their_baseline_and_not_counted_as_inflow():
    suppliers = ["DEU", "FRA", "POL", "ITA", "NLD", "SWE"]
    rows = [(s, "KAZ", "export", "854231", 160.0, 100.0, 2.2, 6.0) for s in suppliers]
    # A code without history: no residual z, a guessed expected value far below actual.
    rows.append(("CZE", "KAZ", "export", "854231", 5000.0, 10.0, np.nan, 6.0))
    frame = table(rows).assign(history_known=[True] * 6 + [False])
    frame = frame.assign(baseline_z=[np.nan] * 6 + [3.0], **hub_inflow(frame, CONFIG))
    without_guess = hub_inflow(table(rows[:6]), CONFIG)["hub_inflow_z"].to_numpy()
    np.testing.assert_allclose(frame["hub_inflow_z"].to_numpy()[:6], without_guess)
    signals = HubDetector(CONFIG).signals(frame)["hub_inflow"]
    assert signals[6]  # its own rise is read against its months before the sanctions
    assert not HubDetector(CONFIG).signals(frame.assign(baseline_z=1.0))["hub_inflow"][6]
