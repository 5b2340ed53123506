"""Several files, directories, compression and Parquet; the CSV round trip."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anomaly.errors import EmptyDataError
from anomaly.io import read_flows

HEADER = "period,reporter,partner,flow,hs,value\n"


def test_directory_reads_data_files_in_sorted_order(tmp_path):
    rows = {
        "b.csv": "2022-02,DEU,KGZ,export,854231,2\n",
        "a.csv.gz": "2022-01,DEU,KGZ,export,854231,1\n",
        "c.CSV": "2022-03,DEU,KGZ,export,854231,3\n",
    }
    for name, row in rows.items():
        frame = pd.read_csv(pd.io.common.StringIO(HEADER + row), dtype=str)
        frame.to_csv(tmp_path / name, index=False)
    pd.DataFrame(
        {"period": ["2022-04"], "reporter": ["DEU"], "partner": ["KGZ"], "flow": ["export"],
         "hs": ["854231"], "value": [4.0]}
    ).to_parquet(tmp_path / "d.parquet")  # fmt: skip
    (tmp_path / "notes.txt").write_text("not data")
    flows = read_flows(tmp_path, currency="EUR")
    assert flows["value"].tolist() == [1.0, 2.0, 3.0, 4.0]
    names = [name.rsplit("/", 1)[-1] for name in flows.attrs["sources"]]
    assert names == ["a.csv.gz", "b.csv", "c.CSV", "d.parquet"]
    assert flows.attrs["formats"] == ["canonical"] * 4


def test_list_of_paths_and_mixed_formats(write):
    canonical = write("flows.csv", HEADER + "2022-01,DEU,KGZ,export,854231,1\n")
    comext = write(
        "comext.csv",
        "reporter,partner,product,flow,period,value\nGermany,Kyrgyzstan,85423190,EXPORT,2022-01,5\n",
    )
    flows = read_flows([canonical, comext], currency="EUR")
    assert flows["hs"].tolist() == ["854231", "85423190"]
    assert flows.attrs["formats"] == ["canonical", "comext"]
    assert flows.attrs["hs_overlaps"]["count"] == 1
    assert flows.attrs["hs_overlaps"]["examples"][0]["hs"] == "854231"


def test_empty_directory(tmp_path):
    (tmp_path / "readme.md").write_text("nothing here")
    with pytest.raises(EmptyDataError, match="no data files"):
        read_flows(tmp_path)


def test_all_rows_left_out(write):
    path = write("world.csv", HEADER + "2022-01,DEU,WLD,export,854231,1\n")
    with pytest.raises(EmptyDataError, match="no trade rows are left"):
        read_flows(path)


def test_canonical_file_with_currency_and_optional_columns(write):
    path = write(
        "flows.csv",
        "period,reporter,partner,flow,hs,value,quantity,weight_kg,currency,note\n"
        "2021,USA,CHN,re-import,010121,5,,2.5,USD,anything\n",
    )
    flows = read_flows(path)
    assert flows.attrs["currency"] == "USD"
    assert list(flows.columns) == [
        "period",
        "reporter",
        "partner",
        "flow",
        "hs",
        "value",
        "quantity",
        "weight_kg",
    ]
    assert flows["period"].dtype == pd.PeriodDtype("Y")
    assert flows["hs"].tolist() == ["010121"]
    assert np.isnan(flows["quantity"].item())


def canonical_tables():
    """Random canonical tables with unique keys, codes with leading zeros, both frequencies."""
    key = st.tuples(
        st.integers(2000, 2024),  # months after the current one are refused
        st.integers(1, 12),
        st.sampled_from(["AUT", "DEU", "ARM", "KGZ", "USA"]),
        st.sampled_from(["RUS", "KAZ", "CHN", "GEO"]),
        st.sampled_from(["export", "import", "re-export", "re-import"]),
        st.integers(1, 5).flatmap(lambda n: st.from_regex(f"[0-9]{{{2 * n}}}", fullmatch=True)),
    )
    value = st.floats(0, 1e15, allow_nan=False, allow_infinity=False)
    return st.tuples(
        st.lists(st.tuples(key, value), min_size=1, max_size=30, unique_by=lambda item: item[0]),
        st.booleans(),
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(canonical_tables())
def test_csv_round_trip(tmp_path, case):
    rows, annual = case
    freq = "Y" if annual else "M"
    periods = [
        pd.Period(year=year, month=month, freq="M").asfreq(freq) for (year, month, *_), _ in rows
    ]
    # Annual tables may repeat a key once months are dropped: keep the first of each.
    frame = pd.DataFrame(
        {
            "period": pd.PeriodIndex(periods, freq=freq),
            "reporter": [key[2] for key, _ in rows],
            "partner": [key[3] for key, _ in rows],
            "flow": [key[4] for key, _ in rows],
            "hs": [key[5] for key, _ in rows],
            "value": [value for _, value in rows],
        }
    ).drop_duplicates(["period", "reporter", "partner", "flow", "hs"])
    path = tmp_path / "round_trip.csv"
    frame.to_csv(path, index=False)
    flows = read_flows(path, currency="USD")
    expected = frame.sort_values(list(frame.columns[:5]), ignore_index=True)
    pd.testing.assert_frame_equal(flows, expected, check_dtype=False, check_categorical=False)
    assert flows["period"].dtype == pd.PeriodDtype(freq)


@pytest.mark.slow
def test_a_million_row_parquet_reads_in_seconds(tmp_path):
    rng = np.random.default_rng(0)
    n = 1_000_000
    hs = np.array([f"{code:08d}" for code in rng.choice(10**8, 1000, replace=False)])
    cell = rng.choice(100 * 10 * 10 * 1000, n, replace=False)
    month, rest = np.divmod(cell, 10 * 10 * 1000)
    reporter, rest = np.divmod(rest, 10 * 1000)
    partner, product = np.divmod(rest, 1000)
    countries = np.array(["AUT", "DEU", "FRA", "ITA", "POL", "NLD", "BEL", "ESP", "CZE", "LTU"])
    partners = np.array(["RUS", "KGZ", "ARM", "KAZ", "GEO", "UZB", "BLR", "TUR", "ARE", "CHN"])
    pd.DataFrame(
        {
            "period": pd.period_range("2015-01", periods=100, freq="M")[month].astype(str),
            "reporter": countries[reporter],
            "partner": partners[partner],
            "flow": "export",
            "hs": hs[product],
            "value": rng.random(n) * 1e6,
        }
    ).to_parquet(tmp_path / "big.parquet")
    start = time.perf_counter()
    flows = read_flows(tmp_path / "big.parquet", currency="EUR")
    assert time.perf_counter() - start < 15
    assert len(flows) == n


def test_a_dataframe_is_validated_like_a_file():
    from anomaly.errors import DataError
    from anomaly.io import read_flows

    frame = pd.DataFrame(
        {
            "period": ["2022-01", "2022-02"],
            "reporter": ["DEU", "DEU"],
            "partner": ["KGZ", "KGZ"],
            "flow": ["export", "export"],
            "hs": ["854231", "854231"],
            "value": [1.0, 2.0],
        }
    )
    flows = read_flows(frame, currency="EUR")
    assert len(flows) == 2 and flows.attrs["currency"] == "EUR"
    assert str(flows["period"].dtype) == "period[M]"
    with pytest.raises(DataError):
        read_flows(frame.assign(value=[-1.0, 2.0]))


def test_an_iterable_of_paths_is_read_like_a_list(tmp_path):
    from anomaly.io import read_flows

    rows = "period,reporter,partner,flow,hs,value\n2022-01,DEU,KGZ,export,854231,1\n"
    (tmp_path / "a.csv").write_text(rows)
    (tmp_path / "b.csv").write_text(rows.replace("2022-01", "2022-02"))
    paths = (tmp_path / name for name in ("a.csv", "b.csv"))
    assert len(read_flows(paths)) == 2
