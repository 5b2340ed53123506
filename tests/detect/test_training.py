"""What the detectors learn from a training panel, gathered over its partitions by
country pair, is what they learn from the whole panel, to the bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly import build_panel
from anomaly.batch.partition import pair_partitions
from anomaly.detect import DetectionConfig, default_detectors
from anomaly.detect.base import BaseDetector
from anomaly.detect.baseline import PlaceboTails
from anomaly.detect.mirror import learn_ratios
from anomaly.detect.training import (
    TrainingStatistics,
    fit_detector,
    partitioned_detectors,
    training_share,
)
from anomaly.forecast.publication import published_directions
from anomaly.model.context import (
    merge_counts,
    norms_from_counts,
    publication_counts,
    publication_norms,
)
from anomaly.panel import merge_declared
from anomaly.simulate import simulate_world


@pytest.fixture(scope="module")
def train():
    return build_panel(simulate_world(400, seed=6).flows).window("2015-01", "2021-12")


def partitions(panel, n=3):
    """The panel's rows of each partition by unordered country pair."""
    part = pair_partitions(panel.keys["reporter"], panel.keys["partner"], n)
    return [np.flatnonzero(part == index) for index in range(n)]


def test_training_statistics_gathered_over_partitions_equal_the_whole_panel_s(train):
    config = DetectionConfig()
    parts = partitions(train)
    declared = merge_declared([train.select(rows).publishers_declared() for rows in parts])
    assert declared.equals(train.publishers_declared())
    table = published_directions(declared)
    shares = [training_share(train.select(rows), table, config) for rows in parts]
    statistics = TrainingStatistics.gather(shares, parts, config)
    expected = learn_ratios(train)
    pd.testing.assert_frame_equal(statistics.ratios.keys, expected.keys)
    np.testing.assert_array_equal(statistics.ratios.log_ratio, expected.log_ratio)
    assert statistics.ratios.pooled == expected.pooled
    onset = pd.Period(config.sanctions_onset, freq="M")
    tails = PlaceboTails.from_training(train, onset, config.min_placebo_values)
    for name in ("lengths", "quantiles", "draws"):
        np.testing.assert_array_equal(getattr(statistics.tails, name), getattr(tails, name))
    fitted = [fit_detector(d, statistics, None) for d in default_detectors(config)]
    assert [d.name for d in fitted] == [d.name for d in default_detectors(config)]


def test_publication_norms_merged_over_partitions(train):
    counts = [
        publication_counts(train.keys.iloc[rows], train.values[rows]) for rows in partitions(train)
    ]
    merged = norms_from_counts(*merge_counts(counts))
    expected = publication_norms(train.keys, train.values)
    pd.testing.assert_frame_equal(merged, expected, rtol=1e-12)


def test_detectors_written_elsewhere_are_named_as_not_partitionable():
    class Quiet(BaseDetector):
        name = "quiet"

    detectors = [*default_detectors(DetectionConfig()), Quiet()]
    assert partitioned_detectors(detectors) == ["quiet"]
    statistics = TrainingStatistics(None, None)
    with pytest.raises(ValueError, match=r"'quiet' .*cannot be trained over partitions"):
        fit_detector(Quiet(), statistics, None)
