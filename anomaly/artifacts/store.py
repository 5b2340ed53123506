"""Write and read model artifacts: a directory (or a zip of one) of non-executable files.

Layout (see ``docs/artifact-format.md``)::

    MODEL_DIR/
      manifest.json        format version, versions, config, metadata, file digests
      arrays.npz           named numeric arrays, loaded with allow_pickle=False
      <table>.parquet      one file per key table

Reading verifies before it parses: manifest and format version, then the exact file
set with sizes and sha256, then the package and dependency versions, and only then are
arrays and tables loaded, by readers that cannot execute code.
"""

from __future__ import annotations

import json
import os
import stat
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from anomaly._version import __version__
from anomaly.artifacts.archive import extracted_archive
from anomaly.artifacts.atomic import replace_directory
from anomaly.artifacts.integrity import file_record, verify_directory
from anomaly.artifacts.manifest import (
    ARRAYS_FILE,
    FORMAT_NAME,
    MANIFEST_FILE,
    build_manifest,
    check_name,
    dependency_drift,
    encode_manifest,
    package_drift,
)
from anomaly.artifacts.npz import describe_array, normalise_array, read_arrays, write_arrays
from anomaly.artifacts.parquet import describe_table, read_table, to_arrow_table, write_table
from anomaly.artifacts.schema import ContentSchema, registered_schema
from anomaly.errors import ArtifactError, ArtifactVersionError

__all__ = ["Artifact", "read_artifact", "verify_artifact", "write_artifact"]


@dataclass(frozen=True)
class Artifact:
    """A verified, loaded artifact.

    Attributes
    ----------
    manifest : dict
        The whole validated ``manifest.json``.
    config : dict
        The model's configuration, as given to :func:`write_artifact` (JSON round trip:
        tuples come back as lists).
    metadata : dict
        Training window, data fingerprint, series count and any further metadata.
    arrays : dict of str to numpy.ndarray
        Named arrays with their original dtypes and shapes (little-endian).
    tables : dict of str to pandas.DataFrame
        Named tables with a default ``RangeIndex``.

    Examples
    --------
    >>> artifact = read_artifact("models/default")  # doctest: +SKIP
    >>> artifact.model_class  # doctest: +SKIP
    'TradeAnomalyModel'
    """

    manifest: dict[str, Any]
    config: dict[str, Any]
    metadata: dict[str, Any]
    arrays: dict[str, np.ndarray]
    tables: dict[str, pd.DataFrame]

    @property
    def model_class(self) -> str:
        """Name of the class that wrote the artifact."""
        return self.manifest["model_class"]


def check_replaceable(path: Path) -> None:
    """Refuse to replace anything but nothing, an empty directory or an artifact.

    Raises
    ------
    ArtifactError
        ``path`` is something else (a file, a directory of other files).
    """
    if not os.path.lexists(path):
        return
    refusal = f"{path} exists and is not an anomaly artifact directory; refusing to replace it"
    if path.is_symlink() or not path.is_dir():
        raise ArtifactError(refusal)
    present = {entry.name for entry in path.iterdir()}
    if not present:
        return
    manifest_path = path / MANIFEST_FILE
    try:
        if not stat.S_ISREG(manifest_path.lstat().st_mode):
            raise ArtifactError(refusal)
        manifest = json.loads(manifest_path.read_bytes())
    except (OSError, ValueError):
        raise ArtifactError(refusal) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ArtifactError(refusal)
    listed = manifest.get("files")
    foreign = sorted(present - {MANIFEST_FILE} - set(listed if isinstance(listed, dict) else ()))
    if foreign:
        raise ArtifactError(
            f"{path} holds files that are not part of its artifact ({', '.join(foreign)}); "
            "refusing to replace it and delete them"
        )


