"""A killed run resumes from its work directory without redoing finished work."""

from __future__ import annotations

import pytest

from anomaly.batch import BatchError, scan, score_batch, tasks

from .conftest import SCORE, same_outputs

PARTITIONS = 6


def run(model, world_dir, out, work, partitions=PARTITIONS):
    return score_batch(
        model,
        world_dir / "flows.parquet",
        start=SCORE[0],
        end=SCORE[1],
        out_dir=out,
        partitions=partitions,
        work_dir=work,
    )


def counting(monkeypatch, module, name, fail_at=None):
    """Replace ``module.name`` by a wrapper that counts calls (and fails at one)."""
    calls = []
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append(args)
        if len(calls) == fail_at:
            raise RuntimeError("simulated crash")
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def test_crash_in_pass_two_then_resume(model, world_dir, reference, tmp_path, monkeypatch):
    out, work = tmp_path / "out", tmp_path / "work"
    out.mkdir()
    (out / "leads.csv").write_text("previous leads\n")
    with monkeypatch.context() as patch:
        counting(patch, tasks, "save_evidence", fail_at=3)
        with pytest.raises(RuntimeError, match="simulated crash"):
            run(model, world_dir, out, work)
    # The previous outputs are intact, and nothing half-written is left beside them.
    assert (out / "leads.csv").read_text() == "previous leads\n"
    assert sorted(p.name for p in out.iterdir()) == ["leads.csv"]
    finished = sorted(p.name for p in (work / "evidence").iterdir() if not p.name.startswith("."))
    assert len(finished) == 2

    scanned = counting(monkeypatch, scan, "read_unit")
    built = counting(monkeypatch, tasks, "build_panel")
    scored = counting(monkeypatch, tasks, "save_evidence")
    run(model, world_dir, out, work)
    assert scanned == [] and built == []
    assert len(scored) == PARTITIONS - 2
    same_outputs(reference, out)


def test_crash_in_pass_one_then_resume(model, world_dir, reference, tmp_path, monkeypatch):
    out, work = tmp_path / "out", tmp_path / "work"
    with monkeypatch.context() as patch:
        counting(patch, tasks, "build_panel", fail_at=4)
        with pytest.raises(RuntimeError, match="simulated crash"):
            run(model, world_dir, out, work)
    assert not out.exists()
    built = counting(monkeypatch, tasks, "build_panel")
    run(model, world_dir, out, work)
    assert len(built) == PARTITIONS - 3
    same_outputs(reference, out)


def test_a_finished_run_reruns_from_its_results(model, world_dir, reference, tmp_path, monkeypatch):
    work = tmp_path / "work"
    run(model, world_dir, tmp_path / "first", work)
    scored = counting(monkeypatch, tasks, "save_evidence")
    # Without a partition count, the work directory's own is used.
    result = run(model, world_dir, tmp_path / "second", work, partitions=None)
    assert scored == []
    assert result.run["batch"]["partitions"] == PARTITIONS
    same_outputs(reference, tmp_path / "second")


def test_another_jobs_work_directory_is_refused(model, world_dir, tmp_path):
    work = tmp_path / "work"
    run(model, world_dir, tmp_path / "out", work)
    with pytest.raises(BatchError, match=r"another job's work.*window"):
        score_batch(
            model,
            world_dir / "flows.parquet",
            start=SCORE[0],
            end="2022-12",
            out_dir=tmp_path / "other",
            work_dir=work,
        )


def test_a_directory_of_other_files_is_refused(model, world_dir, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    with pytest.raises(BatchError, match="not empty"):
        run(model, world_dir, tmp_path / "out", work)
