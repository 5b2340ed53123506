"""The local engine gives the in-memory run's outputs, whatever the partitioning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from anomaly.batch import score_batch, sources
from anomaly.batch.assemble import in_memory_order

from .conftest import SCORE, same_outputs


@pytest.mark.parametrize(("jobs", "partitions"), [(1, 1), (1, 3), (1, 16), (2, 5)])
def test_identical_to_in_memory(model, model_dir, world_dir, reference, tmp_path, jobs, partitions):
    result = score_batch(
        model if jobs == 1 else model_dir,
        world_dir / "flows.parquet",
        start=SCORE[0],
        end=SCORE[1],
        out_dir=tmp_path / "out",
        jobs=jobs,
        partitions=partitions,
    )
    same_outputs(reference, tmp_path / "out")
    assert result.run["batch"] == {"engine": "local", "workers": jobs, "partitions": partitions}
    assert len(result.leads) == len(pd.read_csv(reference / "leads.csv"))


@pytest.mark.parametrize("batch", [True, False])
def test_text_columns_are_stored_as_dictionaries(model, flows, world_dir, tmp_path, batch):
    # The goods columns repeat a few texts over every month of every series: a
    # dictionary that repeats a value makes Parquet fall back to plain strings; so does
    # text that pandas 3 hands over as large_string, unless it is encoded too.
    if batch:
        score_batch(model, world_dir / "flows.parquet", start=SCORE[0], out_dir=tmp_path / "o")
    else:
        model.score(flows, SCORE[0]).write(tmp_path / "o")
    metadata = pa.parquet.ParquetFile(tmp_path / "o" / "scores.parquet").metadata
    text = ["period", "reporter", "partner", "flow", "hs", "description", "chp_tier"]
    for group in range(metadata.num_row_groups):
        columns = metadata.row_group(group)
        encodings = {
            columns.column(i).path_in_schema: columns.column(i).encodings
            for i in range(columns.num_columns)
        }
        plain = [name for name in text if "RLE_DICTIONARY" not in encodings[name]]
        assert not plain, f"row group {group}: {plain} stored as plain text"


def test_small_batches_and_scan_units(model, world_dir, reference, tmp_path, monkeypatch):
    # Many row groups, scan units and batches: the scan never holds more than a batch.
    path = tmp_path / "groups.parquet"
    table = pa.parquet.read_table(world_dir / "flows.parquet")
    pa.parquet.write_table(table, path, row_group_size=20_000)
    monkeypatch.setattr(sources, "ROWS_PER_UNIT", 40_000)
    monkeypatch.setattr(sources, "BATCH_ROWS", 7_000)
    assert len(sources.resolve_inputs(path, "auto").units) > 3
    score_batch(model, path, start=SCORE[0], end=SCORE[1], out_dir=tmp_path / "out", partitions=4)
    same_outputs(reference, tmp_path / "out")


def test_dataset_directory(model, flows, reference, tmp_path):
    # A hive-partitioned dataset (one directory per year), shuffled within files.
    frame = flows.assign(period=flows["period"].astype(str), year=flows["period"].dt.year)
    frame = frame.sample(frac=1.0, random_state=0)
    ds.write_dataset(
        pa.Table.from_pandas(frame, preserve_index=False),
        tmp_path / "dataset",
        format="parquet",
        partitioning=["year"],
        partitioning_flavor="hive",
    )
    score_batch(model, tmp_path / "dataset", start=SCORE[0], end=SCORE[1], out_dir=tmp_path / "o")
    same_outputs(reference, tmp_path / "o")


def test_csv_goes_through_read_flows(model, world_dir, reference, tmp_path):
    score_batch(
        model,
        [world_dir / "csv" / "flows.csv"],
        start=SCORE[0],
        end=SCORE[1],
        out_dir=tmp_path / "o",
    )
    same_outputs(reference, tmp_path / "o")


def test_open_window_ends_with_the_data(model, flows, world_dir, tmp_path):
    expected = model.score(flows, SCORE[0]).write(tmp_path / "memory")
    score_batch(model, world_dir / "flows.parquet", start=SCORE[0], out_dir=tmp_path / "batch")
    same_outputs(expected, tmp_path / "batch")


def test_in_memory_order_puts_trained_series_the_data_lacks_last():
    keys = pd.DataFrame({"reporter": ["B", "A", "C", "A"], "partner": "X", "flow": "export"})
    keys["hs"] = ["2", "1", "1", "0"]
    order = in_memory_order(keys, np.array([-1, 9, -1, 4]))
    assert order.tolist() == [0, 2, 3, 1]


def test_series_seen_only_before_the_window(model, flows, tmp_path):
    # Flows the model never saw, reported in the charts' months and in older months
    # only (one per HS revision): scored as silent series, exactly as in memory.
    extra = pd.DataFrame(
        {
            "period": pd.PeriodIndex(["2019-03", "2021-11", "2016-05", "2016-06"], freq="M"),
            "reporter": ["KAZ", "KAZ", "ARM", "ARM"],
            "partner": ["DEU", "DEU", "FRA", "FRA"],
            "flow": "import",
            "hs": ["854231", "854231", "848210", "848210"],
            "value": [5e5, 7e5, 1e4, 2e4],
        }
    )
    data = pd.concat([flows, extra], ignore_index=True)
    path = tmp_path / "flows.parquet"
    data.assign(period=data["period"].astype(str)).to_parquet(path, index=False)
    expected = model.score(data, *SCORE).write(tmp_path / "memory")
    result = score_batch(model, path, start=SCORE[0], end=SCORE[1], out_dir=tmp_path / "batch")
    same_outputs(expected, tmp_path / "batch")
    added = result.leads.merge(extra.drop(columns=["period", "value"]).drop_duplicates())
    assert len(added) == 2
    assert (added["actual"] == 0).all()
