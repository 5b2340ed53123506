"""Regularity detector: a flow that trades in more months than it used to."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln, log_ndtr, ndtri
from scipy.stats import betabinom

from anomaly.detect import DetectionConfig, PlaceboEvidence
from anomaly.detect.base import ScoringWindow
from anomaly.detect.regularity import (
    MIN_TRADED_MONTHS,
    RegularityDetector,
    beta_binomial_midp,
    fit_calibration,
    regularity_statistic,
)
from anomaly.panel import Panel

N_SERIES = 2000
TRAIN_MONTHS = 72
WINDOW = pd.period_range("2022-01", "2024-12", freq="M")


def keys(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"reporter": [f"R{i:04d}" for i in range(n)], "partner": "KAZ", "flow": "export"}
    ).assign(hs="854231")


def table(
    rng: np.random.Generator, share: np.ndarray, window_share: np.ndarray, months: int
) -> pd.DataFrame:
    """Summary rows of series that traded in ``share`` of their training months and trade
    each of ``months`` window months with ``window_share``."""
    trained = rng.binomial(TRAIN_MONTHS, share)
    traded = rng.random((len(share), months)) < np.asarray(window_share)[:, None]
    return pd.DataFrame(
        {
            "months_traded": traded.sum(axis=1).astype(np.float64),
            "months_read": float(months),
            "n_months": float(months),
            "months_early": float(months // 2),
            "months_traded_early": traded[:, : months // 2].sum(axis=1).astype(np.float64),
            "trained_nonzero": trained,
            "trained_months": TRAIN_MONTHS,
            "history_known": True,
        }
    )


@pytest.fixture(scope="module")
def detector() -> RegularityDetector:
    rng = np.random.default_rng(3)
    share = rng.uniform(0.2, 0.9, N_SERIES)
    placebo = table(rng, share, share, 12)
    return RegularityDetector(DetectionConfig()).fit(None, PlaceboEvidence(placebo, np.zeros(0)))


def test_the_statistic_is_the_z_of_a_beta_binomial_mid_p() -> None:
    traded = np.array([36.0, 30.0, 12.0, 0.0, 36.0])
    trained = np.array([54.0, 40.0, 30.0, 20.0, 72.0])
    z = regularity_statistic(traded, np.full(5, 36.0), trained, np.full(5, 72.0))
    a, b = trained + 0.5, 72.0 - trained + 0.5
    midp = betabinom.sf(traded, 36, a, b) + betabinom.pmf(traded, 36, a, b) / 2
    np.testing.assert_allclose(z[:4], -ndtri(midp[:4]), rtol=1e-9)
    assert np.isnan(z[4])  # traded in every training month: nothing to fill


def test_a_missing_count_reads_nothing() -> None:
    z = regularity_statistic(
        np.array([np.nan, 36.0]), np.full(2, 36.0), np.full(2, 54.0), np.full(2, 72.0)
    )
    assert np.isnan(z[0])
    assert np.isfinite(z[1])


def test_the_exact_tail_reads_more_at_the_edge_than_two_proportions() -> None:
    """Every window month after three quarters of the training months: the normal
    approximation of the two shares understates how unlikely that is."""
    z = regularity_statistic(np.array([36.0]), np.array([36.0]), np.array([54.0]), np.array([72.0]))
    two_proportion = (1.0 - 0.75) / np.sqrt(0.75 * 0.25 * (1 / 36 + 1 / 72))
    assert z[0] > two_proportion + 0.5


def test_a_tail_beyond_what_one_minus_a_cdf_can_hold_keeps_its_precision() -> None:
    midp = beta_binomial_midp(np.array([60.0]), np.array([60.0]), np.array([6.5]), np.array([66.5]))
    exact = np.exp(betaln(66.5, 66.5) - betaln(6.5, 66.5)) / 2  # P(K = 60) / 2
    assert midp[0] == pytest.approx(exact, rel=1e-9)
    assert 0 < midp[0] < 1e-20  # 1 - cdf rounds anything below 1e-16 to zero


def test_a_flow_that_fills_its_empty_months_is_read_and_ordinary_ones_are_not(
    detector: RegularityDetector,
) -> None:
    rng = np.random.default_rng(11)
    share = rng.uniform(0.3, 0.7, 500)
    ordinary = table(rng, share, share, 36)
    regular = table(rng, share, np.ones(500), 36)
    z_ordinary = detector.statistics(ordinary)["regularity_z"]
    z_regular = detector.statistics(regular)["regularity_z"]
    signal = DetectionConfig().signal_z
    assert (z_ordinary >= signal).mean() <= 0.05
    assert (z_regular >= signal).mean() >= 0.9


def test_new_flows_and_unknown_histories_are_left_to_other_detectors(
    detector: RegularityDetector,
) -> None:
    rng = np.random.default_rng(5)
    rows = table(rng, np.full(3, 0.5), np.ones(3), 36)
    rows.loc[0, "trained_nonzero"] = MIN_TRADED_MONTHS - 1
    rows.loc[1, "history_known"] = False
    z = detector.statistics(rows)["regularity_z"]
    assert np.isnan(z[:2]).all()
    assert np.isfinite(z[2])


def test_no_p_value_is_smaller_than_the_placebo_can_tell(detector: RegularityDetector) -> None:
    rng = np.random.default_rng(6)
    rows = table(rng, np.array([0.1, 0.5, 0.5]), np.array([1.0, 0.5, 0.5]), 36)
    rows.loc[2, "history_known"] = False
    rows["regularity_z"] = detector.statistics(rows)["regularity_z"]
    log_p = detector.log_pvalue(rows)
    uncapped = detector.calibration_.z(_raw_of(rows[:1]), np.array([36.0]))[0]
    cap = -ndtri(1.0 / (detector.placebo_values_ + 1.0))
    assert uncapped > cap + 3  # a tenth of its months before, every month now
    assert rows.loc[0, "regularity_z"] == pytest.approx(cap)  # what other detectors read
    assert log_p[0] == pytest.approx(-np.log(detector.placebo_values_ + 1.0))
    assert log_p[1] == pytest.approx(log_ndtr(-rows.loc[1, "regularity_z"]))
    assert log_p[1] > log_p[0]
    assert np.isnan(log_p[2])


def summarise(periods: pd.PeriodIndex, values: np.ndarray, published: np.ndarray) -> dict:
    panel = Panel(keys(len(values)), periods, values)
    window = ScoringWindow(
        panel=panel,
        window=panel,
        published=published,
        z_months=np.zeros(values.shape),
        publishers=pd.Index(["R0000", "R0001"]),
        published_mask=lambda *args, **kwargs: published,
    )
    return RegularityDetector(DetectionConfig()).summarise(window)


def test_months_traded_counts_published_months_with_trade() -> None:
    values = np.array([[5.0, 0.0, 3.0, np.nan], [1.0, 1.0, 1.0, 1.0]])
    published = np.array([[True, True, False, True], [True, True, True, True]])
    summary = summarise(pd.period_range("2021-01", periods=4, freq="M"), values, published)
    assert summary["months_traded"].tolist() == [1.0, 4.0]
    assert summary["months_read"].tolist() == [3.0, 4.0]
    assert summary["months_early"].tolist() == [2.0, 2.0]
    assert summary["months_traded_early"].tolist() == [1.0, 2.0]


def test_a_window_reaching_the_sanctions_onset_is_counted_from_it() -> None:
    """January and February 2022 are before the default onset (2022-03): a flow that
    trades in every month from the onset reads as such whatever it did before."""
    values = np.array([[0.0, 0.0, 2.0, 3.0, 4.0], [5.0, 0.0, 0.0, 3.0, 4.0]])
    published = np.array([[True, True, True, True, True], [True, True, False, True, True]])
    summary = summarise(WINDOW[:5], values, published)
    assert summary["months_read"].tolist() == [3.0, 2.0]
    assert summary["months_traded"].tolist() == [3.0, 2.0]
    # The first half is of the months counted (2022-03): a placebo window that reaches
    # the onset is calibrated on two lengths of the same count.
    assert summary["months_early"].tolist() == [1.0, 0.0]
    assert summary["months_traded_early"].tolist() == [1.0, 0.0]
    # A window wholly after the onset, or ending at it, is read whole or from it.
    after = summarise(pd.period_range("2022-03", periods=5, freq="M"), values, published)
    assert after["months_read"].tolist() == [5.0, 4.0]
    ending = summarise(WINDOW[:3], values[:, :3], published[:, :3])
    assert ending["months_read"].tolist() == [1.0, 0.0]


def test_the_statistic_reads_the_months_counted_not_the_whole_window(
    detector: RegularityDetector,
) -> None:
    rows = table(np.random.default_rng(12), np.full(2, 0.75), np.ones(2), 34)
    rows["trained_nonzero"] = 54
    rows["n_months"] = [34.0, 36.0]  # the second window began two months before the onset
    z = detector.statistics(rows)["regularity_z"]
    assert z[1] == z[0]


def test_the_state_round_trips(detector: RegularityDetector) -> None:
    restored = RegularityDetector.from_state(detector.to_state(), DetectionConfig())
    rows = table(np.random.default_rng(2), np.full(50, 0.4), np.full(50, 0.8), 36)
    np.testing.assert_array_equal(
        restored.statistics(rows)["regularity_z"], detector.statistics(rows)["regularity_z"]
    )
    assert restored.placebo_values_ == detector.placebo_values_


def test_the_spread_grows_with_the_window_when_shares_are_misjudged() -> None:
    """A training share that misses a flow's true one misses every month of it, so the
    statistic spreads further over a longer window: calibrated on a 12-month placebo,
    a 36-month window's ordinary series stay near the signal's nominal rate, where a
    spread read at 12 months alone would signal far more of them."""
    rng = np.random.default_rng(8)
    true_share = rng.uniform(0.3, 0.8, N_SERIES)
    believed = np.clip(true_share + rng.normal(0, 0.1, N_SERIES), 0.05, 0.95)

    def rows(months: int) -> pd.DataFrame:
        found = table(rng, true_share, true_share, months)
        found["trained_nonzero"] = np.round(believed * TRAIN_MONTHS)
        return found

    detector = RegularityDetector(DetectionConfig())
    detector.fit(None, PlaceboEvidence(rows(12), np.zeros(0)))
    window = rows(36)
    signal = DetectionConfig().signal_z
    rate = np.mean(detector.statistics(window)["regularity_z"] >= signal)
    calibration = detector.calibration_
    at_twelve = float(calibration.spread(12))
    fixed = (_raw_of(window) - calibration.centre) / at_twelve
    assert rate <= 0.02
    assert np.mean(fixed >= signal) >= 2 * rate


def _raw_of(found: pd.DataFrame) -> np.ndarray:
    return regularity_statistic(
        found["months_traded"].to_numpy(),
        found["n_months"].to_numpy(),
        found["trained_nonzero"].to_numpy(dtype=np.float64),
        found["trained_months"].to_numpy(dtype=np.float64),
    )


def test_without_a_placebo_the_statistic_is_read_as_a_standard_normal() -> None:
    detector = RegularityDetector(DetectionConfig()).fit(None, None)
    rows = pd.DataFrame({"regularity_z": [5.8, 1.0]})
    np.testing.assert_allclose(detector.log_pvalue(rows), log_ndtr(-rows["regularity_z"]))


def test_a_placebo_without_spread_or_series_gives_no_calibration() -> None:
    same = np.full(100, 0.5)
    months = np.full(100, 12.0)
    assert fit_calibration(same, months, same, months / 2, 20) is None
    rng = np.random.default_rng(4)
    few = rng.normal(size=10)
    assert fit_calibration(few, months[:10], few, months[:10] / 2, 20) is None


def test_a_placebo_too_small_for_the_signal_level_never_signals() -> None:
    rng = np.random.default_rng(9)
    config = DetectionConfig()

    def fitted(n_placebo: int) -> RegularityDetector:
        share = rng.uniform(0.2, 0.9, n_placebo)
        placebo = PlaceboEvidence(table(rng, share, share, 12), np.zeros(0))
        return RegularityDetector(config).fit(None, placebo)

    regular = table(rng, np.full(50, 0.3), np.ones(50), 36)
    for n_placebo, fires in ((60, False), (400, True)):
        detector = fitted(n_placebo)
        regular["regularity_z"] = detector.statistics(regular)["regularity_z"]
        assert detector.signals(regular)["regular_trade"].all() == fires
