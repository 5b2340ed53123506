"""Shared simulated worlds: built once per test session, small enough to be fast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.schema import SERIES_KEY_COLUMNS
from anomaly.simulate import SimulatedWorld, simulate_world
from anomaly.simulate.world import HS2017_PREDECESSOR

N_SERIES = 2_000
SEED = 11


@pytest.fixture(scope="session")
def world() -> SimulatedWorld:
    return simulate_world(N_SERIES, seed=SEED)


@pytest.fixture(scope="session")
def placebo() -> SimulatedWorld:
    """The same world without planted schemes or decoys."""
    return simulate_world(N_SERIES, seed=SEED, schemes=False, decoys=False)


@pytest.fixture(scope="session")
def wide(world: SimulatedWorld) -> pd.DataFrame:
    """Series × month values, absent months as 0, pre-2022 rows of one-to-one revised
    codes moved onto their HS2022 code (split codes stay apart)."""
    return to_wide(world.flows)


def to_wide(flows: pd.DataFrame) -> pd.DataFrame:
    successors: dict[str, list[str]] = {}
    for new, old in HS2017_PREDECESSOR.items():
        successors.setdefault(old, []).append(new)
    one_to_one = {old: news[0] for old, news in successors.items() if len(news) == 1}
    flows = flows.assign(hs=flows["hs"].replace(one_to_one))
    return flows.pivot_table(
        index=list(SERIES_KEY_COLUMNS), columns="period", values="value", aggfunc="sum"
    ).fillna(0.0)


def window_mean(wide: pd.DataFrame, start: str, end: str) -> pd.Series:
    """Mean monthly value of each series over ``start``..``end`` (absent months as 0)."""
    columns = (wide.columns >= pd.Period(start, "M")) & (wide.columns <= pd.Period(end, "M"))
    return wide.loc[:, columns].mean(axis=1)


def war_ratio(wide: pd.DataFrame) -> pd.Series:
    """2022–2023 mean over 2019–2021 mean, NaN for series without pre-war trade."""
    before = window_mean(wide, "2019-01", "2021-12")
    return window_mean(wide, "2022-01", "2023-12") / before.where(before > 0)


def labelled(world: SimulatedWorld, scheme: str, role: str | None = None) -> pd.DataFrame:
    labels = world.labels[world.labels["scheme"] == scheme]
    return labels if role is None else labels[labels["role"] == role]


def keys_of(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(frame[list(SERIES_KEY_COLUMNS)])


def unlabelled_ratio(world: SimulatedWorld, wide: pd.DataFrame) -> np.ndarray:
    ratio = war_ratio(wide)
    return ratio[~ratio.index.isin(keys_of(world.labels))].dropna().to_numpy()