def write_artifact(
    path: str | Path,
    *,
    model_class: str,
    config: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    tables: Mapping[str, pd.DataFrame],
    metadata: Mapping[str, Any],
    created: datetime | None = None,
) -> Path:
    """Write a model artifact directory atomically.

    Parameters
    ----------
    path : str or Path
        Target directory. It may not exist yet, be empty, or be an earlier artifact,
        which is replaced as a whole; anything else is refused.
    model_class : str
        Name of the class that can rebuild the model, e.g. ``"TradeAnomalyModel"``.
    config : dict
        JSON-able configuration (str keys; numpy scalars are stored as JSON numbers;
        NaN and infinity are refused).
    arrays : dict of str to numpy.ndarray
        Bool, integer or float arrays of any shape.
    tables : dict of str to pandas.DataFrame
        Tables of bool, int, float or str columns with a default ``RangeIndex``.
    metadata : dict
        JSON-able; must hold ``training_window`` (``{"start": str, "end": str}``),
        ``data_fingerprint`` (str) and ``n_series`` (int).
    created : datetime, optional
        Timezone-aware creation time recorded in the manifest; default now. Pass a
        fixed time to reproduce an artifact byte for byte.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError, TypeError
        Inputs that cannot be stored (raised before anything is written).
    ArtifactError
        ``path`` exists and is not an artifact directory.

    Examples
    --------
    >>> import tempfile
    >>> from datetime import datetime, UTC
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_artifact(
    ...         Path(tmp) / "model", model_class="Demo", config={"alpha": 0.01},
    ...         arrays={"level": np.ones(3, dtype=np.float32)},
    ...         tables={"series": pd.DataFrame({"hs": ["854231", "880730", "930100"]})},
    ...         metadata={"training_window": {"start": "2015-01", "end": "2021-12"},
    ...                   "data_fingerprint": "sha256:ab12", "n_series": 3},
    ...         created=datetime(2024, 1, 1, tzinfo=UTC))
    ...     sorted(p.name for p in out.iterdir())
    ['arrays.npz', 'manifest.json', 'series.parquet']
    """
    path = Path(path)
    stored_arrays = {
        check_name(name, "array"): normalise_array(name, value) for name, value in arrays.items()
    }
    stored_tables = {
        check_name(name, "table"): to_arrow_table(name, frame) for name, frame in tables.items()
    }
    if len({name.casefold() for name in stored_tables}) != len(stored_tables):
        raise ValueError(
            f"table names {sorted(stored_tables)} differ only in case; their files would "
            "collide on case-insensitive file systems"
        )
    manifest = build_manifest(
        model_class=model_class,
        config=config,
        metadata=metadata,
        arrays={name: describe_array(array) for name, array in stored_arrays.items()},
        tables={name: describe_table(name, table) for name, table in stored_tables.items()},
        files={},
        created=created,
    )
    # Fail on unserialisable config or metadata before writing any array.
    encode_manifest(manifest)
    check_replaceable(path)

    def build(staging: Path) -> None:
        write_arrays(staging / ARRAYS_FILE, stored_arrays)
        for name, table in stored_tables.items():
            write_table(staging / manifest["tables"][name]["file"], table)
        manifest["files"] = {entry.name: file_record(entry) for entry in sorted(staging.iterdir())}
        (staging / MANIFEST_FILE).write_bytes(encode_manifest(manifest))

    replace_directory(path, build)
    return path


