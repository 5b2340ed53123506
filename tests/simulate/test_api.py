"""simulate_world / simulate_panel: the canonical table, labels, determinism, arguments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.schema import CANONICAL_COLUMNS, KEY_COLUMNS, SERIES_KEY_COLUMNS
from anomaly.simulate import (
    DECOY_SCHEMES,
    EVASION_SCHEMES,
    SimulationConfig,
    simulate_panel,
    simulate_world,
)

from .conftest import N_SERIES, SEED


def test_flows_are_canonical(world):
    flows = world.flows
    assert list(flows.columns) == list(CANONICAL_COLUMNS)
    assert flows["period"].dtype == pd.PeriodDtype("M")
    for column in ("reporter", "partner", "flow", "hs"):
        assert pd.api.types.is_string_dtype(flows[column])
    assert flows["value"].dtype == np.float64
    assert flows.attrs["currency"] == "EUR"
    assert set(flows["flow"]) == {"export", "import"}
    assert flows["reporter"].str.fullmatch(r"[A-Z]{3}").all()
    assert flows["partner"].str.fullmatch(r"[A-Z]{3}").all()
    assert flows["hs"].str.fullmatch(r"\d{6}").all()
    assert (flows["reporter"] != flows["partner"]).all()


def test_values_positive_and_keys_unique(world):
    flows = world.flows
    assert np.isfinite(flows["value"]).all()
    assert (flows["value"] >= 1.0).all()  # absent months are absent rows, never zeros
    assert (flows["value"] == flows["value"].round()).all()  # whole euros
    assert not flows.duplicated(list(KEY_COLUMNS)).any()


def test_period_range(world):
    periods = world.flows["period"]
    assert str(periods.min()) == "2015-01"
    assert str(periods.max()) == "2024-12"


def test_n_series_counts_exporter_declared_series(world):
    exports = world.flows.loc[world.flows["flow"] == "export", ["reporter", "partner", "hs"]]
    # Schemes add a few series; HS2017 rows of revised codes count separately.
    n_exports = len(exports.drop_duplicates())
    assert N_SERIES * 0.95 <= n_exports <= N_SERIES * 1.15
    n_imports = world.flows.loc[world.flows["flow"] == "import", list(SERIES_KEY_COLUMNS)]
    assert 0.6 * n_exports < len(n_imports.drop_duplicates()) < n_exports


def test_labels_table(world):
    labels = world.labels
    assert list(labels.columns) == [
        *SERIES_KEY_COLUMNS,
        "scheme",
        "role",
        "onset",
        "evasion",
        "instance",
    ]
    assert labels["onset"].dtype == pd.PeriodDtype("M")
    assert labels["evasion"].dtype == bool
    assert not labels.duplicated(list(SERIES_KEY_COLUMNS)).any()
    assert set(labels["scheme"]) == set(EVASION_SCHEMES) | set(DECOY_SCHEMES)
    assert (labels["evasion"] == labels["scheme"].isin(EVASION_SCHEMES)).all()


def test_planted_share_is_small(world):
    n_series = len(world.flows[list(SERIES_KEY_COLUMNS)].drop_duplicates())
    assert 0.005 < len(world.labels) / n_series < 0.04


def test_same_seed_same_world(world):
    again = simulate_world(N_SERIES, seed=SEED)
    pd.testing.assert_frame_equal(world.flows, again.flows)
    pd.testing.assert_frame_equal(world.labels, again.labels)


def test_different_seed_different_world(world):
    other = simulate_world(N_SERIES, seed=SEED + 1)
    assert len(other.flows) != len(world.flows) or not other.flows.equals(world.flows)
    assert not other.labels[list(SERIES_KEY_COLUMNS)].equals(world.labels[list(SERIES_KEY_COLUMNS)])


def test_world_is_the_long_form_of_the_panel():
    panel = simulate_panel(300, seed=5)
    world = simulate_world(300, seed=5)
    pd.testing.assert_frame_equal(panel.to_flows(), world.flows)
    pd.testing.assert_frame_equal(panel.labels, world.labels)
    assert panel.values.dtype == np.float32
    assert panel.values.shape == (len(panel.keys), len(panel.periods))
    assert not panel.keys.duplicated().any()


def test_switches_remove_labels():
    assert simulate_world(300, seed=2, schemes=False, decoys=False).labels.empty
    only_decoys = simulate_world(300, seed=2, schemes=False)
    assert not only_decoys.labels["evasion"].any()
    only_schemes = simulate_world(300, seed=2, decoys=False)
    assert only_schemes.labels["evasion"].all()


def test_config_counts_schemes():
    config = SimulationConfig(transshipment_per_10k=100.0, phantom_export_per_10k=0.0)
    labels = simulate_world(1_000, seed=3, config=config).labels
    supplier = labels[(labels.scheme == "transshipment") & (labels.role == "supplier_export")]
    assert len(supplier) == 10
    assert "phantom_export" not in set(labels["scheme"])


def test_custom_window():
    world = simulate_world(200, start="2021-01", end="2023-06", seed=1)
    assert str(world.flows["period"].min()) == "2021-01"
    assert str(world.flows["period"].max()) == "2023-06"
    assert not world.labels.empty


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"n_series": 0}, "n_series"),
        ({"start": "2020-01", "end": "2019-01"}, "after end"),
        ({"end": "2021-12"}, "onset window"),
    ],
)
def test_bad_arguments(kwargs, message):
    arguments = {"n_series": 100, **kwargs}
    with pytest.raises(ValueError, match=message):
        simulate_world(**arguments)


def test_early_window_without_schemes():
    world = simulate_world(200, end="2021-12", schemes=False, decoys=False)
    assert str(world.flows["period"].max()) == "2021-12"
    assert world.labels.empty
