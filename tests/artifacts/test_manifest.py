"""The manifest: canonical encoding, validation of every field, dependency drift."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from anomaly.artifacts.manifest import (
    FORMAT_VERSION,
    build_manifest,
    dependency_drift,
    encode_manifest,
    format_created,
    parse_manifest,
)
from anomaly.errors import ArtifactIntegrityError, ArtifactVersionError

METADATA = {
    "training_window": {"start": "2015-01", "end": "2021-12"},
    "data_fingerprint": "sha256:00",
    "n_series": 2,
}
DIGEST = {"sha256": "0" * 64, "size": 10}


def _manifest(**changes):
    manifest = build_manifest(
        model_class="TradeAnomalyModel",
        config={"alpha": np.float64(0.05), "k": np.int64(3), "on": np.bool_(True)},
        metadata=METADATA,
        arrays={"x": {"dtype": "<f4", "shape": [2]}},
        tables={"keys": {"file": "keys.parquet", "rows": 2, "columns": []}},
        files={"arrays.npz": DIGEST, "keys.parquet": DIGEST},
        created=datetime(2024, 1, 1, tzinfo=UTC),
    )
    manifest.update(changes)
    return manifest


def _encoded(**changes) -> bytes:
    return json.dumps(_manifest(**changes), default=str).encode()


def test_encoding_is_canonical_and_parses_back():
    data = encode_manifest(_manifest())

    assert data == encode_manifest(json.loads(data))
    assert data.endswith(b"}\n")
    manifest = parse_manifest(data, "model")
    assert manifest["config"] == {"alpha": 0.05, "k": 3, "on": True}
    assert manifest["format_version"] == FORMAT_VERSION


def test_created_is_utc_iso_8601():
    plus_two = timezone(timedelta(hours=2))
    assert format_created(datetime(2024, 1, 1, 14, 0, tzinfo=plus_two)) == "2024-01-01T12:00:00Z"
    assert format_created(None).endswith("Z")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"{", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"format": "something-else"}', "not an anomaly artifact manifest"),
        (_encoded(format_version="1"), "'format_version' should be int"),
        (_encoded(format_version=True), "'format_version' should be int"),
        (_encoded(created="yesterday"), "not an ISO 8601 time"),
        (_encoded(files="all of them"), "'files' should be dict"),
        (_encoded(files={"arrays.npz": {"sha256": "xyz", "size": 1}}), "64 lowercase hex"),
        (_encoded(files={"../../etc/passwd": DIGEST}), "forbidden name"),
        (_encoded(files={"arrays.npz": DIGEST}), "do not match its arrays and tables"),
        (_encoded(arrays={"x": {"dtype": "|O", "shape": [1]}}), "non-numeric dtype"),
        (_encoded(arrays={"x": {"dtype": "<f8", "shape": [-1]}}), "invalid shape"),
        (_encoded(tables={"keys": {"file": "../keys.parquet"}}), "should be stored in"),
        (_encoded(dependencies={"numpy": "2.0"}), "usable pandas version"),
    ],
)
def test_invalid_manifests_are_refused(data, message):
    with pytest.raises(ArtifactIntegrityError, match=message):
        parse_manifest(data, "model")


def test_a_missing_field_is_named():
    manifest = json.loads(encode_manifest(_manifest()))
    del manifest["model_class"]

    with pytest.raises(ArtifactIntegrityError, match="lacks the required field 'model_class'"):
        parse_manifest(json.dumps(manifest).encode(), "model")


@pytest.mark.parametrize(
    ("version", "message"),
    [(FORMAT_VERSION + 1, "newer than this anomaly"), (0, "unknown artifact format version 0")],
)
def test_unreadable_format_versions_are_version_errors(version, message):
    with pytest.raises(ArtifactVersionError, match=message):
        parse_manifest(_encoded(format_version=version), "model")


def test_a_newer_format_is_refused_before_its_other_fields_are_judged():
    data = json.dumps({"format": "anomaly-artifact", "format_version": 99}).encode()

    with pytest.raises(ArtifactVersionError, match="format version 99"):
        parse_manifest(data, "model")


def test_dependency_drift_compares_major_versions_only():
    manifest = _manifest()
    installed = manifest["dependencies"]
    major = installed["numpy"].split(".")[0]
    manifest["dependencies"] = {**installed, "numpy": f"{major}.999"}
    assert dependency_drift(manifest) == []

    manifest["dependencies"]["scikit-learn"] = "0.24.2"
    assert dependency_drift(manifest) == [
        f"scikit-learn 0.24.2 (installed: {installed['scikit-learn']})"
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model_class": ""}, "model_class"),
        ({"metadata": {**METADATA, "n_series": -1}}, "n_series"),
        ({"metadata": {**METADATA, "data_fingerprint": 7}}, "data_fingerprint"),
        ({"metadata": {**METADATA, "training_window": ("2015-01", "2021-12")}}, "training_window"),
    ],
)
def test_build_refuses_incomplete_metadata(changes, message):
    arguments = {
        "model_class": "M",
        "config": {},
        "metadata": METADATA,
        "arrays": {},
        "tables": {},
        "files": {},
        "created": None,
    }
    with pytest.raises(ValueError, match=message):
        build_manifest(**{**arguments, **changes})
