"""Placebo calibration: raw statistics to z and p-values that mean the same everywhere."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr

from anomaly.detect import BinnedZCalibration, ZCalibration, empirical_upper_p


def test_z_calibration_recovers_the_centre_and_spread_of_a_normal_placebo(rng):
    calibration = ZCalibration.from_placebo(rng.normal(3.0, 2.0, 20_000))
    assert calibration.centre == pytest.approx(3.0, abs=0.05)
    assert calibration.spread == pytest.approx(2.0, rel=0.03)


def test_z_calibration_is_robust_to_a_few_wild_placebo_values(rng):
    raw = np.concatenate([rng.normal(0.0, 1.0, 1000), np.full(20, 1e6)])
    calibration = ZCalibration.from_placebo(raw)
    assert abs(calibration.centre) < 0.1
    assert calibration.spread == pytest.approx(1.0, rel=0.1)


def test_z_calibration_ignores_nan_and_is_the_identity_with_too_few_values():
    assert ZCalibration.from_placebo(np.array([5.0] * 19 + [np.nan] * 100)) == ZCalibration()
    fitted = ZCalibration.from_placebo(np.r_[np.arange(40.0), [np.nan, np.inf]])
    assert fitted.centre == pytest.approx(19.5)


def test_a_constant_placebo_gives_a_finite_spread():
    calibration = ZCalibration.from_placebo(np.full(100, 2.0))
    assert calibration.spread > 0
    assert np.isfinite(calibration.z(np.array([3.0]))).all()


def test_upper_p_is_the_normal_tail_of_the_calibrated_z_and_one_where_undefined():
    calibration = ZCalibration(centre=1.0, spread=2.0)
    raw = np.array([1.0, 5.0, -3.0, np.nan])
    np.testing.assert_allclose(calibration.z(raw)[:3], [0.0, 2.0, -2.0])
    np.testing.assert_allclose(calibration.upper_p(raw), [0.5, ndtr(-2.0), ndtr(2.0), 1.0])


def test_upper_p_is_uniform_on_fresh_placebo_like_values(rng):
    calibration = ZCalibration.from_placebo(rng.normal(0.5, 3.0, 5000))
    p = calibration.upper_p(rng.normal(0.5, 3.0, 20_000))
    for level in (0.01, 0.05, 0.5):
        assert (p <= level).mean() == pytest.approx(level, rel=0.15)


def heteroscedastic(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    size = rng.uniform(0.0, 10.0, n)
    return rng.normal(0.0, 1.0, n) / (1.0 + size), size  # small flows are noisier


def test_binned_calibration_gives_each_size_bin_its_own_spread(rng):
    raw, size = heteroscedastic(rng, 5000)
    calibration = BinnedZCalibration.from_placebo(raw, size)
    assert len(calibration.edges) == 4
    assert np.all(np.diff(calibration.spreads) < 0)  # larger flows, smaller spread
    z = calibration.z(raw, size)
    for low, high in [(0, 2), (4, 6), (8, 10)]:
        in_bin = (size >= low) & (size < high)
        assert np.median(np.abs(z[in_bin])) == pytest.approx(0.674, rel=0.15)


def test_binned_calibration_pools_when_the_placebo_is_small(rng):
    raw, size = heteroscedastic(rng, 60)
    calibration = BinnedZCalibration.from_placebo(raw, size)
    assert len(calibration.edges) == 0
    pooled = ZCalibration.from_placebo(raw)
    np.testing.assert_allclose(calibration.z(raw, size), pooled.z(raw))


def test_binned_calibration_keeps_nan_statistics_missing(rng):
    raw, size = heteroscedastic(rng, 1000)
    calibration = BinnedZCalibration.from_placebo(raw, size)
    z = calibration.z(np.array([np.nan, 0.1]), np.array([5.0, np.nan]))
    assert np.isnan(z[0])
    assert np.isfinite(z[1])


def test_empirical_upper_p_counts_placebo_values_at_or_above():
    placebo = np.array([1.0, 2.0, 3.0])
    p = empirical_upper_p(placebo, np.array([0.0, 1.0, 2.5, 3.0, 10.0]))
    np.testing.assert_allclose(p, [1.0, 1.0, 0.5, 0.5, 0.25])


def test_empirical_upper_p_is_never_zero_and_ignores_nan_placebo_values():
    p = empirical_upper_p(np.array([1.0, np.nan, 2.0]), np.array([1e9]))
    assert p[0] == pytest.approx(1 / 3)


def test_empirical_upper_p_is_uniform_on_exchangeable_values(rng):
    p = empirical_upper_p(rng.exponential(size=5000), rng.exponential(size=20_000))
    for level in (0.01, 0.05, 0.5):
        assert (p <= level).mean() == pytest.approx(level, rel=0.15)


def test_empirical_upper_p_of_nan_is_not_the_strongest_evidence():
    p = empirical_upper_p(np.array([1.0, 2.0, 3.0]), np.array([np.nan]))
    assert np.isnan(p[0]) or p[0] == 1.0
