"""An external general-demand control: trade in other goods, for data of controlled
goods alone (TradeAnomalyModel.demand_control, score(demand=...))."""

from __future__ import annotations

import numpy as np
import pytest

from anomaly import TradeAnomalyModel
from anomaly.errors import DataError

from .conftest import BOOM, BOOM_FACTOR, CHP_GOODS, SCORE, TRAIN


@pytest.fixture(scope="module")
def split(constructed_flows):
    """The controlled goods alone, and the other goods as a separate file would hold them."""
    chp = constructed_flows[constructed_flows["hs"].isin(CHP_GOODS)].reset_index(drop=True)
    other = constructed_flows[~constructed_flows["hs"].isin(CHP_GOODS)].reset_index(drop=True)
    chp.attrs = other.attrs = dict(constructed_flows.attrs)
    return chp, other


@pytest.fixture(scope="module")
def chp_model(split):
    return TradeAnomalyModel().fit(split[0], *TRAIN)


def boom_factors(leads):
    into_boom = (leads["partner"] == BOOM) & (leads["flow"] == "export")
    return leads.loc[into_boom, "demand_factor"].to_numpy()


def test_without_other_goods_a_boom_is_not_controlled(split, chp_model):
    leads = chp_model.score(split[0], *SCORE).leads
    np.testing.assert_array_equal(boom_factors(leads), 1.0)


def test_an_external_control_reads_the_boom_as_the_data_own_goods_would(
    split, chp_model, constructed_flows
):
    scores = chp_model.score(split[0], *SCORE, demand=split[1])
    external = boom_factors(scores.leads)
    internal = boom_factors(
        TradeAnomalyModel().fit(constructed_flows, *TRAIN).score(constructed_flows, *SCORE).leads
    )
    assert len(np.unique(external)) == 1
    assert 0.8 * BOOM_FACTOR < external[0] <= BOOM_FACTOR * 1.1
    assert external[0] == pytest.approx(internal[0], rel=0.1)
    assert scores.run["demand_control"]["months"] == ["2015-01", "2024-01"]


def test_the_control_never_applies_to_a_sanctioned_destination(split, chp_model):
    leads = chp_model.score(split[0], *SCORE, demand=split[1]).leads
    np.testing.assert_array_equal(leads.loc[leads["partner"] == "RUS", "demand_factor"], 1.0)


def test_a_control_without_training_months_is_refused(split, chp_model):
    late = split[1][split[1]["period"] >= "2022-06"]
    late.attrs = dict(split[1].attrs)
    with pytest.raises(DataError, match="after the training window"):
        chp_model.demand_control(late, *SCORE)
