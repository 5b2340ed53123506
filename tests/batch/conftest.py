"""A simulated world on disk, a model trained on it, and its in-memory scores, once.

Every batch run is compared with the in-memory run: ``leads.csv`` byte for byte,
``scores.parquet`` frame for frame.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import pandas as pd
import pytest

from anomaly import TradeAnomalyModel, read_flows
from anomaly.batch import score_batch
from anomaly.simulate import simulate_world, write_world

TRAIN = ("2015-01", "2021-12")
#: The world runs to 2024-12: rows after the window are read for their keys only.
SCORE = ("2022-01", "2023-12")


def score(model, inputs, out_dir: Path, **options):
    """``score_batch`` over the test window into ``out_dir``."""
    return score_batch(model, inputs, start=SCORE[0], end=SCORE[1], out_dir=out_dir, **options)


def same_outputs(expected: Path, actual: Path) -> None:
    """``leads.csv`` identical to the byte, ``scores.parquet`` identical frames."""
    assert filecmp.cmp(expected / "leads.csv", actual / "leads.csv", shallow=False)
    pd.testing.assert_frame_equal(
        pd.read_parquet(expected / "scores.parquet"), pd.read_parquet(actual / "scores.parquet")
    )


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory) -> Path:
    """``flows.parquet`` and ``csv/flows.csv`` of a planted world of ~2,000 series."""
    return write_world(simulate_world(1_000, seed=11), tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="session")
def flows(world_dir) -> pd.DataFrame:
    return read_flows(world_dir / "flows.parquet")


@pytest.fixture(scope="session")
def model(flows) -> TradeAnomalyModel:
    return TradeAnomalyModel().fit(flows, *TRAIN)


@pytest.fixture(scope="session")
def model_dir(model, tmp_path_factory) -> Path:
    return model.save(tmp_path_factory.mktemp("model") / "model")


@pytest.fixture(scope="session")
def reference(model, flows, tmp_path_factory) -> Path:
    """The outputs of the in-memory run."""
    scores = model.score(flows, *SCORE)
    return scores.write(tmp_path_factory.mktemp("reference"))
