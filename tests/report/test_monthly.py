from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anomaly.errors import DuplicateKeyError, FormatError, PeriodError
from anomaly.report import read_monthly

from .support import SCORED, TRAINING, write_scoring_output

KGZ = ("DEU", "KGZ", "export", "854231")
GEO = ("AUT", "GEO", "export", "010121")


@pytest.mark.parametrize("periods", ["text", "period", "timestamp"])
def test_reads_the_wanted_series_whatever_the_period_type(tmp_path: Path, periods: str) -> None:
    out_dir = write_scoring_output(tmp_path, periods=periods)
    series = read_monthly(out_dir / "scores.parquet", [GEO, KGZ, ("DEU", "KGZ", "import", "1")])
    assert sorted(series) == [GEO, KGZ]
    kgz = series[KGZ]
    assert kgz.index.equals(TRAINING.append(SCORED).rename("period"))
    assert list(kgz.columns) == ["actual", "expected", "lower", "upper", "mirror_actual"]
    assert kgz.loc[TRAINING, "expected"].isna().all()
    assert kgz.loc[SCORED, "lower"].notna().all()
    assert series[GEO]["mirror_actual"].isna().all()


def test_absent_months_become_gaps(out_dir: Path) -> None:
    table = pd.read_parquet(out_dir / "scores.parquet")
    table = table.loc[table["period"] != "2021-06"]
    table.to_parquet(out_dir / "scores.parquet")
    kgz = read_monthly(out_dir / "scores.parquet", [KGZ])[KGZ]
    assert len(kgz) == 36
    assert np.isnan(kgz.loc[pd.Period("2021-06", "M"), "actual"])


def test_a_directory_of_parts(out_dir: Path) -> None:
    table = pd.read_parquet(out_dir / "scores.parquet")
    parts = out_dir / "parts.parquet"
    parts.mkdir()
    for number, (_, rows) in enumerate(table.groupby("partner")):
        rows.to_parquet(parts / f"part-{number}.parquet", index=False)
    assert read_monthly(parts, [KGZ])[KGZ]["actual"].notna().sum() == 36


def test_no_keys_reads_nothing(tmp_path: Path) -> None:
    assert read_monthly(tmp_path / "absent.parquet", []) == {}


def test_missing_columns_are_listed(out_dir: Path) -> None:
    table = pd.read_parquet(out_dir / "scores.parquet")
    table.drop(columns=["lower", "upper"]).to_parquet(out_dir / "scores.parquet")
    with pytest.raises(FormatError, match="missing required columns lower, upper"):
        read_monthly(out_dir / "scores.parquet", [KGZ])


def test_numeric_hs_codes_are_refused(out_dir: Path) -> None:
    table = pd.read_parquet(out_dir / "scores.parquet")
    table.assign(hs=table["hs"].astype(int)).to_parquet(out_dir / "scores.parquet")
    with pytest.raises(FormatError, match="column 'hs': stored as int64"):
        read_monthly(out_dir / "scores.parquet", [KGZ])


def test_two_rows_for_one_month(out_dir: Path) -> None:
    table = pd.read_parquet(out_dir / "scores.parquet")
    pd.concat([table, table.iloc[[3]]]).to_parquet(out_dir / "scores.parquet")
    with pytest.raises(DuplicateKeyError, match=r"DEU/KGZ/export/854231 .* 2020-04"):
        read_monthly(out_dir / "scores.parquet", [KGZ])


def test_periods_that_are_not_months(out_dir: Path) -> None:
    table = pd.read_parquet(out_dir / "scores.parquet")
    table.loc[0, "period"] = "sometime"
    table.to_parquet(out_dir / "scores.parquet")
    with pytest.raises(PeriodError, match="column 'period'"):
        read_monthly(out_dir / "scores.parquet", [KGZ])


def test_not_parquet(out_dir: Path) -> None:
    (out_dir / "scores.parquet").write_text("period,actual\n")
    with pytest.raises(FormatError, match="not a readable Parquet file"):
        read_monthly(out_dir / "scores.parquet", [KGZ])
