"""SimulationConfig: validation and scheme counts."""

from __future__ import annotations

import dataclasses

import pytest

from anomaly.simulate import SimulationConfig


def test_defaults_are_frozen():
    config = SimulationConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.chp_share = 0.5  # type: ignore[misc]


def test_count_scales_and_keeps_one():
    config = SimulationConfig()
    assert config.count("transshipment", 100) == 1
    assert config.count("transshipment", 1_000_000) == 2_400
    assert SimulationConfig(diffuse_hub_per_10k=0).count("diffuse_hub", 10**6) == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"chp_share": 1.5},
        {"mirror_coverage": -0.1},
        {"covid_trough": 1.0},
        {"transshipment_per_10k": -1.0},
        {"noise_sd": (0.5, 0.2)},
        {"demand_boom_destinations": 6},
        {"onset_window": ("2022-09", "2022-03")},
    ],
)
def test_invalid_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        SimulationConfig(**kwargs)
