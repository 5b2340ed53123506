"""Baseline detector: series without history, read against their months before the onset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.detect import DetectionConfig
from anomaly.detect.base import ScoringWindow
from anomaly.detect.baseline import (
    APPEARED,
    ROSE,
    BaselineDetector,
    PlaceboTails,
    baseline_statistic,
)
from anomaly.panel import Panel

N_SERIES = 600
TRAIN = pd.period_range("2015-01", "2021-12", freq="M")
WINDOW = pd.period_range("2022-01", "2023-12", freq="M")


def keys(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "reporter": [f"R{i:03d}" for i in range(n)],
            "partner": "KAZ",
            "flow": "export",
            "hs": "880730",
        }
    )


def ordinary_trade(rng: np.random.Generator, n: int, periods, p_trade=1.0) -> np.ndarray:
    """Log-normal months around each series' own level, traded with ``p_trade``."""
    level = rng.uniform(6, 12, size=(n, 1))
    values = np.exp(level + rng.normal(0, 0.4, size=(n, len(periods))))
    return np.where(rng.random((n, len(periods))) < p_trade, values, 0.0)


@pytest.fixture(scope="module")
def detector() -> BaselineDetector:
    rng = np.random.default_rng(7)
    regular = ordinary_trade(rng, N_SERIES // 2, TRAIN)
    intermittent = ordinary_trade(rng, N_SERIES // 2, TRAIN, p_trade=0.5)
    train = Panel(keys(N_SERIES), TRAIN, np.vstack([regular, intermittent]))
    return BaselineDetector(DetectionConfig()).fit(train, None)


def read(detector: BaselineDetector, values: np.ndarray, known: bool = False) -> pd.DataFrame:
    """The detector's statistics of ``values`` over the window (every month published)."""
    n = len(values)
    window = Panel(keys(n), WINDOW, values)
    published = np.ones(values.shape, dtype=bool)
    scoring = ScoringWindow(
        panel=window,
        window=window,
        published=published,
        z_months=np.full(values.shape, np.nan),
        publishers=pd.Index(window.keys["reporter"].unique()),
        published_mask=lambda reporters: np.ones((len(reporters), len(WINDOW) + 1), bool),
    )
    table = pd.DataFrame(detector.summarise(scoring))
    table["n_months"] = len(WINDOW)
    table["actual"] = values.sum(axis=1)
    table["history_known"] = known
    for name, column in detector.statistics(table).items():
        table[name] = column
    table["log_p"] = detector.log_pvalue(table)
    return table.assign(**detector.signals(table))


def test_the_statistic_is_a_log_ratio_after_trade_and_a_traded_share_after_none():
    statistic, kind = baseline_statistic(
        np.array([100.0, 0.0]), np.array([300.0, 50.0]), np.array([1.0, 0.25])
    )
    assert kind.tolist() == [ROSE, APPEARED]
    assert statistic[0] == pytest.approx(np.log(303 / 103))
    assert statistic[1] == 0.25


def test_ordinary_trade_rarely_fires_and_a_fivefold_rise_does(detector, rng):
    steady = ordinary_trade(rng, 400, WINDOW)
    risen = steady.copy()
    risen[:, 2:] *= 5
    calm, alarmed = read(detector, steady), read(detector, risen)
    assert calm["baseline_surge"].mean() <= 0.03
    assert alarmed["baseline_surge"].mean() >= 0.9
    ratio = risen[:, 2:].mean(axis=1) / risen[:, :2].mean(axis=1)
    np.testing.assert_allclose(alarmed["baseline_ratio"], ratio)


def test_a_flow_absent_from_its_baseline_is_a_lead_only_if_it_then_trades_steadily(detector, rng):
    appeared = ordinary_trade(rng, 200, WINDOW)
    sporadic = ordinary_trade(rng, 200, WINDOW, p_trade=0.5)
    appeared[:, :2] = sporadic[:, :2] = 0.0
    steady, now_and_then = read(detector, appeared), read(detector, sporadic)
    assert steady["baseline_surge"].mean() >= 0.9
    assert now_and_then["baseline_surge"].mean() <= 0.1
    assert steady["baseline_ratio"].isna().all()  # no ratio to a baseline of nothing


def test_evidence_is_no_stronger_than_the_placebo_draws_allow(detector, rng):
    huge = ordinary_trade(rng, 10, WINDOW)
    huge[:, 2:] *= 1e6
    table = read(detector, huge)
    draws = detector.tails_.draws[detector.tails_.lengths <= 22][-1, ROSE]
    assert np.exp(table["log_p"]).min() == pytest.approx(1 / (draws + 1))


def test_a_series_with_history_is_not_read(detector, rng):
    table = read(detector, ordinary_trade(rng, 20, WINDOW), known=True)
    assert table["baseline_z"].isna().all() and table["log_p"].isna().all()
    assert not table["baseline_surge"].any()


def test_a_window_without_baseline_months_is_not_read(detector, rng):
    values = ordinary_trade(rng, 20, WINDOW)
    table = read(detector, values)
    assert table["baseline_z"].notna().all()
    late = BaselineDetector(DetectionConfig(sanctions_onset="2021-06"))
    late.tails_ = detector.tails_
    assert read(late, values)["baseline_z"].isna().all()


def test_the_fitted_state_round_trips(detector, rng):
    values = ordinary_trade(rng, 50, WINDOW)
    values[:25, 2:] *= 3
    again = BaselineDetector.from_state(detector.to_state(), detector.config)
    pd.testing.assert_frame_equal(read(again, values), read(detector, values))


def test_too_short_a_training_window_gives_no_distribution():
    periods = pd.period_range("2021-01", "2021-08", freq="M")  # no baseline + 10 months
    train = Panel(keys(100), periods, np.ones((100, 8)))
    tails = PlaceboTails.from_training(train, pd.Period("2022-03", "M"), min_draws=20)
    assert len(tails.lengths) == 0
    z = np.array([1.0])
    assert np.isnan(tails.log_pvalue(z, np.array([ROSE]), np.array([22.0]))).all()
