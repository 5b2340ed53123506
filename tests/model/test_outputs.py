"""A run's outputs are written atomically, with the umask's permissions, replacing the
previous run's report; leads.csv reads back to its values."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from anomaly.errors import InputOutputError
from anomaly.model.outputs import (
    DERIVED_FILES,
    OUTPUT_FILES,
    RunOutputs,
    write_leads_csv,
    write_outputs,
)
from anomaly.report.render import REPORT_FILE


def scores(n: int) -> list[pa.Table]:
    return [pa.table({"period": ["2022-01"] * n, "actual": np.arange(n, dtype=float)})]


def leads(label: str) -> pd.DataFrame:
    return pd.DataFrame({"rank": [1, 2], "reporter": [label, "DEU"], "score": [2.5, np.nan]})


def snapshot(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.fixture
def previous(tmp_path):
    out = tmp_path / "out"
    write_outputs(out, leads("KAZ"), scores(3), {"n_series": 2})
    return out


def test_an_error_while_ranking_leaves_the_previous_outputs(previous):
    before = snapshot(previous)
    with pytest.raises(RuntimeError, match="ranking failed"), RunOutputs(previous) as outputs:
        outputs.add_scores(scores(1000))
        raise RuntimeError("ranking failed")
    assert snapshot(previous) == before  # no temporaries left either


def test_a_failing_scores_writer_fails_the_run_and_leaves_the_previous_outputs(previous):
    before = snapshot(previous)

    def broken():
        yield scores(5)[0]
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"), RunOutputs(previous) as outputs:
        outputs.add_scores(broken())
        outputs.write_leads(leads("ARM"))
        outputs.write_run({})
        outputs.finish()
    assert snapshot(previous) == before


def test_scores_added_in_several_parts_are_written_in_order(tmp_path):
    with RunOutputs(tmp_path) as outputs:
        outputs.add_scores(scores(2))
        outputs.write_leads(leads("KAZ"))
        outputs.add_scores(scores(3))
        outputs.write_run({})
    actual = pd.read_parquet(tmp_path / "scores.parquet")["actual"].tolist()
    assert actual == [0.0, 1.0, 0.0, 1.0, 2.0]


def test_leads_csv_reads_back_to_its_values(tmp_path):
    table = pd.DataFrame(
        {
            "reporter": ["DEU", 'say "x", y', None],
            "score": [0.1, 1 / 3, np.nan],
            "alert": [True, False, True],
            "rank": [1, 2, 3],
            "actual": [2.0, 1e20, 1e-7],
        }
    )
    write_leads_csv(table, tmp_path / "leads.csv")
    back = pd.read_csv(tmp_path / "leads.csv")
    pd.testing.assert_frame_equal(back.drop(columns="reporter"), table.drop(columns="reporter"))
    assert back["reporter"].tolist()[:2] == table["reporter"].tolist()[:2]
    assert back["reporter"].isna().tolist() == [False, False, True]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_outputs_get_the_umask_permissions(tmp_path, umask):
    previous = os.umask(umask)
    try:
        out = write_outputs(tmp_path / "out", leads("KAZ"), scores(3), {})
    finally:
        os.umask(previous)
    assert {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()} == {
        name: 0o666 & ~umask for name in OUTPUT_FILES
    }


def test_a_new_run_removes_the_report_of_the_previous_one(previous):
    (previous / "report.html").write_text("<title>Trade anomaly leads, 2021</title>")
    write_outputs(previous, leads("ARM"), scores(2), {"n_series": 2})
    assert sorted(p.name for p in previous.iterdir()) == sorted(OUTPUT_FILES)


def test_a_failed_run_keeps_the_previous_report(previous):
    (previous / "report.html").write_text("<title>Trade anomaly leads, 2021</title>")
    before = snapshot(previous)
    with pytest.raises(RuntimeError, match="ranking failed"), RunOutputs(previous) as outputs:
        outputs.add_scores(scores(4))
        raise RuntimeError("ranking failed")
    assert snapshot(previous) == before


def test_a_run_replaces_a_previous_runs_outputs_but_no_one_elses(previous, tmp_path):
    write_outputs(previous, leads("KGZ"), scores(2), {"n_series": 2})  # a run's: replaced
    assert "KGZ" in (previous / "leads.csv").read_text()
    # A run from before run.json recorded the files wrote the scored window.
    (previous / "run.json").write_text('{"scored_window": ["2022-01", "2022-12"]}')
    write_outputs(previous, leads("UZB"), scores(2), {"n_series": 2})
    assert "UZB" in (previous / "leads.csv").read_text()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "report.html").write_text("my page")
    with pytest.raises(InputOutputError, match=r"holds report\.html that no anomaly run wrote"):
        write_outputs(mine, leads("KGZ"), scores(2), {"n_series": 2})
    assert snapshot(mine) == {"report.html": b"my page"}


def test_the_derived_files_are_what_the_report_writes():
    assert REPORT_FILE in DERIVED_FILES


def test_hidden_files_of_a_killed_run_are_swept_by_the_next(tmp_path):
    from anomaly.artifacts import temporary_sibling

    out = tmp_path / "out"
    out.mkdir()
    stale = temporary_sibling(out / "leads.csv")
    dead = stale.with_name(stale.name.replace(f"-{os.getpid()}-", "-999999999-"))
    dead.write_text("half a file")
    mine = temporary_sibling(out / "leads.csv")  # this live process's: kept
    mine.write_text("being written")
    write_outputs(out, leads("KAZ"), scores(3), {"n_series": 2})
    assert not dead.exists()
    assert mine.exists()
