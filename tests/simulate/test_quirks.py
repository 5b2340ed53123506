"""Quirk switches (issue 11) and world settings: off by default, each leaves out what it says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.io import validate_flows
from anomaly.io.validate import MAX_VALUE
from anomaly.schema import SERIES_KEY_COLUMNS
from anomaly.simulate import QUIRKS, SimulatedWorld, SimulationConfig, simulate_world
from anomaly.simulate.world import CHP_CODES, COALITION, HS2017_PREDECESSOR, HUBS

N_SERIES = 2_000
SEED = 5
END = "2023-12"


def quirk_world(*quirks: str, **settings) -> SimulatedWorld:
    config = SimulationConfig(quirks=frozenset(quirks), **settings)
    return simulate_world(N_SERIES, seed=SEED, end=END, config=config)


@pytest.fixture(scope="module")
def clean() -> SimulatedWorld:
    return simulate_world(N_SERIES, seed=SEED, end=END)


def rows_of(flows: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(flows[["period", *SERIES_KEY_COLUMNS]])


def same_rows(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return a.reset_index(drop=True).equals(b.reset_index(drop=True))


def test_no_quirk_by_default(clean):
    assert SimulationConfig().quirks == frozenset()
    assert clean.coverage.partial == clean.coverage.lagged == {}
    assert clean.coverage.absent_predecessors == {}
    assert clean.coverage.data_start is None
    explicit = simulate_world(
        N_SERIES, seed=SEED, end=END, config=SimulationConfig(quirks=frozenset())
    )
    assert explicit.flows.equals(clean.flows)


def test_quirks_are_named_and_checked():
    assert set(QUIRKS) == {"partial-stop", "lag", "revision-gap", "late-start", "all-sanctioned"}
    assert SimulationConfig(quirks=["lag", "late-start"]).quirks == {"lag", "late-start"}
    assert SimulationConfig(quirks="lag,partial-stop").quirks == {"lag", "partial-stop"}
    with pytest.raises(ValueError, match="unknown quirks"):
        SimulationConfig(quirks={"breakdown-only"})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"transshipment_factor": (5.0, 2.0)},
        {"diffuse_hub_factor": (0.0, 2.0)},
        {"noise_df": 2.0},
        {"partial_stop_share": 1.5},
        {"lag_months": (0, 2)},
        {"lag_reporters": 12},
        {"late_start": "not a month"},
        {"intermittency_shift": 5.0},
    ],
)
def test_invalid_quirk_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        SimulationConfig(**kwargs)


def test_lists_from_json_become_tuples():
    config = SimulationConfig(transshipment_factor=[1.5, 8.0], noise_sd=[0.3, 1.0])
    assert config.transshipment_factor == (1.5, 8.0)
    assert config.noise_sd == (0.3, 1.0)
    assert hash(config)  # a frozen config stays hashable


def test_partial_stop_publishes_a_third_of_one_last_month(clean):
    world = quirk_world("partial-stop")
    assert world.coverage.partial == {"BLR": "2022-01", "RUS": "2022-01"}
    flows = world.flows
    sanctioned = flows["reporter"].isin(["RUS", "BLR"])
    months = flows.loc[sanctioned, "period"]
    assert months.max() == pd.Period("2022-01", "M")
    last = int((months == pd.Period("2022-01", "M")).sum())
    usual = int((months == pd.Period("2021-12", "M")).sum())
    assert 0.15 * usual < last < 0.55 * usual
    # Everything else is the clean world's.
    extra = sanctioned & (flows["period"] == pd.Period("2022-01", "M"))
    assert same_rows(flows[~extra], clean.flows)


def test_lag_leaves_the_last_months_of_a_few_hubs_out(clean):
    world = quirk_world("lag", lag_reporters=4, lag_months=(1, 3))
    lagged = world.coverage.lagged
    assert len(lagged) == 4 and set(lagged) <= HUBS
    assert all(1 <= months <= 3 for months in lagged.values())
    flows, end = world.flows, pd.Period(END, "M")
    missing = np.zeros(len(clean.flows), dtype=bool)
    for reporter, months in lagged.items():
        theirs = flows[flows["reporter"] == reporter]
        assert theirs["period"].max() <= end - months
        missing |= (clean.flows["reporter"] == reporter).to_numpy() & (
            clean.flows["period"] > end - months
        ).to_numpy()
    assert missing.any()
    assert same_rows(flows, clean.flows[~missing])
    # Their partners still declared those months: the mirror comparison is one-sided.
    partners = clean.flows["partner"].isin(list(lagged)) & (clean.flows["period"] == end)
    assert flows.loc[flows["period"] == end, "partner"].isin(list(lagged)).sum() == partners.sum()


def test_revision_gap_drops_every_hs2017_predecessor(clean):
    world = quirk_world("revision-gap")
    assert world.coverage.absent_predecessors == dict(sorted(HS2017_PREDECESSOR.items()))
    old = set(HS2017_PREDECESSOR.values())
    assert not world.flows["hs"].isin(old).any()
    assert clean.flows["hs"].isin(old).any()
    assert same_rows(world.flows, clean.flows[~clean.flows["hs"].isin(old)])
    # The HS2022 codes keep their rows from 2022: with no history in the file.
    revised = world.flows[world.flows["hs"].isin(list(HS2017_PREDECESSOR))]
    assert len(revised) and revised["period"].min() >= pd.Period("2022-01", "M")


def test_late_start_cuts_the_months_before_it(clean):
    world = quirk_world("late-start", late_start="2020-01")
    assert world.coverage.data_start == "2020-01"
    assert world.flows["period"].min() == pd.Period("2020-01", "M")
    kept = clean.flows["period"] >= pd.Period("2020-01", "M")
    assert same_rows(world.flows, clean.flows[kept])
    assert world.labels.equals(clean.labels)


def test_late_start_outside_the_world_is_refused():
    with pytest.raises(ValueError, match="late_start"):
        quirk_world("late-start", late_start="2030-01")


def test_all_sanctioned_collapses_every_coalition_good_to_russia(clean):
    world = quirk_world("all-sanctioned")

    def direct(flows: pd.DataFrame) -> pd.Series:
        return (
            flows["reporter"].isin(list(COALITION))
            & flows["partner"].isin(["RUS", "BLR"])
            & (flows["flow"] == "export")
        )

    def ratio(flows: pd.DataFrame) -> float:
        other = flows[direct(flows) & ~flows["hs"].isin(list(CHP_CODES))]
        before = other.loc[other["period"].dt.year == 2021, "value"].sum()
        after = other.loc[other["period"].dt.year == 2023, "value"].sum()
        return after / before

    assert ratio(clean.flows) > 0.25
    assert ratio(world.flows) < 0.2
    # Nothing else changes.
    assert same_rows(world.flows[~direct(world.flows)], clean.flows[~direct(clean.flows)])


def test_quirks_combine():
    world = quirk_world(*QUIRKS)
    coverage = world.coverage
    assert coverage.partial and coverage.lagged and coverage.absent_predecessors
    assert world.flows["period"].min() == pd.Period(coverage.data_start, "M")
    assert world.labels["evasion"].any()


def test_scheme_sizes_follow_the_config(clean):
    small = simulate_world(
        N_SERIES,
        seed=SEED,
        end=END,
        config=SimulationConfig(transshipment_factor=(1.5, 2.0), diffuse_hub_factor=(1.2, 1.3)),
    )
    # The same series are planted: only their strength changes.
    assert small.labels.drop(columns="onset").equals(clean.labels.drop(columns="onset"))

    def surge(world: SimulatedWorld) -> float:
        keys = list(SERIES_KEY_COLUMNS)
        chosen = world.labels[
            (world.labels["scheme"] == "transshipment")
            & (world.labels["role"] == "supplier_export")
        ]
        flows = world.flows.merge(chosen[keys], on=keys)
        year = flows["period"].dt.year
        after = flows[year == 2023].groupby(keys)["value"].sum()
        before = flows[year == 2021].groupby(keys)["value"].sum()
        return float(np.nanmedian((after / before).to_numpy()))

    assert surge(small) < 3.0 < surge(clean)


def test_intermittency_and_noise_family_change_the_paths(clean):
    sparse = quirk_world(intermittency_shift=1.0)
    assert len(sparse.flows) < 0.9 * len(clean.flows)
    heavy = quirk_world(noise_df=3.0)
    assert not heavy.flows["value"].equals(clean.flows["value"])
    assert heavy.labels.equals(clean.labels)


def test_the_heaviest_tails_stay_within_the_data_contract():
    """A Student-t tail in log space draws values no trade statistic holds (2e23 in one
    month of a held-out world): the simulator declares none above the ceiling that
    validation accepts."""
    heavy = quirk_world(noise_df=2.1, noise_sd=(0.9, 0.9))
    assert heavy.flows["value"].max() <= MAX_VALUE
    validate_flows(heavy.flows)


def test_decoy_strengths_follow_the_config(clean):
    strong = quirk_world(demand_boom_factor=(4.0, 4.0))
    chosen = strong.labels[strong.labels["scheme"] == "demand_boom"]
    assert len(chosen) and chosen.drop(columns="onset").equals(
        clean.labels[clean.labels["scheme"] == "demand_boom"].drop(columns="onset")
    )
    keys = list(SERIES_KEY_COLUMNS)

    def total_2023(world: SimulatedWorld) -> float:
        flows = world.flows.merge(chosen[keys], on=keys)
        return float(flows.loc[flows["period"].dt.year == 2023, "value"].sum())

    assert total_2023(strong) > 1.2 * total_2023(clean)
