"""Bad input fails with the error (and the file and line) that read_flows would give."""

from __future__ import annotations

import pandas as pd
import pytest

from anomaly import read_flows
from anomaly.batch import BatchError, score_batch
from anomaly.errors import (
    CurrencyError,
    DataError,
    DuplicateKeyError,
    EmptyDataError,
    FormatError,
    InvalidValueError,
    PeriodError,
    UnknownCodeError,
)

from .conftest import SCORE, same_outputs, score


@pytest.fixture
def sample(flows) -> pd.DataFrame:
    """The rows of 40 series, periods and codes as text (as files hold them)."""
    keys = flows[["reporter", "partner", "flow", "hs"]].drop_duplicates().head(40)
    frame = flows.merge(keys).reset_index(drop=True)
    return frame.astype({column: str for column in ("period", *keys.columns)})


def write(frame: pd.DataFrame, path):
    frame.to_parquet(path, index=False)
    return path


def test_negative_value_names_file_and_line(model, sample, tmp_path):
    row = int(sample.index[sample["period"] == "2022-05"][0])
    sample.loc[row, "value"] = -5.0
    path = write(sample, tmp_path / "flows.parquet")
    with pytest.raises(InvalidValueError, match=rf"flows\.parquet.*line {row + 2}\b"):
        score(model, path, tmp_path / "out")


def test_duplicates_across_files(model, sample, tmp_path):
    write(sample, tmp_path / "a.parquet")
    write(sample[sample["period"] == "2023-02"], tmp_path / "b.parquet")
    with pytest.raises(DuplicateKeyError, match=r"a\.parquet.*b\.parquet|b\.parquet.*a\.parquet"):
        score(model, [tmp_path / "a.parquet", tmp_path / "b.parquet"], tmp_path / "out")


def test_unknown_country(model, sample, tmp_path):
    sample.loc[sample["period"] == "2022-03", "partner"] = "XXX"
    with pytest.raises(UnknownCodeError, match="XXX"):
        score(model, write(sample, tmp_path / "f.parquet"), tmp_path / "out")


def test_annual_periods(model, sample, tmp_path):
    sample["period"] = sample["period"].str[:4]
    sample = sample.drop_duplicates(["period", "reporter", "partner", "flow", "hs"])
    with pytest.raises(PeriodError, match="monthly"):
        score(model, write(sample, tmp_path / "f.parquet"), tmp_path / "out")


def test_missing_column(model, sample, tmp_path):
    path = write(sample.drop(columns="hs"), tmp_path / "f.parquet")
    with pytest.raises(FormatError, match="hs"):
        score(model, path, tmp_path / "out", format="canonical")
    with pytest.raises(FormatError):
        score(model, path, tmp_path / "out")


def test_two_currencies(model, sample, tmp_path):
    write(sample.iloc[::2].assign(currency="EUR"), tmp_path / "a.parquet")
    write(sample.iloc[1::2].assign(currency="USD"), tmp_path / "b.parquet")
    with pytest.raises(CurrencyError):
        score(model, [tmp_path / "a.parquet", tmp_path / "b.parquet"], tmp_path / "out")


def test_a_file_without_a_currency_column_takes_the_declared_one(model, sample, tmp_path):
    # read_flows's rule, as an in-memory run applies it.
    files = [
        write(sample.iloc[::2].assign(currency="EUR"), tmp_path / "a.parquet"),
        write(sample.iloc[1::2], tmp_path / "b.parquet"),
    ]
    with pytest.raises(CurrencyError, match="unknown \\(no currency column\\), while"):
        score(model, files, tmp_path / "refused")
    score(model, files, tmp_path / "batch", currency="EUR")
    memory = model.score(read_flows(files, currency="EUR"), *SCORE).write(tmp_path / "memory")
    same_outputs(memory, tmp_path / "batch")


def test_window_inside_training(model, world_dir, tmp_path):
    with pytest.raises(DataError, match="inside the training window"):
        score_batch(model, world_dir / "flows.parquet", start="2021-06", out_dir=tmp_path)


def test_missing_and_empty_inputs(model, tmp_path):
    with pytest.raises(FileNotFoundError):
        score(model, tmp_path / "nothing.parquet", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptyDataError):
        score(model, tmp_path / "empty", tmp_path / "out")


def test_engine_options(model, world_dir, tmp_path):
    with pytest.raises(BatchError, match="dask"):
        score(model, world_dir / "flows.parquet", tmp_path / "out", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match="engine"):
        score(model, world_dir / "flows.parquet", tmp_path / "out", engine="spark")


def test_a_scoring_window_past_the_data_is_refused_in_batch(model, world_dir, tmp_path):
    with pytest.raises(DataError, match="after the data"):
        score_batch(
            model, world_dir / "flows.parquet", start="2022-01", end="2030-12", out_dir=tmp_path
        )
