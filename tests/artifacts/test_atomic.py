"""Atomic replacement: a failed build never damages what was there."""

from __future__ import annotations

import contextlib
import errno
import io
import os
from pathlib import Path

import pytest

from anomaly.artifacts import atomic
from anomaly.artifacts.atomic import replace_directory, replace_file
from anomaly.cli.main import main
from anomaly.errors import InputOutputError


def _fail(path):
    (path / "half.bin").write_bytes(b"x") if path.is_dir() else path.write_bytes(b"x")
    raise RuntimeError("interrupted")


def test_failed_directory_build_keeps_the_old_directory(tmp_path):
    target = tmp_path / "model"
    replace_directory(target, lambda d: (d / "v1.txt").write_text("v1"))

    with pytest.raises(RuntimeError, match="interrupted"):
        replace_directory(target, _fail)

    assert [p.name for p in target.iterdir()] == ["v1.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_directory_is_replaced_as_a_whole(tmp_path):
    target = tmp_path / "nested" / "model"
    replace_directory(target, lambda d: (d / "v1.txt").write_text("v1"))
    replace_directory(target, lambda d: (d / "v2.txt").write_text("v2"))

    assert [p.name for p in target.iterdir()] == ["v2.txt"]
    assert [p.name for p in target.parent.iterdir()] == ["model"]


def test_failed_file_build_keeps_the_old_file(tmp_path):
    target = tmp_path / "model.zip"
    replace_file(target, lambda p: p.write_bytes(b"v1"))

    with pytest.raises(RuntimeError, match="interrupted"):
        replace_file(target, _fail)

    assert target.read_bytes() == b"v1"
    assert [p.name for p in tmp_path.iterdir()] == ["model.zip"]


# -- leftovers and I/O failures (issue 14) ----------------------------------------------


def _dead_pid() -> int:
    """A process id that no running process has."""
    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except OSError:
            pass
        pid += 1


def test_siblings_a_dead_process_left_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "model"
    dead = tmp_path / f".model.tmp-{atomic.HOST}-{_dead_pid()}-0123456789ab"
    retired = tmp_path / f".model.old-{atomic.HOST}-{_dead_pid()}-ba9876543210"
    live = tmp_path / f".model.tmp-{atomic.HOST}-{os.getpid()}-aaaaaaaaaaaa"
    elsewhere = tmp_path / f".model.tmp-otherhost-{_dead_pid()}-bbbbbbbbbbbb"
    other_name = tmp_path / f".notes.tmp-{atomic.HOST}-{_dead_pid()}-cccccccccccc"
    for folder in (dead, retired, live, elsewhere, other_name):
        folder.mkdir()
        (folder / "half.npz").write_bytes(b"PK")
    replace_directory(target, lambda d: (d / "a.txt").write_text("1"))
    assert not dead.exists() and not retired.exists()
    assert live.exists() and elsewhere.exists() and other_name.exists()


def test_a_file_sibling_left_by_a_dead_process_is_removed(tmp_path):
    stale = tmp_path / f".job.json.tmp-{atomic.HOST}-{_dead_pid()}-0123456789ab"
    stale.write_text("{")
    replace_file(tmp_path / "job.json", lambda p: p.write_text("{}"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.json"]


def test_a_full_disk_is_an_input_output_error_naming_the_path(tmp_path):
    def full(directory):
        (directory / "a.txt").write_text("1")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(InputOutputError, match=r"model: No space left on device") as caught:
        replace_directory(tmp_path / "model", full)
    assert isinstance(caught.value, OSError)
    assert list(tmp_path.iterdir()) == []  # nothing half written is left


def test_a_permission_error_names_the_file(tmp_path):
    def denied(path):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    with pytest.raises(InputOutputError, match=r"\.out\.csv\.tmp-.*: Permission denied"):
        replace_file(tmp_path / "out.csv", denied)


@pytest.fixture(scope="module")
def world_csv(tmp_path_factory) -> Path:
    from anomaly.simulate import simulate_world, write_world

    folder = write_world(simulate_world(60, seed=2), tmp_path_factory.mktemp("world"))
    return folder / "csv" / "flows.csv"


def _train(world_csv: Path, out: Path) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(
            ["train", "--data", str(world_csv), "--train-end", "2021-12", "--out", str(out)]
        )
    return code, err.getvalue()


def test_a_full_disk_while_saving_a_model_exits_5_naming_the_path(world_csv, tmp_path, monkeypatch):
    def full(path, arrays):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("anomaly.artifacts.store.write_arrays", full)
    code, err = _train(world_csv, tmp_path / "model")
    assert code == 5, err
    assert err == f"anomaly: error: {tmp_path / 'model'}: No space left on device\n"
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_input_exits_5_and_a_missing_one_3(world_csv, tmp_path, monkeypatch):
    code, err = _train(tmp_path / "missing.csv", tmp_path / "model")
    assert code == 3 and "missing.csv" in err

    def denied(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr("anomaly.io.rawtable.open", denied, raising=False)
    code, err = _train(world_csv, tmp_path / "model")
    assert code == 5, err
    assert err == f"anomaly: error: {world_csv}: Permission denied\n"
