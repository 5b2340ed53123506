"""Planted schemes and decoys: present, labelled, and shaped as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.schema import SERIES_KEY_COLUMNS
from anomaly.simulate import DECOY_SCHEMES, EVASION_SCHEMES
from anomaly.simulate.world import CHP_CODES, COALITION, HUBS

from .conftest import keys_of, labelled, unlabelled_ratio, war_ratio, window_mean


@pytest.mark.parametrize("scheme", [*EVASION_SCHEMES, *DECOY_SCHEMES])
def test_every_scheme_is_planted(world, scheme):
    assert len(labelled(world, scheme)) > 0


def test_labelled_series_exist_in_flows(world):
    series = keys_of(world.flows.drop_duplicates(list(SERIES_KEY_COLUMNS)))
    assert keys_of(world.labels).isin(series).all()


def test_decoys_are_not_evasion(world):
    labels = world.labels
    assert not labels.loc[labels["scheme"].isin(DECOY_SCHEMES), "evasion"].any()
    assert labels.loc[labels["scheme"].isin(EVASION_SCHEMES), "evasion"].all()


def test_onsets_follow_the_sanctions(world):
    onset = world.labels["onset"]
    assert (onset >= pd.Period("2022-03", "M")).all()
    assert (onset <= pd.Period("2023-09", "M")).all()  # one-off contracts, a year on
    evasion = world.labels[world.labels["evasion"] & (world.labels["role"] != "hub_export")]
    assert evasion["onset"].between(pd.Period("2022-03", "M"), pd.Period("2022-10", "M")).all()


def test_evasion_concerns_chp_goods_through_hubs(world):
    evasion = world.labels[world.labels["evasion"]]
    assert evasion["hs"].isin(list(CHP_CODES)).all()
    exports = evasion[evasion["flow"] == "export"]
    through_hub = exports["partner"].isin(list(HUBS)) | exports["reporter"].isin(list(HUBS))
    assert through_hub.all()


def test_transshipment_surges(world, wide):
    ratio = war_ratio(wide)
    for role in ("supplier_export", "hub_import"):
        planted = ratio.reindex(keys_of(labelled(world, "transshipment", role))).dropna()
        assert len(planted) > 0
        assert planted.median() > 3.0, role
        assert (planted > 1.5).all(), role
    suppliers = labelled(world, "transshipment", "supplier_export")
    assert suppliers["reporter"].isin(list(COALITION)).all()
    assert suppliers["partner"].isin(list(HUBS)).all()


def test_transshipment_reaches_russia_through_the_hub(world, wide):
    onward = labelled(world, "transshipment", "hub_export")
    assert (onward["partner"] == "RUS").all()
    assert onward["reporter"].isin(list(HUBS)).all()
    suppliers = labelled(world, "transshipment", "supplier_export")
    assert set(zip(onward.reporter, onward.hs, strict=True)) == set(
        zip(suppliers.partner, suppliers.hs, strict=True)
    )
    series = keys_of(onward)
    before = window_mean(wide, "2019-01", "2021-12").reindex(series)
    after = window_mean(wide, "2022-10", "2023-12").reindex(series)
    assert (after > 2 * before).all()  # appears or rises


def test_unlabelled_series_stay_near_their_path(world, wide):
    assert 0.8 < np.median(unlabelled_ratio(world, wide)) < 1.3


def test_phantom_exports_are_not_received(world, wide):
    declared = labelled(world, "phantom_export", "declared_export")
    assert len(declared) > 0
    mirror = declared.assign(
        reporter=declared["partner"], partner=declared["reporter"], flow="import"
    )
    after = window_mean(wide, "2022-10", "2023-12")
    ratio = war_ratio(wide)
    exported = after.reindex(keys_of(declared)).to_numpy()
    received = after.reindex(keys_of(mirror)).to_numpy()
    assert (exported > 2.5 * received).all()  # declared shipped, not received
    # Codes split in 2022 have no comparable pre-war series (NaN): compared after only.
    declared_ratio = ratio.reindex(keys_of(declared)).to_numpy()
    received_ratio = ratio.reindex(keys_of(mirror)).to_numpy()
    known = ~np.isnan(declared_ratio)
    assert (declared_ratio[known] > 2.0).all()
    assert (declared_ratio[known] > 2.0 * received_ratio[known]).all()


def test_diffuse_hub_suppliers_rise_moderately(world, wide):
    suppliers = labelled(world, "diffuse_hub", "supplier_export")
    per_instance = suppliers.groupby("instance").agg(
        n=("reporter", "nunique"), hubs=("partner", "nunique"), codes=("hs", "nunique")
    )
    assert (per_instance["n"] >= 3).all()
    assert (per_instance[["hubs", "codes"]] == 1).all().all()
    ratio = war_ratio(wide).reindex(keys_of(suppliers)).dropna()
    assert 1.3 < ratio.median() < 4.0
    assert (ratio < 8).all()


def test_from_nothing_has_no_history(world, wide):
    new = labelled(world, "from_nothing")
    series = wide.reindex(keys_of(new))
    for (key, values), onset in zip(series.iterrows(), new["onset"], strict=True):
        assert (values[values.index < onset] == 0).all(), key
    assert (window_mean(wide, "2022-10", "2023-12").reindex(keys_of(new)) > 2e4).all()


def test_demand_boom_lifts_every_good(world, wide):
    boom = labelled(world, "demand_boom")
    destination = boom.loc[boom["role"] == "supplier_export", "partner"].unique()
    assert len(destination) == 1
    assert destination[0] not in set(world.labels.loc[world.labels["evasion"], "partner"])
    assert destination[0] not in set(world.labels.loc[world.labels["evasion"], "reporter"])
    imports = boom[boom["role"] == "destination_import"]
    before = window_mean(wide, "2019-01", "2021-12").reindex(keys_of(imports))
    ratio = window_mean(wide, "2023-01", "2023-12").reindex(keys_of(imports)) / before
    chp = imports["hs"].isin(list(CHP_CODES)).to_numpy()
    assert ratio[chp].median() > 1.5
    assert ratio[~chp].median() > 1.5


def test_one_off_contract_is_one_month(world, wide):
    contracts = labelled(world, "one_off_contract", "contract_export")
    for (_, values), onset in zip(
        wide.reindex(keys_of(contracts)).iterrows(), contracts["onset"], strict=True
    ):
        others = values.drop(onset)
        assert values[onset] > 2 * others[others > 0].median()


def test_compliance_collapse_goes_to_near_zero(world, wide):
    collapsed = labelled(world, "compliance_collapse")
    assert collapsed["partner"].isin(["RUS", "BLR"]).all()
    before = window_mean(wide, "2019-01", "2021-12").reindex(keys_of(collapsed))
    after = window_mean(wide, "2022-06", "2023-12").reindex(keys_of(collapsed))
    known = before > 0  # codes split in 2022 have no comparable pre-war series
    assert known.any()
    assert (after[known] < 0.1 * before[known]).all()


def test_placebo_is_the_counterfactual(world, placebo):
    """Switching the plants off changes nothing but the planted series."""
    labels = keys_of(world.labels)
    planted = world.flows[~keys_of(world.flows).isin(labels)].reset_index(drop=True)
    unplanted = placebo.flows[~keys_of(placebo.flows).isin(labels)].reset_index(drop=True)
    pd.testing.assert_frame_equal(planted, unplanted)
