"""Re-routing and onward-flow signatures across series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.detect import DetectionConfig, onward_flows, substitution
from anomaly.detect.rerouting import group_sums

from .conftest import summary_table

TRANSIT = DetectionConfig(transit=("ARM", "KAZ", "KGZ"))


def rerouting_summary() -> pd.DataFrame:
    return summary_table(
        [
            ("DEU", "RUS", "export", "854231", 10.0, 110.0, -6.0),
            ("DEU", "BLR", "export", "854231", 0.0, 20.0, -3.0),
            ("DEU", "KGZ", "export", "854231", 90.0, 30.0, 5.0),
            ("DEU", "FRA", "export", "854231", 50.0, 50.0, 0.0),
            ("DEU", "KGZ", "export", "880730", 40.0, 10.0, 4.0),
            ("POL", "KGZ", "export", "854231", 40.0, 10.0, 4.0),
            ("FRA", "RUS", "export", "880730", 80.0, 40.0, 3.0),
            ("FRA", "ARM", "export", "880730", 60.0, 20.0, 4.0),
        ]
    )


def test_substitution_measures_the_exporters_direct_drop_to_russia_and_belarus():
    summary = rerouting_summary()
    result = substitution(summary, TRANSIT)
    deu_kgz = result.iloc[2]
    assert deu_kgz["direct_drop"] == pytest.approx(120.0)  # 100 to RUS + 20 to BLR
    assert deu_kgz["direct_z"] == pytest.approx(-6.0)
    assert deu_kgz["substitution_share"] == pytest.approx(60.0 / 120.0)


def test_substitution_applies_only_to_exports_to_transit_countries_of_the_same_good():
    result = substitution(rerouting_summary(), TRANSIT)
    assert result.iloc[[0, 1, 3]]["direct_drop"].isna().all()  # to RUS, BLR, FRA
    assert result.iloc[4].isna().all()  # DEU→KGZ of a good DEU never sent to RUS
    assert result.iloc[5].isna().all()  # POL never exported the good to RUS


def test_substitution_share_is_missing_where_direct_exports_did_not_fall():
    result = substitution(rerouting_summary(), TRANSIT)
    fra_arm = result.iloc[7]
    assert fra_arm["direct_drop"] == pytest.approx(-40.0)
    assert np.isnan(fra_arm["substitution_share"])


def onward_summary() -> pd.DataFrame:
    return summary_table(
        [
            ("KGZ", "RUS", "export", "854231", 400.0, 10.0, 7.0),
            ("DEU", "KGZ", "export", "854231", 90.0, 30.0, 5.0),
            ("KGZ", "DEU", "import", "854231", 95.0, 32.0, 5.0),
            ("DEU", "KGZ", "export", "880730", 40.0, 10.0, 4.0),
            ("DEU", "FRA", "export", "854231", 50.0, 50.0, 0.0),
            ("FRA", "DEU", "import", "854231", 50.0, 50.0, 0.0),
            ("DEU", "RUS", "export", "854231", 5.0, 100.0, -6.0),
        ]
    )


def test_onward_flows_attach_the_hubs_exports_to_russia_to_flows_into_the_hub():
    result = onward_flows(onward_summary(), TRANSIT)
    for row in (1, 2):  # DEU's export to KGZ and KGZ's import from DEU
        assert result.iloc[row]["hub"] == "KGZ"
        assert result.iloc[row]["onward_ratio"] == pytest.approx(40.0)
        assert result.iloc[row]["onward_z"] == pytest.approx(7.0)


def test_re_exports_are_exports_for_onward_legs_flows_into_hubs_and_direct_drops():
    summary = summary_table(
        [
            ("KGZ", "RUS", "re-export", "854231", 400.0, 10.0, 7.0),  # the hub's onward leg
            ("DEU", "KGZ", "re-export", "854231", 90.0, 30.0, 5.0),  # into the hub
            ("KGZ", "DEU", "re-import", "854231", 95.0, 32.0, 5.0),  # the hub declares it
            ("DEU", "RUS", "re-export", "854231", 5.0, 100.0, -6.0),  # DEU's direct leg
        ]
    )
    onward = onward_flows(summary, TRANSIT)
    for row in (1, 2):
        assert onward.iloc[row]["hub"] == "KGZ"
        assert onward.iloc[row]["onward_z"] == pytest.approx(7.0)
    replaced = substitution(summary, TRANSIT).iloc[1]
    assert replaced["direct_drop"] == pytest.approx(95.0)
    assert replaced["direct_z"] == pytest.approx(-6.0)


def test_onward_flows_of_a_good_the_hub_does_not_send_to_russia_are_missing():
    result = onward_flows(onward_summary(), TRANSIT)
    assert result.iloc[3]["hub"] == "KGZ"
    assert np.isnan(result.iloc[3]["onward_ratio"])


def test_flows_not_into_a_transit_country_have_no_onward_reading():
    result = onward_flows(onward_summary(), TRANSIT)
    for row in (0, 4, 5, 6):
        assert pd.isna(result.iloc[row]["hub"])  # None on pandas 2, NaN on pandas 3
        assert np.isnan(result.iloc[row]["onward_ratio"])


def test_onward_flows_keep_the_summarys_index():
    summary = onward_summary().set_axis(range(100, 107))
    result = onward_flows(summary, TRANSIT)
    assert list(result.index) == list(summary.index)
    assert substitution(summary, TRANSIT).index.equals(summary.index)


def test_an_onward_leg_without_history_is_read_against_its_months_before_the_sanctions():
    summary = summary_table(
        [
            ("DEU", "KGZ", "export", "854800", 90.0, 30.0, 5.0),
            ("KGZ", "RUS", "export", "854800", 600.0, 5.0, np.nan),  # a guessed expectation
        ]
    ).assign(baseline_z=[np.nan, 3.1], baseline_ratio=[np.nan, 4.0])
    onward = onward_flows(summary, TRANSIT).iloc[0]
    assert onward["onward_z"] == pytest.approx(3.1)
    assert onward["onward_ratio"] == pytest.approx(4.0)  # not 600 / 5
    plain = onward_flows(summary.drop(columns=["baseline_z", "baseline_ratio"]), TRANSIT)
    assert np.isnan(plain["onward_z"].iloc[0])


def test_the_other_leg_corroborates_a_rising_flow_and_is_capped():
    from scipy.special import log_ndtr

    from anomaly.detect import ReroutingDetector
    from anomaly.detect.rerouting import ONWARD_CAP, ONWARD_WEIGHT

    table = pd.DataFrame(
        {
            "z": [1.5, 1.5, -1.0, 1.5, 1.5],
            "onward_z": [4.0, 9.0, 4.0, np.nan, np.nan],
            "inflow_z": [np.nan, np.nan, np.nan, 3.0, np.nan],
        }
    )
    log_p = ReroutingDetector(TRANSIT).log_pvalue(table)
    expected = [
        1.5 + ONWARD_WEIGHT * 4.0,  # a moderate rise into a hub whose onward trade jumped
        1.5 + ONWARD_WEIGHT * ONWARD_CAP,  # the other leg counts up to the cap
        -1.0,  # a flow that did not rise gets nothing from the other leg
        1.5 + ONWARD_WEIGHT * 3.0,  # an onward leg, corroborated by the hub's inflow
    ]
    np.testing.assert_allclose(log_p[:4], log_ndtr(-np.array(expected)))
    assert np.isnan(log_p[4])  # no other leg: no reading
    # Stronger than the larger of the two legs' p-values (what the weaker leg says).
    assert log_p[0] < max(log_ndtr(-1.5), log_ndtr(-4.0))


def test_a_supplier_filling_its_empty_months_reads_as_rising_and_regularity_never_lowers():
    from scipy.special import log_ndtr

    from anomaly.detect import ReroutingDetector
    from anomaly.detect.rerouting import ONWARD_CAP, ONWARD_WEIGHT

    table = pd.DataFrame(
        {
            "z": [0.0, 5.0, -1.0, 0.0, -1.0, np.nan],
            "baseline_z": np.nan,
            "regularity_z": [3.0, 0.0, np.nan, -2.0, 4.0, 3.0],
            "onward_z": 6.0,
        }
    )
    log_p = ReroutingDetector(TRANSIT).log_pvalue(table)
    credit = ONWARD_WEIGHT * ONWARD_CAP
    expected = [
        3.0 / np.sqrt(2.0) + credit,  # as regular as a 3-sigma rise: credited
        5.0 + credit,  # a rise is not diluted by a steady frequency
        -1.0,  # no regularity read: the value's fall alone
        0.0,  # trading less often takes nothing away
        3.0 / np.sqrt(2.0) + credit,  # a value below expected, every month filled
    ]
    np.testing.assert_allclose(log_p[:5], log_ndtr(-np.array(expected)))
    assert np.isnan(log_p[5])  # no rise read (no history, no months before): no reading
    # Without the regularity detector in the ensemble the value's rise alone is read.
    plain = ReroutingDetector(TRANSIT).log_pvalue(table.drop(columns="regularity_z"))
    np.testing.assert_allclose(plain[:5], log_ndtr(-np.array([0.0, 5.0 + credit, -1, 0, -1])))


def test_the_onward_signal_reads_the_same_rise_as_the_evidence():
    from anomaly.detect import ReroutingDetector

    table = pd.DataFrame(
        {
            "z": [0.5, 0.5, 3.0],
            "regularity_z": [4.0, 1.0, np.nan],
            "onward_z": [6.0, 6.0, 6.0],
            "direct_z": np.nan,
            "flow": "export",
            "partner": "KGZ",
        }
    )
    fired = ReroutingDetector(TRANSIT).signals(table)
    assert fired["onward_to_RUS"].tolist() == [True, False, True]
    assert not fired["rerouting"].any()


def test_an_onward_leg_reads_the_hub_s_whole_inflow_of_the_good():
    from anomaly.detect import ReroutingDetector

    summary = summary_table(
        [
            ("DEU", "KGZ", "export", "854231", 160.0, 100.0, 2.0),
            ("POL", "KGZ", "export", "854231", 160.0, 100.0, 2.0),
            ("KGZ", "RUS", "export", "854231", 300.0, 100.0, 3.0),
        ]
    ).assign(lower=lambda t: t["expected"] * 0.7, upper=lambda t: t["expected"] * 1.33)
    inflow = ReroutingDetector(TRANSIT).statistics(summary)["inflow_z"]
    assert np.isnan(inflow[:2]).all() and inflow[2] > 2


@pytest.mark.parametrize("seed", range(4))
def test_group_sums_round_as_pandas_sums_each_group(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    frame = pd.DataFrame(
        {
            # Groups of 1 to ~40 values: below and beyond numpy's one-by-one summation.
            "group": rng.integers(0, 200 if seed % 2 else 1500, n),
            "value": rng.normal(size=n) * 10.0 ** rng.integers(-3, 12, n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "value"] = np.nan
    frame.loc[rng.random(n) < 0.1, "value"] = rng.choice([0.0, -0.0])
    grouped = frame.groupby("group")
    expected = grouped["value"].agg(lambda x: float(x.sum())).to_numpy()
    values = frame["value"].to_numpy()
    got = group_sums(np.where(np.isnan(values), 0.0, values), grouped.ngroup().to_numpy())
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
