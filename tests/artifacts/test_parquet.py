"""Key tables as Parquet: deterministic, plain column types, checked against the manifest."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from anomaly.artifacts.parquet import describe_table, read_table, to_arrow_table, write_table
from anomaly.errors import ArtifactIntegrityError

KEYS = pd.DataFrame(
    {
        "reporter": ["DEU", "ARM", "KGZ"],
        "hs": ["854231", "0101", "880730"],
        "n": [84, 60, 12],
        "share": [0.1, float("nan"), 0.3],
        "active": [True, False, True],
        "flow": pd.Categorical(["export", "export", "re-export"]),
    }
)


def test_round_trip_and_identical_bytes(tmp_path):
    table = to_arrow_table("keys", KEYS)
    write_table(tmp_path / "one.parquet", table)
    write_table(tmp_path / "two.parquet", to_arrow_table("keys", KEYS.copy()))

    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "two.parquet").read_bytes()
    loaded = read_table(tmp_path / "one.parquet", describe_table("keys", table), "m")
    pd.testing.assert_frame_equal(loaded, KEYS)


def test_refuses_columns_that_differ_from_the_manifest(tmp_path):
    write_table(tmp_path / "keys.parquet", to_arrow_table("keys", KEYS))
    expected = describe_table("keys", to_arrow_table("keys", KEYS.drop(columns="n")))

    with pytest.raises(ArtifactIntegrityError, match=r"keys\.parquet has columns"):
        read_table(tmp_path / "keys.parquet", expected, "m")


def test_refuses_a_file_that_is_not_parquet(tmp_path):
    (tmp_path / "keys.parquet").write_bytes(b"reporter,hs\n")
    expected = describe_table("keys", to_arrow_table("keys", KEYS))

    with pytest.raises(ArtifactIntegrityError, match="not a readable Parquet file"):
        read_table(tmp_path / "keys.parquet", expected, "m")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (KEYS.set_index("hs"), "non-default index"),
        (pd.DataFrame({0: [1]}), "unique str column names"),
        (pd.DataFrame({"t": pd.to_datetime(["2024-01-01"])}), "unsupported types"),
        (pd.DataFrame({"l": [[1, 2]]}), "unsupported types"),
    ],
)
def test_refuses_tables_it_cannot_store_plainly(frame, message):
    with pytest.raises(ValueError, match=message):
        to_arrow_table("keys", frame)


def test_describe_names_arrow_types():
    entry = describe_table("keys", pa.table({"n": pa.array([1], pa.int32())}))
    assert entry == {"file": "keys.parquet", "rows": 1, "columns": [{"name": "n", "type": "int32"}]}
