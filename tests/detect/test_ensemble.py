"""Cauchy combination of detector p-values, exact where it can be and ordered in the tail."""

from __future__ import annotations

import numpy as np
import pytest

from anomaly.detect import cauchy_combination, log_cauchy_combination, score_from_log_p


def exact_cauchy(p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Liu & Xie (2020): T = Σ w tan((0.5 - p)π) / Σ w, p = 1/2 - arctan(T)/π."""
    t = (w * np.tan((0.5 - p) * np.pi)).sum(axis=1) / w.sum()
    return 0.5 - np.arctan(t) / np.pi


def test_equals_the_exact_formula_where_p_values_are_moderate(rng):
    p = rng.uniform(0.01, 0.99, size=(500, 4))
    np.testing.assert_allclose(cauchy_combination(p), exact_cauchy(p, np.ones(4)), rtol=1e-10)


def test_equals_the_exact_weighted_formula(rng):
    p = rng.uniform(0.01, 0.99, size=(500, 3))
    weights = np.array([2.0, 1.0, 0.5])
    np.testing.assert_allclose(cauchy_combination(p, weights), exact_cauchy(p, weights), rtol=1e-10)


@pytest.mark.parametrize("p", [0.9, 0.3, 1e-3, 1e-9, 1e-30, 1e-300, 5e-324])
def test_a_single_p_value_combines_to_itself(p):
    assert cauchy_combination(np.array([[p]]))[0] == pytest.approx(p, rel=1e-9)


def test_a_tiny_p_beside_an_indifferent_one_is_about_twice_it():
    # T = (1/(πp) + tan(0)) / 2 in the tail, so the combined p is 2p
    combined = cauchy_combination(np.array([[1e-300, 0.5], [1e-12, 0.5]]))
    np.testing.assert_allclose(combined, [2e-300, 2e-12], rtol=1e-6)


def test_stays_finite_and_ordered_far_below_the_smallest_float():
    log_p = np.array([-1e6, -1e5, -1e4, -750.0, np.log(1e-300), np.log(1e-20), np.log(1e-3)])
    rows = np.column_stack([log_p, np.full_like(log_p, np.log(0.5))])
    combined = log_cauchy_combination(rows)
    assert np.isfinite(combined).all()
    assert np.all(np.diff(combined) > 0)
    # in logs: e^-100000 beside 0.5 is 2·e^-100000
    assert combined[1] == pytest.approx(-1e5 + np.log(2), abs=1e-9)


def test_scores_stay_ordered_where_p_values_underflow():
    log_p = np.array([[-2000.0, 0.0], [-1000.0, 0.0], [-800.0, 0.0]])
    score = score_from_log_p(log_cauchy_combination(log_p))
    assert score[0] > score[1] > score[2] > 300


def test_rows_without_any_p_value_combine_to_one():
    combined = cauchy_combination(np.array([[np.nan, np.nan], [np.nan, 0.2]]))
    np.testing.assert_allclose(combined, [1.0, 0.2])


def test_missing_detectors_are_left_out_not_counted_as_indifferent():
    with_nan = cauchy_combination(np.array([[0.01, np.nan, 0.2]]))
    without = cauchy_combination(np.array([[0.01, 0.2]]))
    np.testing.assert_allclose(with_nan, without)


def test_a_zero_weight_leaves_a_detector_out():
    combined = cauchy_combination(np.array([[0.01, 1e-9]]), weights=np.array([1.0, 0.0]))
    assert combined[0] == pytest.approx(0.01)


@pytest.mark.parametrize("strong", [1e-4, 1e-6, 1e-12, 1e-100])
@pytest.mark.parametrize("indifferent", [0.99, 0.999999, 1.0])
def test_one_strong_p_beside_a_p_near_one_is_not_vetoed(strong, indifferent):
    combined = cauchy_combination(np.array([[strong, indifferent]]))[0]
    assert combined <= 3 * strong


def test_the_combined_p_is_monotone_in_each_detector(rng):
    base = rng.uniform(0.02, 0.9, size=(200, 3))
    smaller = base.copy()
    smaller[:, 0] /= 2
    assert np.all(cauchy_combination(smaller) < cauchy_combination(base))


def test_score_is_minus_log10_of_the_p_value():
    np.testing.assert_allclose(score_from_log_p(np.log([0.01, 1.0, 1e-50])), [2.0, 0.0, 50.0])


def test_a_p_value_of_zero_is_the_strongest_evidence_not_ignored():
    combined = cauchy_combination(np.array([[0.0, 0.5], [0.0, np.nan], [1e-300, 0.5]]))
    assert combined[0] <= combined[2]
    assert combined[1] == 0.0
