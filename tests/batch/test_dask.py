"""The Dask engine on a real cluster (worker processes, loopback) gives the same outputs."""

from __future__ import annotations

import pytest

from anomaly.batch import score_batch

from .conftest import SCORE, same_outputs

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as local:
        yield local


def test_existing_cluster(model_dir, world_dir, reference, cluster, tmp_path):
    result = score_batch(
        model_dir,
        world_dir / "flows.parquet",
        start=SCORE[0],
        end=SCORE[1],
        out_dir=tmp_path / "out",
        engine="dask",
        scheduler=cluster.scheduler_address,
        partitions=5,
    )
    same_outputs(reference, tmp_path / "out")
    assert result.run["batch"]["workers"] == 2


def test_model_object_is_shipped_as_its_artifact(model, world_dir, reference, cluster, tmp_path):
    score_batch(
        model,
        world_dir / "flows.csv",
        start=SCORE[0],
        end=SCORE[1],
        out_dir=tmp_path / "out",
        engine="dask",
        scheduler=cluster.scheduler_address,
    )
    same_outputs(reference, tmp_path / "out")


def test_own_local_cluster(model_dir, world_dir, reference, tmp_path):
    score_batch(
        model_dir,
        world_dir / "flows.parquet",
        start=SCORE[0],
        end=SCORE[1],
        out_dir=tmp_path / "out",
        engine="dask",
        jobs=2,
    )
    same_outputs(reference, tmp_path / "out")
