"""write_artifact / read_artifact: round trip, reproducibility, refusals, atomicity."""

from __future__ import annotations

import json
import os
import pickle
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import anomaly
from anomaly.artifacts import (
    FORMAT_VERSION,
    read_artifact,
    register_schema,
    verify_artifact,
    write_artifact,
)
from anomaly.artifacts import store as store_module
from anomaly.errors import (
    ArtifactError,
    ArtifactIntegrityError,
    ArtifactSchemaError,
    ArtifactVersionError,
)

from .support import CREATED, edit_manifest, model_state, relist


def test_round_trip_keeps_values_dtypes_shapes_and_tables(artifact, state):
    loaded = read_artifact(artifact)

    assert set(loaded.arrays) == set(state["arrays"])
    for name, original in state["arrays"].items():
        np.testing.assert_array_equal(loaded.arrays[name], original)
        assert loaded.arrays[name].dtype == original.dtype
        assert loaded.arrays[name].shape == original.shape
    pd.testing.assert_frame_equal(loaded.tables["series"], state["tables"]["series"])
    assert loaded.config == state["config"]
    assert loaded.metadata == state["metadata"]
    assert loaded.model_class == "StorageTest"


def test_manifest_records_versions_time_and_files(artifact):
    manifest = verify_artifact(artifact)

    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["package"] == {"name": "anomaly", "version": anomaly.__version__}
    assert manifest["created"] == "2024-05-01T12:00:00Z"
    assert {"python", "numpy", "pandas", "scikit-learn", "pyarrow", "statsmodels"} <= set(
        manifest["dependencies"]
    )
    assert set(manifest["files"]) == {"arrays.npz", "series.parquet"}
    assert manifest["arrays"]["level"] == {"dtype": "<f4", "shape": [4, 3]}


def test_same_inputs_give_identical_bytes_apart_from_created(tmp_path, state):
    first = write_artifact(tmp_path / "a", **state, created=CREATED)
    # Reordered dicts and a later creation time: only `created` may change.
    reordered = {**state, "arrays": dict(reversed(list(state["arrays"].items())))}
    later = CREATED.replace(year=2025)
    second = write_artifact(tmp_path / "b", **reordered, created=later)

    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        one, two = (first / name).read_bytes(), (second / name).read_bytes()
        if name == "manifest.json":
            assert one.replace(b"2024-05-01", b"2025-05-01") == two
        else:
            assert one == two, name


def test_big_endian_and_fortran_arrays_are_stored_canonically(tmp_path, state):
    big = np.arange(6, dtype=">f8").reshape(2, 3)
    state["arrays"] = {"big": big, "fortran": np.asfortranarray(np.ones((3, 2)))}
    loaded = read_artifact(write_artifact(tmp_path / "m", **state))

    assert loaded.arrays["big"].dtype.str == "<f8"
    np.testing.assert_array_equal(loaded.arrays["big"], big)
    assert loaded.arrays["fortran"].flags.c_contiguous


def test_replaces_an_existing_artifact(artifact):
    write_artifact(artifact, **model_state(seed=1), created=CREATED)

    loaded = read_artifact(artifact)
    np.testing.assert_array_equal(loaded.arrays["level"], model_state(seed=1)["arrays"]["level"])
    assert not [p for p in artifact.parent.iterdir() if p.name.startswith(".")]


def test_refuses_to_overwrite_a_folder_that_is_not_an_artifact(tmp_path, state):
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("precious")

    with pytest.raises(ArtifactError, match="not an anomaly artifact directory"):
        write_artifact(folder, **state)
    assert (folder / "chapter1.tex").read_text() == "precious"


def test_refuses_to_overwrite_an_artifact_holding_foreign_files(artifact, state):
    (artifact / "notes.txt").write_text("mine")

    with pytest.raises(ArtifactError, match=r"notes\.txt"):
        write_artifact(artifact, **state)
    assert (artifact / "notes.txt").exists()


