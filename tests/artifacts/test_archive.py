"""pack_artifact and reading zips: determinism, and refusal of hostile archives."""

from __future__ import annotations

import stat
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anomaly.artifacts import pack_artifact, read_artifact, verify_artifact, write_artifact
from anomaly.errors import ArtifactError, ArtifactIntegrityError

from .support import CREATED


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """The system temp directory, redirected so a test can see what extraction leaves."""
    directory = tmp_path / "scratch"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


@pytest.fixture
def packed(artifact, tmp_path) -> Path:
    return pack_artifact(artifact, tmp_path / "model.zip")


def _files(directory: Path) -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in sorted(directory.iterdir())]


def _zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicates we plant
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in entries:
                archive.writestr(name, data)
    return path


def _special(name: str, kind: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (kind | 0o777) << 16
    return info


def test_archive_round_trip_equals_directory(artifact, packed):
    from_dir, from_zip = read_artifact(artifact), read_artifact(packed)

    assert from_zip.manifest == from_dir.manifest
    for name, array in from_dir.arrays.items():
        np.testing.assert_array_equal(from_zip.arrays[name], array)
        assert from_zip.arrays[name].dtype == array.dtype
    pd.testing.assert_frame_equal(from_zip.tables["series"], from_dir.tables["series"])
    assert verify_artifact(packed)["metadata"]["n_series"] == 4


def test_packing_is_byte_reproducible(tmp_path, state):
    first = pack_artifact(
        write_artifact(tmp_path / "a", **state, created=CREATED), tmp_path / "a.zip"
    )
    second = pack_artifact(
        write_artifact(tmp_path / "b", **state, created=CREATED), tmp_path / "b.zip"
    )

    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == ["manifest.json", "arrays.npz", "series.parquet"]
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_pack_replaces_an_earlier_archive(artifact, packed):
    assert pack_artifact(artifact, packed) == packed
    assert read_artifact(packed).metadata["n_series"] == 4


def test_pack_refuses_to_overwrite_a_file_that_is_not_an_archive(artifact, tmp_path):
    notes = tmp_path / "notes.zip"
    notes.write_text("my notes")

    with pytest.raises(ArtifactError, match="not an artifact archive"):
        pack_artifact(artifact, notes)
    assert notes.read_text() == "my notes"


def test_pack_refuses_a_tampered_directory(artifact, tmp_path):
    (artifact / "series.parquet").write_bytes(b"PAR1")

    with pytest.raises(ArtifactIntegrityError, match=r"series\.parquet"):
        pack_artifact(artifact, tmp_path / "model.zip")
    assert not (tmp_path / "model.zip").exists()


@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_refuses_a_truncated_archive(packed, scratch, keep):
    data = packed.read_bytes()
    packed.write_bytes(data[: int(len(data) * keep)])

    with pytest.raises(ArtifactIntegrityError, match="truncated or corrupt"):
        read_artifact(packed)
    assert not list(scratch.iterdir())


def test_refuses_an_archive_cut_right_after_the_embedded_npz(tmp_path, state, scratch):
    # Cut there, the file ends with arrays.npz's own end record: a naive reader would
    # take the npz's members for the archive's.
    state["tables"] = {}
    directory = write_artifact(tmp_path / "m", **state)
    packed = pack_artifact(directory, tmp_path / "m.zip")
    with zipfile.ZipFile(packed) as archive:
        info = archive.getinfo("arrays.npz")
    end = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size
    packed.write_bytes(packed.read_bytes()[:end])
    assert zipfile.is_zipfile(packed)

    with pytest.raises(ArtifactIntegrityError, match="truncated or corrupt"):
        read_artifact(packed)
    assert not list(scratch.iterdir())


def test_refuses_an_archive_with_a_changed_byte(packed):
    data = bytearray(packed.read_bytes())
    with zipfile.ZipFile(packed) as archive:
        info = archive.getinfo("arrays.npz")
    data[info.header_offset + 200] ^= 0x01  # inside the stored arrays.npz data
    packed.write_bytes(bytes(data))

    with pytest.raises(ArtifactIntegrityError, match=r"arrays\.npz"):
        read_artifact(packed)


def test_refuses_an_archive_with_an_extra_entry(artifact, tmp_path):
    archive = _zip(tmp_path / "m.zip", [*_files(artifact), ("run_me.sh", b"rm -rf ~")])

    with pytest.raises(ArtifactIntegrityError, match=r"not listed in the manifest: run_me\.sh"):
        read_artifact(archive)


def test_refuses_a_file_that_is_not_a_zip(tmp_path):
    (tmp_path / "model.zip").write_text("reporter,partner\n")

    with pytest.raises(ArtifactIntegrityError, match="not a readable zip archive"):
        read_artifact(tmp_path / "model.zip")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("../evil", r"'\.\.' component"),
        ("sub/../../evil", r"'\.\.' component"),
        ("..\\evil", r"'\.\.' component"),
        ("C:/evil", "absolute path"),
        ("sub/evil", "not a plain file name at the archive root"),
        ("sub/", "is a directory"),
        (_special("arrays.npz", stat.S_IFLNK), "symbolic link"),
        (_special("tty", stat.S_IFCHR), "character device"),
        (_special("disk", stat.S_IFBLK), "block device"),
        (_special("pipe", stat.S_IFIFO), "named pipe"),
        ("manifest.json", "duplicate name"),
        ("MANIFEST.json", "duplicate name"),
    ],
)
def test_refuses_hostile_entries_before_extracting_anything(
    artifact, tmp_path, scratch, entry, message
):
    archive = _zip(tmp_path / "hostile.zip", [*_files(artifact), (entry, b"/etc/passwd")])

    with pytest.raises(ArtifactIntegrityError, match=message):
        read_artifact(archive)
    assert not list(scratch.iterdir())
    assert not (tmp_path / "evil").exists()


def test_refuses_an_absolute_path_entry_and_writes_nothing_there(artifact, tmp_path, scratch):
    target = tmp_path / "outside" / "evil"
    archive = _zip(tmp_path / "hostile.zip", [*_files(artifact), (str(target), b"owned")])
    with zipfile.ZipFile(archive) as check:
        assert check.namelist()[-1].startswith("/")

    with pytest.raises(ArtifactIntegrityError, match="absolute path"):
        read_artifact(archive)
    assert not target.exists()
    assert not list(scratch.iterdir())


def test_refuses_a_compressed_entry(artifact, tmp_path, scratch):
    bomb = zipfile.ZipInfo("arrays.npz")
    bomb.compress_type = zipfile.ZIP_DEFLATED
    entries = [(name, data) for name, data in _files(artifact) if name != "arrays.npz"]
    archive = _zip(tmp_path / "bomb.zip", [*entries, (bomb, bytes(10_000_000))])

    with pytest.raises(ArtifactIntegrityError, match="store entries uncompressed"):
        read_artifact(archive)
    assert not list(scratch.iterdir())


def test_refuses_an_encrypted_entry(artifact, tmp_path):
    archive = _zip(tmp_path / "locked.zip", _files(artifact))
    # zipfile cannot write encrypted entries: set the flag in both headers by hand.
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as check:
        info = check.getinfo("series.parquet")
    local = info.header_offset
    # The name's last occurrence is in the central directory, just after its header.
    central = data.rindex(b"PK\x01\x02", 0, data.rindex(b"series.parquet"))
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    archive.write_bytes(bytes(data))

    with pytest.raises(ArtifactIntegrityError, match=r"'series\.parquet' is encrypted"):
        read_artifact(archive)
