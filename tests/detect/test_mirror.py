"""Mirror detector: exports declared shipped against imports declared received."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.detect import MirrorRatios, mirror_summary
from anomaly.detect.mirror import (
    CIF_FOB_MARGIN,
    RATIO_STRENGTH,
    mirror_targets,
    since_first_receipt,
)
from anomaly.panel import build_panel

NORMAL = np.log1p(CIF_FOB_MARGIN)


def test_the_public_case_of_61m_declared_and_6_6m_received_is_an_89_percent_gap():
    summary = mirror_summary(np.array([[61e6]]), np.array([[6.6e6]]), np.array([0.0]))
    assert summary["mirror_gap"][0] == pytest.approx(1 - 6.6 / 61, abs=1e-6)
    assert round(float(summary["mirror_gap"][0]), 2) == 0.89
    assert summary["not_received"][0] == pytest.approx(54.4e6)
    assert summary["log_departure"][0] < -2


def test_receipts_at_the_normal_ratio_give_no_gap():
    exports = np.array([[100.0, 200.0, 150.0]])
    summary = mirror_summary(exports, exports * np.exp(NORMAL), np.array([NORMAL]))
    assert summary["mirror_gap"][0] == pytest.approx(0.0, abs=1e-9)
    assert summary["expected_received"][0] == pytest.approx(450 * (1 + CIF_FOB_MARGIN))
    assert abs(summary["log_departure"][0]) < 1e-6


def test_the_pairs_own_ratio_sets_what_is_expected_received():
    # a pair that always declared 20% less received than shipped is normal at 0.8
    exports = np.full((1, 12), 1e6)
    summary = mirror_summary(exports, 0.8 * exports, np.array([np.log(0.8)]))
    assert summary["mirror_gap"][0] == pytest.approx(0.0, abs=1e-9)


def test_a_shipment_received_the_month_after_the_window_is_read_with_the_lag():
    exports = np.array([[0.0, 0.0, 1e6]])
    imports = np.array([[0.0, 0.0, 0.0, 1.06e6]])  # one month more: the month after
    summary = mirror_summary(exports, imports, np.array([NORMAL]))
    assert summary["mirror_gap"][0] == pytest.approx(0.0, abs=1e-6)
    without_lag = mirror_summary(exports, imports[:, :3], np.array([NORMAL]))
    assert without_lag["mirror_gap"][0] == pytest.approx(1.0)


def test_the_lag_nearer_normal_is_kept_per_pair():
    exports = np.array([[1e6, 1e6, 0.0], [0.0, 1e6, 1e6]])
    imports = np.array([[1.06e6, 1.06e6, 0.0, 0.0], [0.0, 0.0, 1.06e6, 1.06e6]])
    summary = mirror_summary(exports, imports, np.full(2, NORMAL))
    np.testing.assert_allclose(summary["mirror_gap"], [0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(summary["received"], [2.12e6, 2.12e6])


def test_a_lag_does_not_hide_a_phantom_export():
    exports = np.full((1, 12), 1e6)
    imports = np.full((1, 13), 0.25e6)
    summary = mirror_summary(exports, imports, np.array([0.0]))
    assert summary["mirror_gap"][0] == pytest.approx(0.75)


def test_a_partner_that_stopped_publishing_gives_no_reading_never_a_full_gap():
    exports = np.full((2, 12), 1e6)
    imports = np.full((2, 13), np.nan)
    summary = mirror_summary(exports, imports, np.full(2, NORMAL))
    for name in ("mirror_gap", "not_received", "log_departure"):
        assert np.isnan(summary[name]).all(), name


def test_only_months_both_sides_published_are_compared():
    exports = np.full((1, 4), 1e6)
    imports = np.array([[1.06e6, 1.06e6, 1.06e6, np.nan]])  # partner stopped
    summary = mirror_summary(exports, imports, np.array([NORMAL]))
    # The partner's last month is not compared either: what was shipped then may be
    # declared received in the month after, which it did not publish.
    assert summary["sent"][0] == pytest.approx(2e6)
    assert summary["months"][0] == 2
    assert summary["mirror_gap"][0] == pytest.approx(0.0, abs=1e-6)


def test_a_shipment_received_after_the_partner_stopped_is_no_gap():
    exports = np.array([[1e6, 1e6, 1e6, 0.0]])
    imports = np.array([[np.nan, 1.06e6, 1.06e6, np.nan]])  # declared a month later, then stop
    summary = mirror_summary(exports, imports, np.array([NORMAL]))
    assert summary["mirror_gap"][0] == pytest.approx(0.0, abs=1e-6)


def test_nothing_sent_gives_no_reading():
    summary = mirror_summary(np.zeros((1, 3)), np.zeros((1, 3)), np.array([NORMAL]))
    assert np.isnan(summary["mirror_gap"][0])


def test_a_pair_without_a_normal_ratio_gives_no_reading():
    summary = mirror_summary(np.full((1, 3), 1e6), np.zeros((1, 3)), np.array([np.nan]))
    assert np.isnan(summary["mirror_gap"][0])


def keys(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(r, p, "export", hs) for r, p, hs in rows], columns=["reporter", "partner", "flow", "hs"]
    )


def test_ratios_are_the_pairs_own_shrunk_to_the_pooled_one():
    n_months = 24
    exports = np.full((12, n_months), 100.0)
    ratios = np.r_[np.full(11, 1.06), 1.5]
    imports = exports * ratios[:, None]
    learned = MirrorRatios.learn(
        keys([("DEU", f"C{i:02d}", "854231") for i in range(12)]), exports, imports
    )
    assert learned.pooled == pytest.approx(np.log(1.06))
    weight = n_months / (n_months + RATIO_STRENGTH)
    expected = weight * np.log(1.5) + (1 - weight) * np.log(1.06)
    assert learned.log_ratio[11] == pytest.approx(expected)
    assert learned.log_ratio[0] == pytest.approx(np.log(1.06))


def test_ratios_default_to_the_cif_fob_margin_with_few_pairs():
    learned = MirrorRatios.learn(
        keys([("DEU", "KAZ", "854231")]), np.full((1, 6), 1.0), np.full((1, 6), 2.0)
    )
    assert learned.pooled == pytest.approx(np.log1p(CIF_FOB_MARGIN))


def test_unpublished_import_months_do_not_count_when_learning():
    exports = np.full((1, 24), 100.0)
    imports = np.r_[np.full(12, 106.0), np.full(12, np.nan)][None, :]
    learned = MirrorRatios.learn(keys([("DEU", "RUS", "854231")]), exports, imports)
    assert learned.log_ratio[0] == pytest.approx(np.log(1.06))


@pytest.fixture(scope="module")
def ratios() -> MirrorRatios:
    """DEU→KAZ mirrored for 854231; DEU→KGZ declared shipped and never received."""
    table = keys([("DEU", "KAZ", "854231"), ("DEU", "KGZ", "854231")])
    exports = np.full((2, 24), 100.0)
    imports = np.vstack([np.full(24, 130.0), np.zeros(24)])
    return MirrorRatios.learn(table, exports, imports)


def test_lookup_of_a_pair_seen_before_the_war_gives_its_own_ratio(ratios):
    found = ratios.lookup(keys([("DEU", "KAZ", "854231")]))
    assert found[0] == pytest.approx(ratios.log_ratio[0])
    assert found[0] != pytest.approx(ratios.pooled)


def test_lookup_of_a_pair_never_mirrored_gives_no_reading(ratios):
    assert np.isnan(ratios.lookup(keys([("DEU", "KGZ", "854231")]))[0])


def test_lookup_of_a_new_good_in_a_covered_country_pair_gives_the_pooled_ratio(ratios):
    assert ratios.lookup(keys([("DEU", "KAZ", "880730")]))[0] == pytest.approx(ratios.pooled)


def test_lookup_of_a_new_good_between_countries_never_mirrored_gives_no_reading(ratios):
    found = ratios.lookup(keys([("DEU", "KGZ", "880730"), ("FRA", "ARM", "854231")]))
    assert np.isnan(found).all()


def test_lookup_keeps_the_order_of_the_keys_asked(ratios):
    found = ratios.lookup(
        keys([("FRA", "ARM", "1"), ("DEU", "KAZ", "854231"), ("DEU", "KAZ", "880730")])
    )
    assert np.isnan(found[0])
    np.testing.assert_allclose(found[1:], [ratios.log_ratio[0], ratios.pooled])


def test_mirror_targets_pair_each_export_with_the_partners_import():
    flows = pd.DataFrame(
        {
            "period": pd.PeriodIndex(["2021-01"] * 4, freq="M"),
            "reporter": ["DEU", "KAZ", "DEU", "DEU"],
            "partner": ["KAZ", "DEU", "KAZ", "RUS"],
            "flow": ["export", "import", "export", "export"],
            "hs": ["854231", "854231", "880730", "854231"],
            "value": [100.0, 106.0, 50.0, 70.0],
        }
    )
    panel = build_panel(flows, harmonize=False)
    targets = mirror_targets(panel, publishing={"DEU", "KAZ"})
    declared = panel.keys.iloc[targets.declared]
    by_hs = dict(zip(declared["hs"], targets.mirror, strict=True))
    assert set(declared["partner"]) == {"KAZ"}  # RUS does not publish: no target
    mirror_row = panel.keys.iloc[by_hs["854231"]]
    assert (mirror_row["reporter"], mirror_row["flow"]) == ("KAZ", "import")
    assert by_hs["880730"] == -1  # KAZ publishes but filed no import of the good


def test_a_revised_code_is_compared_only_from_the_partner_s_first_receipt_of_it():
    # The partner declared the new code from month 3 on (before, the goods may be
    # under the old code): months 0-2 are not compared, so no gap is read there.
    exports = np.full((2, 6), 100.0)
    imports = np.array([[0.0, 0.0, 0.0, 106.0, 106.0, 106.0], [0.0] * 6])
    read = since_first_receipt(imports)
    summary = mirror_summary(exports, read, np.log1p(np.full(2, CIF_FOB_MARGIN)))
    assert summary["months"].tolist() == [3, 0]
    assert abs(summary["mirror_gap"][0]) < 0.01
    assert np.isnan(summary["mirror_gap"][1])  # never declared: nothing to compare
    whole = mirror_summary(exports, imports, np.log1p(np.full(2, CIF_FOB_MARGIN)))
    assert whole["mirror_gap"][0] > 0.4 and whole["mirror_gap"][1] > 0.99