def test_refuses_to_overwrite_a_file(tmp_path, state):
    target = tmp_path / "model"
    target.write_text("not a directory")

    with pytest.raises(ArtifactError, match="refusing to replace"):
        write_artifact(target, **state)


def test_failure_midway_leaves_the_previous_artifact_intact(artifact, monkeypatch):
    before = {p.name: p.read_bytes() for p in artifact.iterdir()}

    def failing_write_table(path, table):
        path.write_bytes(b"PAR1 half a table")
        raise OSError("No space left on device")

    monkeypatch.setattr(store_module, "write_table", failing_write_table)
    with pytest.raises(OSError, match="No space left"):
        write_artifact(artifact, **model_state(seed=1))

    assert {p.name: p.read_bytes() for p in artifact.iterdir()} == before
    assert read_artifact(artifact).metadata["n_series"] == 4
    assert [p.name for p in artifact.parent.iterdir()] == ["model"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"arrays": {"text": np.array(["DEU"])}}, "only bool, integer and float"),
        ({"arrays": {"../x": np.zeros(2)}}, "name '../x' is not allowed"),
        ({"config": {"alpha": float("nan")}}, "cannot be stored as JSON"),
        ({"config": {"when": datetime(2024, 1, 1)}}, "cannot be stored as JSON"),
        ({"metadata": {"n_series": 4}}, "training_window"),
        ({"tables": {"s": pd.DataFrame({"a": [1]}, index=[7])}}, "non-default index"),
        ({"tables": {"s": pd.DataFrame({"a": [object()]})}}, "cannot be stored as Parquet"),
        ({"tables": {"s": pd.DataFrame({"a": [b"x"]})}}, "unsupported types"),
    ],
)
def test_refuses_unstorable_inputs_before_writing(tmp_path, state, change, message):
    with pytest.raises(ValueError, match=message):
        write_artifact(tmp_path / "model", **{**state, **change})
    assert not list(tmp_path.iterdir())


def test_refuses_a_naive_creation_time(tmp_path, state):
    with pytest.raises(ValueError, match="no time zone"):
        write_artifact(tmp_path / "model", **state, created=datetime(2024, 1, 1))


# -- refusals on read ------------------------------------------------------------------


def test_refuses_one_changed_byte_in_arrays(artifact):
    path = artifact / "arrays.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    with pytest.raises(ArtifactIntegrityError, match=r"arrays\.npz has sha256 .* manifest says"):
        read_artifact(artifact)


def test_refuses_a_truncated_file(artifact):
    path = artifact / "series.parquet"
    path.write_bytes(path.read_bytes()[:-10])

    with pytest.raises(ArtifactIntegrityError, match=r"series\.parquet is .* bytes.*truncated"):
        read_artifact(artifact)


def test_refuses_a_missing_file(artifact):
    (artifact / "series.parquet").unlink()

    with pytest.raises(ArtifactIntegrityError, match=r"missing file\(s\) series\.parquet"):
        read_artifact(artifact)


def test_refuses_an_extra_file(artifact):
    (artifact / "backdoor.py").write_text("import os")

    with pytest.raises(ArtifactIntegrityError, match=r"not listed in the manifest: backdoor\.py"):
        read_artifact(artifact)


def test_refuses_a_symlinked_file(artifact, tmp_path):
    outside = tmp_path / "elsewhere.npz"
    (artifact / "arrays.npz").rename(outside)
    os.symlink(outside, artifact / "arrays.npz")

    with pytest.raises(ArtifactIntegrityError, match="symbolic link"):
        read_artifact(artifact)


def test_refuses_a_manifest_that_is_not_json(artifact):
    (artifact / "manifest.json").write_text('{"format": "anomaly-artifact", ')

    with pytest.raises(ArtifactIntegrityError, match=r"manifest\.json is not valid JSON"):
        read_artifact(artifact)


def test_refuses_a_directory_without_manifest(tmp_path):
    (tmp_path / "data.csv").write_text("a,b\n")

    with pytest.raises(ArtifactIntegrityError, match=r"manifest\.json is missing"):
        read_artifact(tmp_path)


