"""``read_panel`` pivots canonical Parquet partition by partition into the panel that
``build_panel(read_flows(files))`` gives, and refuses what ``read_flows`` refuses."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import anomaly.batch.sources as sources
from anomaly import build_panel, read_flows
from anomaly.batch.errors import BatchError
from anomaly.batch.panel_reader import native_inputs, read_panel
from anomaly.errors import CurrencyError, DataError, DuplicateKeyError, EmptyDataError
from anomaly.simulate import simulate_world

KEYS = ["period", "reporter", "partner", "flow", "hs"]
LAYOUTS = ("dictionary", "plain")


@pytest.fixture(scope="module")
def flows() -> pd.DataFrame:
    """A small world's rows with what a panel must get right: CN8 codes summed into
    their HS6 series, and shadowed by it in the months it is published; HS4 rows that a
    panel at HS6 leaves out; an HS2017 code renamed in HS2022 (854890 → 854800);
    quantities; a currency column."""
    world = simulate_world(150, seed=5).flows
    rng = np.random.default_rng(5)
    detailed = world.sample(frac=0.1, random_state=1)
    children = [
        detailed.assign(hs=detailed["hs"] + "10", value=detailed["value"] * 0.3),
        detailed.iloc[::2].assign(hs=detailed["hs"].iloc[::2] + "90", value=1.5),
    ]
    headings = world.drop(detailed.index[::3])  # months with the children alone
    coarse = world.sample(frac=0.05, random_state=2).assign(hs=lambda f: f["hs"].str[:4])
    route = world.iloc[0][["reporter", "partner", "flow"]]
    months = pd.period_range("2016-01", "2024-06", freq="M")
    renamed = pd.DataFrame(
        {
            "period": months,
            **route.to_dict(),
            "hs": np.where(months.year < 2022, "854890", "854800"),
            "value": rng.lognormal(8, 1, len(months)).round(2),
        }
    )
    table = pd.concat([headings, *children, coarse, renamed], ignore_index=True)
    table = table.drop_duplicates(KEYS).sample(frac=1.0, random_state=3)
    table["quantity"] = rng.uniform(0, 100, len(table)).round(1)
    table["currency"] = "EUR"
    return table.astype({"period": str}).reset_index(drop=True)


def write_files(table: pd.DataFrame, folder: Path, layout: str, n_files: int = 3) -> Path:
    """``table`` in ``n_files`` Parquet files of small row groups, key columns
    dictionary-encoded or plain strings."""
    folder.mkdir(parents=True, exist_ok=True)
    text = ["period", "reporter", "partner", "flow", "hs", "currency"]
    for number, part in enumerate(np.array_split(np.arange(len(table)), n_files)):
        rows = table.iloc[part]
        if layout == "dictionary":
            rows = rows.astype({column: "category" for column in text})
        arrow = pa.Table.from_pandas(rows, preserve_index=False)
        assert pa.types.is_dictionary(arrow.schema.field("hs").type) == (layout == "dictionary")
        pq.write_table(arrow, folder / f"flows-{number}.parquet", row_group_size=1_500)
    return folder


@pytest.fixture(autouse=True)
def small_units(monkeypatch):
    """Scan units of a few row groups, so that a file is read in several units."""
    monkeypatch.setattr(sources, "ROWS_PER_UNIT", 4_000)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("hs_level", [6, 4])
def test_the_panel_of_read_flows_and_build_panel(flows, tmp_path, caplog, layout, hs_level):
    folder = write_files(flows, tmp_path / "flows", layout)
    with caplog.at_level(logging.WARNING, logger="anomaly.panel.build"):
        expected = build_panel(read_flows(folder), hs_level=hs_level)
        warned = [record.getMessage() for record in caplog.records]
        caplog.clear()
        source = native_inputs(folder, "auto")
        assert source is not None and len(source.units) > len(source.files)
        panel = read_panel(source, hs_level=hs_level, partitions=4)
    # The HS4 rows left out are counted once, over all partitions.
    assert [record.getMessage() for record in caplog.records] == warned
    assert len(warned) == (1 if hs_level == 6 else 0)

    pd.testing.assert_frame_equal(panel.keys, expected.keys)
    assert panel.periods.equals(expected.periods)
    assert panel.values.dtype == expected.values.dtype
    np.testing.assert_array_equal(panel.values, expected.values)  # NaN where NaN
    assert panel.currency == expected.currency == "EUR"
    # What the fit never reads is left out.
    assert list(expected.extra) == ["quantity"] and not panel.extra


def test_files_given_one_by_one_and_one_partition(flows, tmp_path):
    folder = write_files(flows, tmp_path / "flows", "plain")
    files = sorted(folder.iterdir())
    expected = build_panel(read_flows(files))
    panel = read_panel(native_inputs(files, "auto"), partitions=1)
    pd.testing.assert_frame_equal(panel.keys, expected.keys)
    np.testing.assert_array_equal(panel.values, expected.values)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_duplicates_across_files_are_refused_naming_both(flows, tmp_path, layout):
    folder = write_files(flows, tmp_path / "flows", layout, n_files=2)
    again = pd.read_parquet(folder / "flows-0.parquet").iloc[[7]].astype(str)
    again["value"] = 1.0
    pq.write_table(pa.Table.from_pandas(again, preserve_index=False), folder / "late.parquet")
    with pytest.raises(DuplicateKeyError) as caught:
        read_panel(native_inputs(folder, "auto"), partitions=3)
    message = str(caught.value)
    assert "flows-0.parquet" in message and "late.parquet" in message
    assert "line 9" in message  # the row's line in flows-0, as read_flows numbers it


def test_rows_of_aggregate_partners_are_left_out_as_read_flows_leaves_them(flows, tmp_path):
    world = flows.iloc[:40].assign(partner="WLD")
    folder = write_files(pd.concat([world, flows], ignore_index=True), tmp_path / "f", "plain", 2)
    expected = build_panel(read_flows(folder))
    panel = read_panel(native_inputs(folder, "auto"), partitions=3)
    pd.testing.assert_frame_equal(panel.keys, expected.keys)
    np.testing.assert_array_equal(panel.values, expected.values)
    # The kept rows keep their lines: a duplicate after the left-out rows is named.
    again = pd.read_parquet(folder / "flows-0.parquet").iloc[[45]].astype(str)
    again["value"] = 1.0
    pq.write_table(pa.Table.from_pandas(again, preserve_index=False), folder / "late.parquet")
    named = r"flows-0.parquet line 47 and \S*late.parquet line 2"
    with pytest.raises(DuplicateKeyError, match=named):
        read_panel(native_inputs(folder, "auto"), partitions=3)


def test_an_input_of_aggregate_partners_only_is_refused_naming_what_was_left_out(flows, tmp_path):
    world = flows.iloc[:60].copy()
    world.loc[world.index[:45], "partner"] = "WLD"
    world.loc[world.index[45:], "reporter"] = "WLD"
    folder = write_files(world, tmp_path / "f", "plain", 2)
    # read_flows names the rows left out, file by file; the partitioned read sums them
    # over the files, per reason.
    with pytest.raises(EmptyDataError, match="no trade rows are left after leaving out"):
        read_flows(folder)
    with pytest.raises(EmptyDataError, match="no trade rows are left after leaving out") as found:
        read_panel(native_inputs(folder, "auto"), partitions=3)
    assert "45 rows: partner is not a country ('WLD')" in str(found.value)
    assert "15 rows: reporter is not a country ('WLD')" in str(found.value)


def test_temporary_files_are_removed_after_success_and_failure(flows, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    folder = write_files(flows, tmp_path / "flows", "plain")
    read_panel(native_inputs(folder, "auto"), partitions=2)
    assert not list(scratch.iterdir())
    pq.write_table(
        pa.Table.from_pandas(pd.read_parquet(folder / "flows-1.parquet").iloc[:5]),
        folder / "copy.parquet",
    )
    with pytest.raises(DuplicateKeyError):
        read_panel(native_inputs(folder, "auto"), partitions=2)
    assert not list(scratch.iterdir())


def test_codes_all_coarser_than_the_level_fail_as_build_panel_does(flows, tmp_path):
    coarse = flows.assign(hs=flows["hs"].str[:4]).drop_duplicates(KEYS)
    folder = write_files(coarse, tmp_path / "flows", "plain")
    with pytest.raises(DataError) as expected:
        build_panel(read_flows(folder))
    with pytest.raises(DataError) as caught:
        read_panel(native_inputs(folder, "auto"), partitions=2)
    assert str(caught.value) == str(expected.value)
    assert "every HS code in the data is coarser than the 6 digits" in str(caught.value)


def test_only_what_read_flows_reads_as_canonical_parquet_is_native(flows, tmp_path):
    folder = write_files(flows, tmp_path / "flows", "plain", n_files=1)
    # A folder inside is not read by read_flows (a simulated world's labels/, csv/).
    (folder / "csv").mkdir()
    flows.to_csv(folder / "csv" / "flows.csv", index=False)
    source = native_inputs(folder, "auto")
    assert source is not None and [Path(f).name for f in source.files] == ["flows-0.parquet"]
    assert native_inputs(folder / "csv" / "flows.csv", "auto") is None
    flows.head(3).to_csv(folder / "more.csv", index=False)
    assert native_inputs(folder, "auto") is None  # CSV beside Parquet: read whole


def same_panel(panel, expected) -> None:
    pd.testing.assert_frame_equal(panel.keys, expected.keys)
    assert panel.periods.equals(expected.periods)
    np.testing.assert_array_equal(panel.values, expected.values)
    assert panel.currency == expected.currency


def test_worker_processes_give_the_same_panel(flows, tmp_path):
    folder = write_files(flows, tmp_path / "flows", "dictionary")
    expected = build_panel(read_flows(folder))
    panel = read_panel(native_inputs(folder, "auto"), partitions=4, jobs=2)
    same_panel(panel, expected)


def test_a_worker_of_the_read_does_not_load_the_model_code():
    # Worker processes import what the tasks they run need: scoring's scikit-learn
    # would cost each worker seconds of imports before it reads a row.
    loaded = "import sys, anomaly.batch.panel_reader; print('sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", loaded], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_a_work_directory_resumes_a_read_and_serves_no_other(flows, tmp_path, monkeypatch):
    import anomaly.batch.panel_reader as panel_reader
    import anomaly.batch.scan as scan

    folder = write_files(flows, tmp_path / "flows", "plain")
    work = tmp_path / "work"
    expected = read_panel(native_inputs(folder, "auto"), partitions=4, work_dir=work)
    same_panel(expected, build_panel(read_flows(folder)))
    # A read killed after the scan and two of the partitions: the rest is done again.
    for done in (work / "panels").iterdir():
        if done.name != "part-00001" and done.name != "part-00002":
            shutil.rmtree(done)
    pivoted = []
    pivot = panel_reader._pivot
    monkeypatch.setattr(
        panel_reader, "_pivot", lambda plan, *a: pivoted.append(a[2]) or pivot(plan, *a)
    )
    monkeypatch.setattr(scan, "read_unit", _never)  # the scan is kept: not read again
    same_panel(read_panel(native_inputs(folder, "auto"), partitions=4, work_dir=work), expected)
    assert sorted(pivoted) == [0, 3]
    with pytest.raises(BatchError, match=r"holds another job's work .*hs_level"):
        read_panel(native_inputs(folder, "auto"), hs_level=4, partitions=4, work_dir=work)


def _never(*args):
    raise AssertionError("a scan unit was read again")


def test_a_dask_cluster_gives_the_same_panel(flows, tmp_path):
    pytest.importorskip("distributed")
    folder = write_files(flows, tmp_path / "flows", "plain")
    panel = read_panel(native_inputs(folder, "auto"), partitions=3, engine="dask", jobs=2)
    same_panel(panel, build_panel(read_flows(folder)))


def test_a_file_without_a_currency_column_takes_the_declared_one(flows, tmp_path):
    # read_flows's rule: a declared currency covers files without a currency column;
    # without one, a file that says its currency beside one that does not is refused.
    folder = write_files(flows, tmp_path / "flows", "plain", n_files=2)
    last = folder / "flows-1.parquet"
    pq.write_table(pq.read_table(last).drop(["currency"]), last)
    files = sorted(str(path) for path in folder.iterdir())
    same_panel(
        read_panel(native_inputs(files, "auto"), currency="EUR", partitions=2),
        build_panel(read_flows(files, currency="EUR")),
    )
    with pytest.raises(CurrencyError) as expected:
        read_flows(files)
    with pytest.raises(CurrencyError) as caught:
        read_panel(native_inputs(files, "auto"), partitions=2)
    assert str(caught.value) == str(expected.value)
    assert "the currency of this file is unknown (no currency column)" in str(caught.value)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_window_reads_the_row_groups_of_its_months_only(flows, tmp_path, layout):
    # Rows in month order: most row groups hold months before or after the window.
    in_order = flows.sort_values("period", kind="stable").reset_index(drop=True)
    folder = write_files(in_order, tmp_path / "flows", layout, n_files=2)
    window = pd.period_range("2018-03", "2020-10", freq="M")
    source = native_inputs(folder, "auto", (str(window[0]), str(window[-1])))
    everything = native_inputs(folder, "auto")
    assert source.months == (window[0].ordinal, window[-1].ordinal)
    assert 0 < source.n_rows < everything.n_rows / 2
    read = read_flows(folder)
    expected = build_panel(read.loc[read["period"].isin(window)].reset_index(drop=True))
    same_panel(read_panel(source, partitions=3), expected)
    # Open ends, and a window outside the data: every month is read.
    assert native_inputs(folder, "auto", (None, "2020-10")).n_rows < everything.n_rows
    assert native_inputs(folder, "auto", ("2030-01", None)) == everything


def test_a_window_names_the_lines_of_a_duplicate_after_skipped_row_groups(flows, tmp_path):
    in_order = flows.sort_values("period", kind="stable").reset_index(drop=True)
    row = int(np.flatnonzero(in_order["period"] == "2020-06")[0])
    table = pd.concat([in_order, in_order.iloc[[row]]], ignore_index=True)
    folder = write_files(table, tmp_path / "flows", "plain", n_files=1)
    source = native_inputs(folder, "auto", ("2020-01", "2020-12"))
    assert source.units[0].first_line > 2  # the first row groups are skipped
    with pytest.raises(DuplicateKeyError) as caught:
        read_panel(source, partitions=2)
    assert f"lines {row + 2} and {len(table) + 1}" in str(caught.value)


@pytest.mark.parametrize(
    ("statistic", "month"),
    [
        ("2021-12", "2021-12"),
        (b"2022-01", "2022-01"),
        (pd.Timestamp("2021-12-31 23:00"), "2021-12"),
        (pd.Timestamp("2021-12-01").date(), "2021-12"),
        # Months of other spellings, or of a time zone (stored in UTC): not trusted.
        ("2021M12", None),
        ("12/2021", None),
        (pd.Timestamp("2022-01-01 02:00", tz="America/New_York"), None),
        (623, None),
    ],
)
def test_only_statistics_that_sort_as_months_skip_row_groups(statistic, month):
    expected = None if month is None else pd.Period(month, freq="M").ordinal
    assert sources._month_ordinal(statistic) == expected


def test_small_batches_are_joined_with_one_dictionary_per_column():
    # Plain text read as dictionaries gives each row group a dictionary of its own.
    groups = [
        pa.record_batch({"hs": pa.array(codes).dictionary_encode(), "value": [1.0] * len(codes)})
        for codes in (["854231", "848220"], ["848220"], ["901310", "854231", "854231"], ["x"])
    ]
    tables = list(sources._joined(iter(groups), 3))
    assert [table.num_rows for table in tables] == [3, 3, 1]
    for table in tables:
        assert all(column.num_chunks == 1 for column in table.columns)
    joined = pa.concat_tables(tables).to_pandas()
    assert joined["hs"].astype(str).tolist() == [
        "854231", "848220", "848220", "901310", "854231", "854231", "x"
    ]  # fmt: skip
