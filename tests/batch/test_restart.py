"""A killed run resumes from its work directory without redoing finished work."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile

import pytest

from anomaly.artifacts.atomic import HOST
from anomaly.batch import BatchError, scan, score_batch, sources, tasks
from anomaly.batch.workdir import WorkDir, discarding, work_directory
from anomaly.errors import DataError, FormatError

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
    # A previous run's outputs: its run.json records the files it wrote.
    (out / "leads.csv").write_text("previous leads\n")
    (out / "run.json").write_text('{"files": {"leads.csv": "0"}}')
    with monkeypatch.context() as patch:
        counting(patch, tasks, "save_evidence", fail_at=3)
        with pytest.raises(RuntimeError, match="simulated crash"):
            run(model, world_dir, out, work)
    # The previous outputs are intact, and nothing half-written is left beside them.
    assert (out / "leads.csv").read_text() == "previous leads\n"
    assert sorted(p.name for p in out.iterdir()) == ["leads.csv", "run.json"]
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
    # A named work directory keeps every step's results (a temporary one drops them as
    # soon as the run has read them: see test_discarding_...).
    assert all(any((work / step).iterdir()) for step in ("scan", "panels", "evidence"))
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


def sha256_of(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _csv_copy(world_dir, tmp_path):
    path = tmp_path / "flows.csv"
    path.write_bytes((world_dir / "csv" / "flows.csv").read_bytes())
    return path


def _change_in_place(path) -> None:
    """Change one value's digits (same length) in a data row of the window, and put the
    modification time back: size and mtime say nothing changed."""
    info = path.stat()
    lines = path.read_bytes().split(b"\n")
    row = next(i for i, line in enumerate(lines) if line.startswith(b"2022-06,"))
    head, value = lines[row].rsplit(b",", 1)
    digit = b"1" if value[:1] != b"1" else b"2"
    lines[row] = head + b"," + digit + value[1:]
    path.write_bytes(b"\n".join(lines))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (info.st_size, info.st_mtime_ns)


def test_an_input_changed_in_place_with_its_mtime_restored_is_not_resumed(
    model, world_dir, tmp_path, monkeypatch
):
    data, out, work = _csv_copy(world_dir, tmp_path), tmp_path / "out", tmp_path / "work"
    options = dict(start=SCORE[0], end=SCORE[1], out_dir=out, partitions=3, work_dir=work)
    with monkeypatch.context() as patch:
        counting(patch, tasks, "save_evidence", fail_at=2)
        with pytest.raises(RuntimeError, match="simulated crash"):
            score_batch(model, data, **options)
    recorded = json.loads((work / "job.json").read_text())["inputs"]
    assert recorded == [[str(data.resolve()), data.stat().st_size, sha256_of(data)]]

    _change_in_place(data)
    scored = counting(monkeypatch, tasks, "save_evidence")
    with pytest.raises(BatchError, match=r"content of .*flows\.csv changed.*cannot be reused"):
        score_batch(model, data, **options)
    assert scored == [] and not out.exists()


def test_a_touched_but_unchanged_input_resumes(model, world_dir, tmp_path, monkeypatch):
    data, work = _csv_copy(world_dir, tmp_path), tmp_path / "work"
    options = dict(start=SCORE[0], end=SCORE[1], partitions=3, work_dir=work)
    score_batch(model, data, out_dir=tmp_path / "first", **options)
    os.utime(data, ns=(0, 10**18))  # same bytes, another modification time
    scored = counting(monkeypatch, tasks, "save_evidence")
    score_batch(model, data, out_dir=tmp_path / "second", **options)
    assert scored == []
    assert (tmp_path / "first" / "leads.csv").read_bytes() == (
        tmp_path / "second" / "leads.csv"
    ).read_bytes()


def test_a_killed_runs_staging_folders_are_removed_on_resume(
    model, world_dir, reference, tmp_path, monkeypatch
):
    out, work = tmp_path / "out", tmp_path / "work"
    with monkeypatch.context() as patch:
        counting(patch, tasks, "save_evidence", fail_at=3)
        with pytest.raises(RuntimeError, match="simulated crash"):
            run(model, world_dir, out, work)
    # What a kill -9 in the middle of publish() leaves behind.
    leftovers = [
        work / "evidence" / ".part-00004.tmp-0123456789ab",
        work / "panels" / ".part-00005.tmp-ba9876543210",
        work / "scan" / ".unit-00000.tmp-aaaaaaaaaaaa",
    ]
    for folder in leftovers:
        folder.mkdir(parents=True)
        (folder / "evidence.arrows").write_bytes(b"half written")
    run(model, world_dir, out, work)
    assert not any(folder.exists() for folder in leftovers)
    assert not [p for p in work.rglob(".*") if ".tmp-" in p.name]
    same_outputs(reference, out)


def test_a_file_changing_while_hashed_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "flows.csv"
    path.write_text("period,reporter\n")
    real_fstat = os.fstat

    def later(descriptor):
        info = real_fstat(descriptor)
        return os.stat_result((*info[:8], info.st_mtime + 5, info[9]))

    monkeypatch.setattr(sources.os, "fstat", later)
    with pytest.raises(DataError, match="changed while it was read"):
        sources.content_identity(str(path))


def test_a_broken_link_among_the_inputs_is_reported(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "part-0.parquet").write_bytes(b"PAR1")
    (folder / "part-1.parquet").symlink_to(tmp_path / "gone.parquet")
    with pytest.raises(FormatError, match=r"gone\.parquet, which does not exist"):
        sources.resolve_inputs(folder, "auto")


@pytest.mark.parametrize("temporary", [True, False])
def test_discarding_removes_only_from_a_temporary_work_directory(tmp_path, temporary):
    work = WorkDir(str(tmp_path), temporary=temporary)
    (tmp_path / "panels" / "part-00000").mkdir(parents=True)
    (tmp_path / "panels" / "part-00000" / "values.npy").write_bytes(b"0" * 1000)
    with discarding(work) as discard:
        discard(tmp_path / "panels")
    assert (tmp_path / "panels").exists() is not temporary


def _dead_pid() -> int:
    """The id of a child process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_a_killed_runs_temporary_work_directory_is_removed_by_the_next_run(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    killed = tmp_path / f"anomaly-train-{HOST}-{_dead_pid()}-abc123"
    (killed / "scan" / "unit-00000").mkdir(parents=True)
    (killed / "scan" / "unit-00000" / "rows-00000.arrows").write_bytes(b"0" * 1000)
    kept = [
        tmp_path / f"anomaly-batch-{HOST}-{os.getpid()}-live01",  # a run still going
        tmp_path / f"anomaly-batch-otherhost-{_dead_pid()}-away01",  # another machine's
        tmp_path / f"notanomaly-{HOST}-{_dead_pid()}-other1",  # not ours
    ]
    for folder in kept:
        folder.mkdir()
    with work_directory(None, "anomaly-panel-") as work:
        assert work.temporary and work.path.parent == tmp_path
        assert work.path.name.startswith(f"anomaly-panel-{HOST}-{os.getpid()}-")
        assert not killed.exists() and all(folder.exists() for folder in kept)
    assert not work.path.exists()
    assert "left by a run that was killed" in caplog.text and killed.name in caplog.text