def _versions_reported(manifest: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    """What loading reports of the versions that wrote ``manifest``: per problem, what
    was found and what it means (see ``docs/artifact-format.md``, Compatibility policy)."""
    reported = []
    written_by = package_drift(manifest)
    if written_by is not None:
        reported.append(
            (
                f"{where} was written by anomaly {written_by}, another release than this "
                f"anomaly {__version__}",
                "Its calibrations and alert threshold were fitted by that release's "
                "scoring, which may differ from this one's: refit the model (anomaly "
                "train) to score as this release does",
            )
        )
    drift = dependency_drift(manifest)
    if drift:
        reported.append(
            (
                f"{where} was written with {', '.join(drift)}: a different major version",
                "It holds no pickles, so it loads; install the recorded versions to "
                "reproduce its results to the last digit",
            )
        )
    return reported


@contextmanager
def _artifact_directory(path: Path) -> Iterator[Path]:
    where = str(path)
    if path.is_dir():
        yield path
    elif path.is_file():
        with extracted_archive(path, where) as directory:
            yield directory
    else:
        raise ArtifactError(f"{where}: no such artifact directory or archive")


def _load(directory: Path, manifest: dict[str, Any], where: str) -> Artifact:
    arrays = read_arrays(directory / ARRAYS_FILE, manifest["arrays"], where)
    tables = {
        name: read_table(directory / entry["file"], entry, where)
        for name, entry in sorted(manifest["tables"].items())
    }
    return Artifact(
        manifest=manifest,
        config=manifest["config"],
        metadata=manifest["metadata"],
        arrays=arrays,
        tables=tables,
    )


def verify_artifact(path: str | Path) -> dict[str, Any]:
    """Check an artifact's manifest, format version, files and content; return the manifest.

    Dependency versions are not compared: this is the check behind ``anomaly inspect``.
    When a content schema is registered for the artifact's ``model_class`` (as
    :mod:`anomaly.model` registers one for ``TradeAnomalyModel``), the arrays and tables
    are loaded and checked against it too, so that ``inspect`` refuses exactly what
    loading the model would refuse.

    Parameters
    ----------
    path : str or Path
        Artifact directory or zip archive.

    Raises
    ------
    ArtifactIntegrityError
        Missing, changed, extra, truncated or unsafe content.
    ArtifactSchemaError
        Content that breaks the model class's schema.
    ArtifactVersionError
        A format version this package does not read.
    ArtifactError
        Nothing at ``path``.

    Examples
    --------
    >>> verify_artifact("models/default")["metadata"]["n_series"]  # doctest: +SKIP
    41872
    """
    path = Path(path)
    where = str(path)
    with _artifact_directory(path) as directory:
        manifest = verify_directory(directory, where)
        schema = registered_schema(manifest["model_class"])
        if schema is not None:
            schema.check_manifest(manifest, where)
            schema.check_content(_load(directory, manifest, where), where)
        return manifest


def read_artifact(
    path: str | Path, *, strict: bool = False, schema: ContentSchema | None = None
) -> Artifact:
    """Verify and load an artifact directory or zip archive.

    Parameters
    ----------
    path : str or Path
        Artifact directory, or a zip written by :func:`pack_artifact`.
    strict : bool, default False
        Refuse an artifact written by another release series of anomaly (whose scoring
        may differ from this one's: its calibrations and alert threshold want a refit)
        or with a different major version of numpy, pandas or scikit-learn. By default
        either only warns (``UserWarning``): an artifact holds no pickles, so what its
        numbers mean does not depend on those libraries; the format version decides
        whether it loads. Integrity and format-version failures are refused either way.
    schema : ContentSchema, optional
        The model class's content checks: its manifest check runs before any array or
        table is read, its content check on what was read. A model's loader passes its
        own (the storage layer alone checks only the encodings).

    Returns
    -------
    Artifact

    Raises
    ------
    ArtifactIntegrityError
        Missing, changed, extra, truncated or unsafe content, including arrays that
        would need unpickling.
    ArtifactSchemaError
        Content that breaks ``schema``.
    ArtifactVersionError
        A format version this package does not read, or (``strict``) another release
        series of anomaly or dependency drift.
    ArtifactError
        Nothing at ``path``.

    Examples
    --------
    >>> artifact = read_artifact("models/default")  # doctest: +SKIP
    >>> artifact.metadata["training_window"]  # doctest: +SKIP
    {'end': '2021-12', 'start': '2015-01'}
    """
    path = Path(path)
    where = str(path)
    with _artifact_directory(path) as directory:
        manifest = verify_directory(directory, where)
        for written, consequence in _versions_reported(manifest, where):
            if strict:
                raise ArtifactVersionError(
                    f"{written}, refused as strict asks. Install the recorded versions or "
                    "retrain the model; without strict (the default; the command line's "
                    "--no-strict) it loads with a warning"
                )
            warnings.warn(f"{written}. {consequence}", UserWarning, stacklevel=2)
        if schema is not None:
            schema.check_manifest(manifest, where)
        artifact = _load(directory, manifest, where)
    if schema is not None:
        schema.check_content(artifact, where)
    return artifact
