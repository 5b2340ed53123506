"""arrays.npz: byte-reproducible writing, a layout numpy reads, refusal of pickles."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from anomaly.artifacts.npz import describe_array, normalise_array, read_arrays, write_arrays
from anomaly.errors import ArtifactIntegrityError

ARRAYS = {
    "b": np.arange(5, dtype=np.int16),
    "a": np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3),
    "flag": np.array([True, False]),
}


def test_same_arrays_give_same_bytes_whatever_their_order(tmp_path):
    reordered = dict(reversed(list(ARRAYS.items())))
    write_arrays(tmp_path / "one.npz", ARRAYS)
    write_arrays(tmp_path / "two.npz", reordered)

    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()
    # np.savez follows argument order, so equal arrays can give different files.
    np.savez(tmp_path / "numpy_one.npz", **ARRAYS)
    np.savez(tmp_path / "numpy_two.npz", **reordered)
    assert (tmp_path / "numpy_one.npz").read_bytes() != (tmp_path / "numpy_two.npz").read_bytes()


def test_entries_carry_fixed_metadata(tmp_path):
    write_arrays(tmp_path / "arrays.npz", ARRAYS)

    with zipfile.ZipFile(tmp_path / "arrays.npz") as archive:
        infos = archive.infolist()
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {(info.create_system, info.external_attr >> 16) for info in infos} == {(3, 0o100644)}


def test_layout_is_a_plain_npz(tmp_path):
    path = tmp_path / "arrays.npz"
    write_arrays(path, ARRAYS)

    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["a.npy", "b.npy", "flag.npy"]
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
    with np.load(path, allow_pickle=False) as loaded:
        for name, array in ARRAYS.items():
            np.testing.assert_array_equal(loaded[name], array)


def test_read_checks_names_dtypes_and_shapes(tmp_path):
    path = tmp_path / "arrays.npz"
    write_arrays(path, ARRAYS)
    expected = {name: describe_array(array) for name, array in ARRAYS.items()}

    assert set(read_arrays(path, expected, "m")) == set(ARRAYS)
    with pytest.raises(ArtifactIntegrityError, match="listed in the manifest: extra"):
        read_arrays(path, {**expected, "extra": {"dtype": "<f8", "shape": [1]}}, "m")
    with pytest.raises(ArtifactIntegrityError, match="array 'b' is"):
        read_arrays(path, {**expected, "b": {"dtype": "<i8", "shape": [5]}}, "m")


def test_refuses_object_arrays_on_write():
    with pytest.raises(ValueError, match="only bool, integer and float"):
        normalise_array("x", np.array([{"a": 1}], dtype=object))


def test_refuses_object_arrays_on_read(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, x=np.array([1, "two"], dtype=object))

    with pytest.raises(ArtifactIntegrityError, match=r"non-numeric dtype \|O.*before its data"):
        read_arrays(path, {"x": {"dtype": "|O", "shape": [2]}}, "m")


def test_refuses_a_single_npy(tmp_path):
    path = tmp_path / "arrays.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.arange(3))

    with pytest.raises(ArtifactIntegrityError, match=r"is corrupt: File is not a zip file"):
        read_arrays(path, {}, "m")


def _npz_with_header(path: Path, header: bytes, data: bytes = b"") -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(
            "x.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + data
        )


def _header(descr: str, shape: tuple) -> bytes:
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}"
    return (text + " " * (63 - len(text) % 64) + "\n").encode()


def test_a_header_claiming_a_huge_shape_is_refused_before_allocation(tmp_path):
    path = tmp_path / "arrays.npz"
    _npz_with_header(path, _header("<f8", (10**11,)), b"\0" * 64)
    manifest_entry = {"x": {"dtype": "<f8", "shape": [10**11]}}

    with pytest.raises(ArtifactIntegrityError, match=r"should hold 800000000000 bytes"):
        read_arrays(path, manifest_entry, "m")


def test_a_header_disagreeing_with_the_manifest_is_refused(tmp_path):
    path = tmp_path / "arrays.npz"
    _npz_with_header(path, _header("<f8", (3,)), b"\0" * 24)

    with pytest.raises(ArtifactIntegrityError, match=r"array 'x' is .*the manifest says"):
        read_arrays(path, {"x": {"dtype": "<f8", "shape": [4]}}, "m")


def test_a_compressed_member_is_refused(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez_compressed(path, x=np.arange(3))

    with pytest.raises(ArtifactIntegrityError, match="compressed or encrypted"):
        read_arrays(path, {"x": {"dtype": "<i8", "shape": [3]}}, "m")
