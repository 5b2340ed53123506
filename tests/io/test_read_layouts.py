"""Reading does not depend on how a canonical table was written: CSV, Parquet with
dictionary-encoded (categorical) or plain string columns, one file or many, row groups
of any size, rows in any order all give the same flows table and the same panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from anomaly.errors import CurrencyError, DuplicateKeyError, UnknownCodeError
from anomaly.io import count_rows, read_flows
from anomaly.panel import build_panel

KEYS = ["period", "reporter", "partner", "flow", "hs"]


@pytest.fixture
def table() -> pd.DataFrame:
    """Canonical rows as text, shuffled: 3 reporters, 4 partners (one an aggregate),
    two flows, HS6 codes with a heading beside its children, 2020-01..2021-06."""
    rng = np.random.default_rng(7)
    months = pd.period_range("2020-01", "2021-06", freq="M").strftime("%Y-%m")
    rows = [
        (month, reporter, partner, flow, hs)
        for month in months
        for reporter in ("DEU", "FRA", "POL")
        for partner in ("ARM", "KGZ", "RUS")
        for flow in ("export", "import")
        for hs in ("010121", "854231", "854239", "880730")
        if partner != "RUS" or reporter != "POL"
    ]
    frame = pd.DataFrame(rows, columns=KEYS)
    frame = frame.sample(frac=0.8, random_state=1)
    heading = frame.loc[frame["hs"] == "854231"].head(5).assign(hs="8542")
    world = frame.head(3).assign(partner="World")
    frame = pd.concat([frame, heading, world], ignore_index=True)
    frame["value"] = rng.lognormal(8, 2, len(frame)).round(2)
    return frame.sample(frac=1.0, random_state=2, ignore_index=True)


def _categorical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({column: "category" for column in KEYS})


def _plain(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def _layouts(table: pd.DataFrame, folder) -> dict[str, object]:
    paths: dict[str, object] = {"csv": folder / "flows.csv"}
    table.to_csv(paths["csv"], index=False)
    paths["dictionary"] = folder / "dictionary.parquet"
    _categorical(table).to_parquet(paths["dictionary"], index=False)
    paths["plain"] = folder / "plain.parquet"
    pq.write_table(_plain(table), paths["plain"], row_group_size=50)
    paths["plain, no dictionary pages"] = folder / "plain-no-dictionary.parquet"
    pq.write_table(_plain(table), paths["plain, no dictionary pages"], use_dictionary=False)
    paths["series by series"] = folder / "series.parquet"
    _categorical(table.sort_values(KEYS[1:] + KEYS[:1])).to_parquet(
        paths["series by series"], index=False
    )
    paths["key order"] = folder / "sorted.parquet"
    _categorical(table.sort_values(KEYS)).to_parquet(paths["key order"], index=False)
    # Three files, one written each way, with different categories in each.
    many = folder / "many"
    many.mkdir()
    parts = np.array_split(np.arange(len(table)), 3)
    _categorical(table.iloc[parts[0]]).to_parquet(many / "a.parquet", index=False)
    pq.write_table(_plain(table.iloc[parts[1]]), many / "b.parquet", row_group_size=7)
    table.iloc[parts[2]].to_csv(many / "c.csv", index=False)
    paths["many files"] = many
    return paths


def test_every_layout_gives_the_same_flows_and_panel(table, tmp_path):
    flows = {
        name: read_flows(path, currency="EUR") for name, path in _layouts(table, tmp_path).items()
    }
    reference = flows.pop("csv")
    for name, found in flows.items():
        pd.testing.assert_frame_equal(found, reference, obj=name)
        assert found.attrs["hs_overlaps"] == reference.attrs["hs_overlaps"], name
        dropped = sum(record["rows"] for record in found.attrs["dropped"])
        assert dropped == reference.attrs["dropped"][0]["rows"] == 3, name
    expected_panel = build_panel(reference)
    for name, found in flows.items():
        panel = build_panel(found)
        pd.testing.assert_frame_equal(panel.keys, expected_panel.keys, obj=name)
        np.testing.assert_array_equal(panel.values, expected_panel.values)
        assert panel.periods.equals(expected_panel.periods)


def test_the_table_holds_the_rows_as_written(table, tmp_path):
    flows = read_flows(_layouts(table, tmp_path)["dictionary"], currency="EUR")
    expected = (
        table.loc[table["partner"] != "World"].sort_values(KEYS, ignore_index=True).astype(object)
    )
    got = flows.assign(period=flows["period"].astype(str)).astype(
        {column: object for column in KEYS}
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # Keys stay codes: categoricals of their sorted distinct values.
    for column in KEYS[1:]:
        categories = flows[column].cat.categories
        assert categories.is_monotonic_increasing and categories.is_unique
        assert set(categories) == set(expected[column])
    assert flows.attrs["hs_overlaps"]["count"] == 5


@pytest.mark.parametrize("layout", ["csv", "dictionary", "plain", "many files"])
def test_a_duplicate_is_named_alike_in_every_layout(table, tmp_path, layout):
    twice = pd.concat([table, table.iloc[[4]]], ignore_index=True)
    path = _layouts(twice, tmp_path)[layout]
    with pytest.raises(DuplicateKeyError) as raised:
        read_flows(path, currency="EUR")
    if layout != "many files":
        assert f"lines 6 and {len(twice) + 1}" in str(raised.value)


def test_unused_categories_are_not_read_as_codes(table, tmp_path):
    # A categorical written after its rows were filtered keeps every category.
    frame = _categorical(pd.concat([table, table.head(1).assign(reporter="XXX")]))
    frame.iloc[:-1].to_parquet(tmp_path / "filtered.parquet", index=False)
    assert "XXX" in pd.read_parquet(tmp_path / "filtered.parquet")["reporter"].cat.categories
    flows = read_flows(tmp_path / "filtered.parquet", currency="EUR")
    assert "XXX" not in flows["reporter"].cat.categories
    frame.to_parquet(tmp_path / "used.parquet", index=False)
    with pytest.raises(UnknownCodeError, match=f"line {len(frame) + 1}: .*'XXX'"):
        read_flows(tmp_path / "used.parquet", currency="EUR")


@pytest.mark.parametrize("dictionary", [False, True])
def test_a_currency_column_is_checked_on_its_codes(table, tmp_path, dictionary):
    frame = table.assign(currency="EUR")
    if dictionary:
        frame = frame.astype({"currency": "category"})
    frame.to_parquet(tmp_path / "eur.parquet", index=False)
    assert read_flows(tmp_path / "eur.parquet").attrs["currency"] == "EUR"
    frame.assign(currency=["USD"] * 3 + ["EUR"] * (len(frame) - 3)).to_parquet(
        tmp_path / "two.parquet", index=False
    )
    with pytest.raises(
        CurrencyError, match=r"lines 2, 3, 4: .*\(EUR: \d+ rows, USD: 3 rows\); the USD rows"
    ):
        read_flows(tmp_path / "two.parquet")
    frame.assign(currency=["XXX"] + ["EUR"] * (len(frame) - 1)).to_parquet(
        tmp_path / "bad.parquet", index=False
    )
    with pytest.raises(CurrencyError, match=r"line 2: unknown currency code\(s\) 'XXX';"):
        read_flows(tmp_path / "bad.parquet")


def test_parquet_files_say_their_rows_before_they_are_read(table, tmp_path):
    paths = _layouts(table, tmp_path)
    assert count_rows(paths["dictionary"]) == len(table)
    assert count_rows([paths["plain"], paths["dictionary"]]) == 2 * len(table)
    assert count_rows(paths["csv"]) is None
    assert count_rows(paths["many files"]) is None  # one of its files is CSV
    (tmp_path / "many" / "c.csv").unlink()
    assert count_rows(paths["many files"]) == len(table) - len(
        np.array_split(np.arange(len(table)), 3)[2]
    )
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 and then nothing")
    assert count_rows(tmp_path / "broken.parquet") is None


def test_a_directory_of_plain_string_files_gives_the_panel_of_one_dictionary_file(table, tmp_path):
    # As large exports are written: a file per year of plain strings, small row groups,
    # each file with its own distinct values; against one dictionary-encoded file.
    folder = tmp_path / "years"
    folder.mkdir()
    years = table["period"].str[:4]
    for year in sorted(years.unique()):
        part = table.loc[years == year]
        pq.write_table(_plain(part), folder / f"{year}.parquet", row_group_size=10)
    assert len(list(folder.iterdir())) == 2
    single = tmp_path / "single.parquet"
    _categorical(table).to_parquet(single, index=False)
    from_files = read_flows(folder, currency="EUR")
    from_single = read_flows(single, currency="EUR")
    pd.testing.assert_frame_equal(from_files, from_single)
    for column in KEYS[1:]:
        assert isinstance(from_files[column].dtype, pd.CategoricalDtype), column
    panel, expected = build_panel(from_files), build_panel(from_single)
    pd.testing.assert_frame_equal(panel.keys, expected.keys)
    np.testing.assert_array_equal(panel.values, expected.values)
    assert panel.periods.equals(expected.periods)