def test_refuses_a_path_that_does_not_exist(tmp_path):
    with pytest.raises(ArtifactError, match="no such artifact"):
        read_artifact(tmp_path / "nothing")


def test_refuses_a_newer_format_version_naming_both_versions(artifact):
    def from_the_future(manifest):
        manifest["format_version"] = FORMAT_VERSION + 1
        manifest["package"]["version"] = "9.0.0"

    edit_manifest(artifact, from_the_future)

    with pytest.raises(ArtifactVersionError) as caught:
        read_artifact(artifact, strict=False)
    message = str(caught.value)
    assert f"format version {FORMAT_VERSION + 1}" in message
    assert "written by anomaly 9.0.0" in message
    assert f"this anomaly {anomaly.__version__}" in message


def test_refuses_a_manifest_listing_a_path_outside_the_artifact(artifact):
    edit_manifest(
        artifact, lambda m: m["files"].update({"../secret": m["files"]["series.parquet"]})
    )

    with pytest.raises(ArtifactIntegrityError, match="forbidden name"):
        read_artifact(artifact)


def _drift_numpy(manifest):
    major = int(np.__version__.split(".")[0])
    manifest["dependencies"]["numpy"] = f"{major + 1}.0.0"


def test_dependency_major_drift_refused_when_strict(artifact):
    edit_manifest(artifact, _drift_numpy)

    with pytest.raises(ArtifactVersionError, match=r"numpy \d+\.0\.0 \(installed: .*--no-strict"):
        read_artifact(artifact, strict=True)


def test_dependency_major_drift_only_warns_by_default(artifact, state):
    # The policy: a pickle-free artifact's format version decides whether it loads;
    # other major versions of the libraries are reported, never refused by default.
    edit_manifest(artifact, _drift_numpy)

    with pytest.warns(UserWarning, match=r"with numpy \d+\.0\.0 .*different major version"):
        loaded = read_artifact(artifact)
    np.testing.assert_array_equal(loaded.arrays["sigma"], state["arrays"]["sigma"])


def _written_by(version):
    def edit(manifest):
        manifest["package"]["version"] = version

    return edit


def _another_release(step):
    """This package's version with its release series (pre-1.0: minor) moved by ``step``."""
    major, minor, *_ = (int(part) for part in anomaly.__version__.split("."))
    return f"{major + step}.0.0" if major else f"0.{minor + step}.0"


@pytest.mark.parametrize("step", [-1, 1])
def test_another_release_of_the_package_warns_naming_both(artifact, state, step):
    # Its calibrations and alert threshold were fitted by that release's scoring.
    written = _another_release(step)
    edit_manifest(artifact, _written_by(written))

    with pytest.warns(UserWarning) as caught:
        loaded = read_artifact(artifact)
    message = " ".join(str(w.message) for w in caught)
    assert f"written by anomaly {written}" in message
    assert f"this anomaly {anomaly.__version__}" in message
    assert "refit the model" in message
    np.testing.assert_array_equal(loaded.arrays["sigma"], state["arrays"]["sigma"])


def test_another_release_of_the_package_refused_when_strict(artifact):
    edit_manifest(artifact, _written_by(_another_release(-1)))

    with pytest.raises(ArtifactVersionError, match=r"written by anomaly .*--no-strict"):
        read_artifact(artifact, strict=True)


def test_a_patch_release_of_the_package_loads_silently(artifact):
    # Patch releases do not move scores (docs/artifact-format.md, Compatibility policy).
    major, minor, *_ = anomaly.__version__.split(".")
    edit_manifest(artifact, _written_by(f"{major}.{minor}.99"))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_artifact(artifact, strict=True)


def test_an_unreadable_package_version_is_reported(artifact):
    edit_manifest(artifact, _written_by("nightly"))

    with pytest.warns(UserWarning, match="written by anomaly nightly"):
        read_artifact(artifact)


