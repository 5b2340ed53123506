"""Partitions by unordered country pair: stable, symmetric, mirrors together."""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.batch import pair_partition, pair_partitions
from anomaly.schema import MIRROR_FLOW


def test_the_hash_is_stable_across_processes_and_releases():
    # Work directories and clusters rely on every process agreeing: pinned values.
    assert [pair_partition("DEU", "KGZ", 16), pair_partition("ARM", "USA", 7)] == [
        pair_partition("KGZ", "DEU", 16),
        pair_partition("USA", "ARM", 7),
    ]
    assert pair_partition("DEU", "KGZ", 1_000_003) == 237_148


def test_rows_get_the_partition_of_their_pair():
    reporter = pd.Series(["DEU", "KGZ", "DEU", "FRA"]).astype("category")
    partner = np.array(["KGZ", "DEU", "FRA", "DEU"], dtype=object)
    parts = pair_partitions(reporter, partner, 5)
    pairs = zip(reporter, partner, strict=True)
    assert parts.tolist() == [pair_partition(r, p, 5) for r, p in pairs]
    assert parts[0] == parts[1] and parts[2] == parts[3]


def test_categories_unused_or_in_another_order_give_the_same_partitions():
    reporter = ["DEU", "KGZ", "FRA", "DEU"]
    partner = ["KGZ", "DEU", "DEU", "FRA"]
    expected = [pair_partition(r, p, 7) for r, p in zip(reporter, partner, strict=True)]
    for categories in (["KGZ", "FRA", "DEU"], ["ARM", "DEU", "FRA", "KGZ", "USA"]):
        as_categories = pd.Categorical(reporter, categories=categories)
        assert pair_partitions(as_categories, np.array(partner), 7).tolist() == expected
        partners = pd.Series(pd.Categorical(partner, categories=categories[::-1]))
        assert pair_partitions(pd.Series(as_categories), partners, 7).tolist() == expected


def test_every_export_meets_its_mirror_import(flows):
    keys = flows[["reporter", "partner", "flow", "hs"]].drop_duplicates()
    keys = keys.assign(part=pair_partitions(keys["reporter"], keys["partner"], 8))
    mirrors = keys.assign(
        reporter=keys["partner"], partner=keys["reporter"], flow=keys["flow"].map(MIRROR_FLOW)
    )
    matched = keys.merge(mirrors, on=["reporter", "partner", "flow", "hs"], suffixes=("", "_m"))
    assert len(matched) > 100
    assert (matched["part"] == matched["part_m"]).all()


def test_partitions_are_balanced_enough(flows):
    pairs = flows[["reporter", "partner"]].drop_duplicates()
    counts = np.bincount(pair_partitions(pairs["reporter"], pairs["partner"], 8), minlength=8)
    assert counts.min() > 0.5 * counts.mean()


def test_empty_input():
    assert pair_partitions([], [], 4).tolist() == []
