"""The Dask engine on a real cluster (worker processes, loopback) gives the same outputs."""

from __future__ import annotations

import pytest

from .conftest import same_outputs, score

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
    result = score(
        model_dir,
        world_dir / "flows.parquet",
        tmp_path / "out",
        engine="dask",
        scheduler=cluster.scheduler_address,
        partitions=5,
    )
    same_outputs(reference, tmp_path / "out")
    assert result.run["batch"]["workers"] == 2


def test_model_object_is_shipped_as_its_artifact(model, world_dir, reference, cluster, tmp_path):
    score(
        model,
        world_dir / "csv" / "flows.csv",
        tmp_path / "out",
        engine="dask",
        scheduler=cluster.scheduler_address,
    )
    same_outputs(reference, tmp_path / "out")


def test_own_local_cluster(model_dir, world_dir, reference, tmp_path):
    score(model_dir, world_dir / "flows.parquet", tmp_path / "out", engine="dask", jobs=2)
    same_outputs(reference, tmp_path / "out")
