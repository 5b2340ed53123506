"""Versioned, safe-to-load model artifacts.

A trained model is stored as a directory of non-executable files: ``manifest.json``
(format version, package and dependency versions, config, metadata, sha256 of every
file), ``arrays.npz`` (numeric arrays, loaded with ``allow_pickle=False``) and one
Parquet file per table; :func:`pack_artifact` turns it into one zip. Reading verifies
the manifest, format version and every file's digest before parsing anything; what the
arrays mean is their owner's business (an isolation forest, for instance, is stored as
node arrays by :mod:`anomaly.detect.forest`), so no artifact ever needs pickle. The
format is specified in ``docs/artifact-format.md``.

Examples
--------
>>> from anomaly.artifacts import read_artifact, write_artifact
>>> artifact = read_artifact("models/default")  # doctest: +SKIP
"""

from anomaly.artifacts.archive import pack_artifact
from anomaly.artifacts.atomic import remove_stale_siblings, replace_file, temporary_sibling
from anomaly.artifacts.integrity import sha256_file
from anomaly.artifacts.manifest import FORMAT_VERSION, SUPPORTED_FORMAT_VERSIONS
from anomaly.artifacts.schema import ContentSchema, register_schema, registered_schema
from anomaly.artifacts.store import (
    Artifact,
    check_replaceable,
    read_artifact,
    verify_artifact,
    write_artifact,
)

__all__ = [
    "FORMAT_VERSION",
    "SUPPORTED_FORMAT_VERSIONS",
    "Artifact",
    "ContentSchema",
    "check_replaceable",
    "pack_artifact",
    "read_artifact",
    "register_schema",
    "registered_schema",
    "remove_stale_siblings",
    "replace_file",
    "sha256_file",
    "temporary_sibling",
    "verify_artifact",
    "write_artifact",
]