def test_strict_false_does_not_excuse_tampering(artifact):
    edit_manifest(artifact, _drift_numpy)
    (artifact / "arrays.npz").write_bytes(b"PK")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ArtifactIntegrityError):
            read_artifact(artifact, strict=False)


# -- code execution ---------------------------------------------------------------------


class TouchOnUnpickle:
    """Unpickling this creates ``marker``: a stand-in for arbitrary code execution."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _payload(marker: Path) -> np.ndarray:
    return np.array([TouchOnUnpickle(marker)], dtype=object)


def _craft_listed_object_array(artifact: Path, marker: Path) -> None:
    # An extra object array, listed in the manifest as what it is.
    arrays = dict(np.load(artifact / "arrays.npz"))
    np.savez(artifact / "arrays.npz", **arrays, payload=_payload(marker))
    edit_manifest(artifact, lambda m: m["arrays"].update(payload={"dtype": "|O", "shape": [1]}))


def _craft_disguised_object_array(artifact: Path, marker: Path) -> None:
    # An object array posing, in the manifest, as the float array it replaces.
    arrays = dict(np.load(artifact / "arrays.npz"))
    arrays["sigma"] = _payload(marker)
    np.savez(artifact / "arrays.npz", **arrays)
    edit_manifest(artifact, lambda m: m["arrays"].update(sigma={"dtype": "<f8", "shape": [1]}))


def _craft_raw_pickle(artifact: Path, marker: Path) -> None:
    # Padded to the size the manifest's arrays need, so the npz reader itself is tested.
    (artifact / "arrays.npz").write_bytes(pickle.dumps(TouchOnUnpickle(marker)) + b" " * 4096)


@pytest.mark.parametrize(
    ("craft", "message"),
    [
        (_craft_listed_object_array, r"gives array payload the non-numeric dtype '\|O'"),
        (_craft_disguised_object_array, r"array 'sigma' has non-numeric dtype \|O"),
        (_craft_raw_pickle, r"arrays\.npz cannot be read without executing code or is corrupt"),
    ],
    ids=["listed", "disguised", "raw-pickle"],
)
def test_a_pickle_payload_is_refused_and_never_runs(artifact, tmp_path, craft, message):
    marker = tmp_path / "pwned"
    craft(artifact, marker)
    relist(artifact, "arrays.npz")  # digests match: only format checks stand guard

    with pytest.raises(ArtifactIntegrityError, match=message):
        read_artifact(artifact, strict=False)
    assert not marker.exists()

    # The payload is live: an unguarded load would have run it.
    if craft is _craft_raw_pickle:
        np.load(artifact / "arrays.npz", allow_pickle=True)
    else:
        with np.load(artifact / "arrays.npz", allow_pickle=True) as npz:
            [npz[name] for name in npz.files]
    assert marker.exists()


def test_manifest_is_canonical_json(artifact):
    text = (artifact / "manifest.json").read_text()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2) + "\n"


class _RefuseEverything:
    """A content schema that refuses after the manifest, to see where it runs."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def check_manifest(self, manifest, where):
        self.calls.append("manifest")

    def check_content(self, artifact, where):
        self.calls.append(f"content {sorted(artifact.arrays)[0]}")
        raise ArtifactSchemaError(where, "arrays.npz", "level", "refused for the test")


def test_a_registered_content_schema_runs_in_verify_and_on_request_in_read(tmp_path, state):
    schema = _RefuseEverything()
    register_schema("SchemaTest", schema)
    path = write_artifact(tmp_path / "m", **{**state, "model_class": "SchemaTest"})
    with pytest.raises(ArtifactSchemaError, match=r"m: arrays\.npz level: refused for the test"):
        verify_artifact(path)
    assert schema.calls == ["manifest", "content intermittent"]
    read_artifact(path)  # the storage layer alone: no schema unless asked for
    with pytest.raises(ArtifactSchemaError):
        read_artifact(path, schema=schema)
