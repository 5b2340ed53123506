"""``anomaly score --demand FILE``: an external general-demand control, in memory and
in batch, recorded in run.json."""

from __future__ import annotations

import json

import pandas as pd

from anomaly.cli.main import EXIT_OK

from .conftest import run


def test_the_demand_control_is_recorded_and_batch_agrees(capsys, model_dir, world_dir, tmp_path):
    flows = pd.read_parquet(world_dir / "flows.parquet")
    totals = flows.groupby(["period", "reporter", "partner", "flow"], as_index=False)["value"].sum()
    totals.assign(hs="00").to_csv(tmp_path / "totals.csv", index=False)
    score = ["score", "--model", str(model_dir), "--data", str(world_dir), "--start", "2022-01"]
    demand = ["--demand", str(tmp_path / "totals.csv")]

    assert run(capsys, *score, "--out", str(tmp_path / "memory"), *demand)[0] == EXIT_OK
    assert run(capsys, *score, "--out", str(tmp_path / "batch"), *demand, "--jobs", "1")[0] == 0
    records = [json.loads((tmp_path / o / "run.json").read_text()) for o in ("memory", "batch")]
    assert [r["demand_control"]["sources"] for r in records] == [[str(tmp_path / "totals.csv")]] * 2
    memory, batch = (
        pd.read_csv(tmp_path / o / "leads.csv", dtype={"hs": str}) for o in ("memory", "batch")
    )
    pd.testing.assert_frame_equal(memory, batch)
