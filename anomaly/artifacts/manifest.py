"""The manifest: what an artifact contains, who wrote it, and how to check its files.

``manifest.json`` is the only file a reader trusts before verification, so everything
in it is validated here, field by field, before any other file is opened. The schema is
documented for readers in other languages in ``docs/artifact-format.md``.
"""

from __future__ import annotations

import json
import math
import platform
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from typing import Any

import numpy as np

from anomaly._version import __version__
from anomaly.errors import ArtifactIntegrityError, ArtifactSchemaError, ArtifactVersionError

__all__ = [
    "ARRAYS_FILE",
    "COLUMN_TYPE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "MAX_ARRAY_DIMENSIONS",
    "MAX_JSON_DEPTH",
    "MONTH_PATTERN",
    "NAME_PATTERN",
    "NUMERIC_DTYPE",
    "SUPPORTED_FORMAT_VERSIONS",
    "TABLE_SUFFIX",
    "build_manifest",
    "check_metadata",
    "check_name",
    "dependency_drift",
    "dependency_versions",
    "encode_json",
    "encode_manifest",
    "format_created",
    "itemsize",
    "package_drift",
    "parse_json",
    "parse_manifest",
]

FORMAT_NAME = "anomaly-artifact"
#: The format this package writes. Bump it for any change an older reader would
#: misread; see "Versioning" in docs/artifact-format.md.
FORMAT_VERSION = 2
#: Every format this package can read. Readers of older formats stay here for as long
#: as models written in them may exist.
SUPPORTED_FORMAT_VERSIONS: tuple[int, ...] = (1, 2)

MANIFEST_FILE = "manifest.json"
ARRAYS_FILE = "arrays.npz"
TABLE_SUFFIX = ".parquet"

#: Array and table names: they become file names inside the artifact (or its npz), so
#: they must be portable and unable to name a path.
NAME_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: numpy dtype strings of little-endian bools, integers and floats: "|b1", "<i8", "<f4".
NUMERIC_DTYPE = re.compile(r"\|b1|\|[iu]1|<[iu](2|4|8)|<f(2|4|8)")
#: Arrow type names a table column may have (see "Tables" in docs/artifact-format.md).
COLUMN_TYPE = re.compile(
    r"bool|u?int(8|16|32|64)|float|double|string|large_string"
    r"|dictionary<values=(string|large_string), indices=u?int(8|16|32|64), ordered=[01]>"
)
#: A month as the metadata spells it: ``2021-12``.
MONTH_PATTERN = re.compile(r"(?P<year>[0-9]{4})-(?P<month>0[1-9]|1[0-2])")
#: Deepest nesting of arrays and objects a manifest may have. Real manifests reach 5;
#: the bound keeps a hostile one from exhausting the parser's (or a reader's) stack.
MAX_JSON_DEPTH = 32
#: Most dimensions an array may have (numpy's own limit is 64).
MAX_ARRAY_DIMENSIONS = 32
#: Longest column name or metadata string a manifest may hold.
_MAX_TEXT = 200
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)

#: Libraries whose major version decides whether recorded numbers mean the same thing.
CHECKED_DEPENDENCIES: tuple[str, ...] = ("numpy", "pandas", "scikit-learn")
#: Libraries recorded for provenance (distribution names as on PyPI).
RECORDED_DEPENDENCIES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "statsmodels",
)


def check_name(name: object, kind: str) -> str:
    """Return ``name`` if it is a valid array or table name, else raise ``ValueError``.

    Examples
    --------
    >>> check_name("iforest.threshold", "array")
    'iforest.threshold'
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ValueError(
            f"{kind} name {name!r} is not allowed; use 1-100 characters from "
            "letters, digits, '_', '.', '-', not starting with '.' or '-'"
        )
    return name


def dependency_versions() -> dict[str, str | None]:
    """Versions of Python and the recorded libraries in this environment.

    Read from the installed distributions' metadata rather than by importing, so that
    recording statsmodels' version does not cost its import time.
    """
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in RECORDED_DEPENDENCIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _json_default(value: object) -> object:
    # Numpy scalars leak into configs from array arithmetic; store them as plain JSON
    # numbers rather than failing on a type the caller did not notice.
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def encode_json(document: Mapping[str, Any], what: str) -> bytes:
    """Serialise ``document`` canonically: sorted keys, 2-space indent, UTF-8, final newline.

    The canonical form makes equal inputs give equal bytes.

    Examples
    --------
    >>> encode_json({"b": 1, "a": [1, 2]}, "example")
    b'{\\n  "a": [\\n    1,\\n    2\\n  ],\\n  "b": 1\\n}\\n'
    """
    try:
        text = json.dumps(
            document,
            sort_keys=True,
            indent=2,
            ensure_ascii=False,
            allow_nan=False,
            default=_json_default,
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} cannot be stored as JSON: {error}") from error
    return (text + "\n").encode("utf-8")


def format_created(created: datetime | None) -> str:
    """Render a creation time as ISO 8601 UTC with a ``Z`` suffix, to the second.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> format_created(datetime(2024, 3, 1, 12, 30, tzinfo=UTC))
    '2024-03-01T12:30:00Z'
    """
    if created is None:
        created = datetime.now(UTC)
    elif created.tzinfo is None or created.utcoffset() is None:
        raise ValueError(
            f"created={created.isoformat()} has no time zone; pass an aware datetime "
            "such as datetime(..., tzinfo=datetime.UTC)"
        )
    return created.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def check_metadata(metadata: Mapping[str, Any]) -> None:
    """Check the required ``metadata`` keys; raise ``ValueError`` naming the key.

    ``training_window`` is ``{"start": "YYYY-MM", "end": "YYYY-MM"}`` with start <= end
    (months 01-12, years 1900-2199); ``data_fingerprint`` a str of at most 200
    characters; ``n_series`` an int >= 0.

    Examples
    --------
    >>> check_metadata({"training_window": {"start": "2021-13", "end": "2021-12"},
    ...                 "data_fingerprint": "0", "n_series": 0})
    Traceback (most recent call last):
    ...
    ValueError: metadata.training_window.start: '2021-13' is not a month written YYYY-MM
    """
    window = metadata.get("training_window")
    if not isinstance(window, Mapping) or set(window) != {"start", "end"}:
        raise ValueError(
            "metadata.training_window: must be an object with exactly 'start' and 'end' "
            f"(e.g. {{'start': '2015-01', 'end': '2021-12'}}), got {_short(window)}"
        )
    months = []
    for key in ("start", "end"):
        text = window[key]
        match = MONTH_PATTERN.fullmatch(text) if isinstance(text, str) else None
        if match is None or not 1900 <= int(match["year"]) < 2200:
            raise ValueError(
                f"metadata.training_window.{key}: {_short(text)} is not a month written YYYY-MM"
            )
        months.append(int(match["year"]) * 12 + int(match["month"]))
    if months[0] > months[1]:
        raise ValueError(
            f"metadata.training_window: start {window['start']} is after end {window['end']}"
        )
    fingerprint = metadata.get("data_fingerprint")
    if not isinstance(fingerprint, str) or len(fingerprint) > _MAX_TEXT:
        raise ValueError(
            f"metadata.data_fingerprint: must be a str of at most {_MAX_TEXT} characters, "
            f"got {_short(fingerprint)}"
        )
    n_series = metadata.get("n_series")
    if isinstance(n_series, bool) or not isinstance(n_series, int | np.integer) or n_series < 0:
        raise ValueError(f"metadata.n_series: must be an int >= 0, got {_short(n_series)}")


def build_manifest(
    *,
    model_class: str,
    config: Mapping[str, Any],
    metadata: Mapping[str, Any],
    arrays: Mapping[str, Any],
    tables: Mapping[str, Any],
    files: Mapping[str, Mapping[str, Any]],
    created: datetime | None,
) -> dict[str, Any]:
    """Assemble the manifest document of format :data:`FORMAT_VERSION`.

    Parameters
    ----------
    model_class : str
        Name of the class that can rebuild the model from the artifact.
    config, metadata : mapping
        JSON-able; ``metadata`` needs ``training_window`` (``start``/``end`` str),
        ``data_fingerprint`` (str) and ``n_series`` (int).
    arrays, tables : mapping
        Descriptions of the stored arrays and tables (see ``npz.describe_array`` and
        ``parquet.describe_table``).
    files : mapping
        ``{file name: {"sha256": hex, "size": bytes}}`` for every file but the manifest.
    created : datetime or None
        Timezone-aware creation time; ``None`` means now.

    Examples
    --------
    >>> manifest = build_manifest(
    ...     model_class="Demo", config={}, arrays={}, tables={}, files={},
    ...     metadata={"training_window": {"start": "2015-01", "end": "2021-12"},
    ...               "data_fingerprint": "sha256:0", "n_series": 0},
    ...     created=None)
    >>> manifest["format_version"]
    2
    """
    if not isinstance(model_class, str) or not model_class:
        raise ValueError(f"model_class must be a non-empty str, got {model_class!r}")
    if not isinstance(config, Mapping):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    if not isinstance(metadata, Mapping):
        raise ValueError(f"metadata must be a dict, got {type(metadata).__name__}")
    check_metadata(metadata)
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "created": format_created(created),
        "package": {"name": "anomaly", "version": __version__},
        "dependencies": dependency_versions(),
        "model_class": model_class,
        "config": dict(config),
        "metadata": dict(metadata),
        "arrays": dict(arrays),
        "tables": dict(tables),
        "files": dict(files),
    }


def encode_manifest(manifest: Mapping[str, Any]) -> bytes:
    """The bytes of ``manifest.json``: canonical JSON, so only ``created`` varies."""
    return encode_json(manifest, "the manifest (config or metadata)")


# -- reading ---------------------------------------------------------------------------


def _invalid(where: str, problem: str) -> ArtifactIntegrityError:
    return ArtifactIntegrityError(f"{where}: {MANIFEST_FILE} {problem}")


def _short(value: object) -> str:
    # A hostile manifest must not be able to flood the error message.
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _require(document: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in document:
        raise _invalid(where, f"lacks the required field {key!r}")
    value = document[key]
    # bool is an int subclass; a flag is never a valid count or version.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise _invalid(where, f"field {key!r} should be {kind.__name__}, got {_short(value)}")
    return value


def _check_format_version(document: Mapping[str, Any], where: str) -> None:
    version = _require(document, "format_version", int, where)
    if version in SUPPORTED_FORMAT_VERSIONS:
        return
    package = document.get("package")
    writer = package.get("version") if isinstance(package, Mapping) else None
    writer_text = f"anomaly {writer[:40]}" if isinstance(writer, str) else "a newer anomaly"
    supported = ", ".join(str(v) for v in SUPPORTED_FORMAT_VERSIONS)
    if version > FORMAT_VERSION:
        raise ArtifactVersionError(
            f"{where}: artifact format version {version} (written by {writer_text}) is "
            f"newer than this anomaly {__version__} can read (format versions "
            f"{supported}); upgrade anomaly to the version that wrote it or later"
        )
    raise ArtifactVersionError(
        f"{where}: unknown artifact format version {version}; anomaly "
        f"{__version__} reads format versions {supported}"
    )


def _check_files(files: Mapping[str, Any], where: str) -> None:
    for name, entry in files.items():
        if name == MANIFEST_FILE or not NAME_PATTERN.fullmatch(name):
            raise _invalid(where, f"lists a file with a forbidden name: {_short(name)}")
        if not isinstance(entry, Mapping):
            raise _invalid(where, f"entry for {name} should be an object")
        digest, size = entry.get("sha256"), entry.get("size")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise _invalid(where, f"sha256 of {name} is not 64 lowercase hex digits")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise _invalid(where, f"size of {name} is not a byte count: {_short(size)}")


def itemsize(dtype: str) -> int:
    """Bytes per element of a :data:`NUMERIC_DTYPE` string.

    Examples
    --------
    >>> itemsize("<f8"), itemsize("|b1")
    (8, 1)
    """
    return int(dtype[2:])


def _check_contents(manifest: Mapping[str, Any], where: str) -> None:
    expected_files = {ARRAYS_FILE}
    for name, entry in manifest["tables"].items():
        if not NAME_PATTERN.fullmatch(name):
            raise _invalid(where, f"lists a table with a forbidden name: {_short(name)}")
        file = entry.get("file") if isinstance(entry, Mapping) else None
        if file != name + TABLE_SUFFIX:
            raise _invalid(where, f"table {name} should be stored in {name}{TABLE_SUFFIX}")
        _check_table_entry(name, entry, where)
        expected_files.add(file)
    if len({name.casefold() for name in manifest["tables"]}) != len(manifest["tables"]):
        raise _invalid(where, "lists tables whose names differ only in case")
    listed = set(manifest["files"])
    if listed != expected_files:
        odd = sorted(listed ^ expected_files)
        raise _invalid(where, f"files do not match its arrays and tables: {_short(', '.join(odd))}")
    total = 0
    for name, entry in manifest["arrays"].items():
        if not NAME_PATTERN.fullmatch(name):
            raise _invalid(where, f"lists an array with a forbidden name: {_short(name)}")
        dtype = entry.get("dtype") if isinstance(entry, Mapping) else None
        shape = entry.get("shape") if isinstance(entry, Mapping) else None
        # Only numeric dtypes are legal, so an object (pickled) array is refused here,
        # before arrays.npz is even opened.
        if not isinstance(dtype, str) or not NUMERIC_DTYPE.fullmatch(dtype):
            raise _invalid(where, f"gives array {name} the non-numeric dtype {_short(dtype)}")
        if (
            not isinstance(shape, list)
            or len(shape) > MAX_ARRAY_DIMENSIONS
            or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
        ):
            raise _invalid(where, f"gives array {name} an invalid shape {_short(shape)}")
        if set(entry) != {"dtype", "shape"}:
            raise _invalid(where, f"array {name} has fields other than dtype and shape")
        total += math.prod(shape) * itemsize(dtype)
    # Stored arrays cannot hold more bytes than their file: a shape that claims more
    # (and would make a reader allocate it) is refused before arrays.npz is opened.
    size = manifest["files"][ARRAYS_FILE]["size"]
    if total > size:
        raise _invalid(
            where,
            f"declares arrays of {total} bytes in all, more than {ARRAYS_FILE} holds "
            f"({size} bytes)",
        )


def _check_table_entry(name: str, entry: Mapping[str, Any], where: str) -> None:
    rows, columns = entry.get("rows"), entry.get("columns")
    if set(entry) != {"file", "rows", "columns"}:
        raise _invalid(where, f"table {name} has fields other than file, rows and columns")
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise _invalid(where, f"table {name} has an invalid row count {_short(rows)}")
    if not isinstance(columns, list):
        raise _invalid(where, f"table {name} has no list of columns")
    names = []
    for column in columns:
        if not (
            isinstance(column, Mapping)
            and set(column) == {"name", "type"}
            and isinstance(column["name"], str)
            and 0 < len(column["name"]) <= _MAX_TEXT
            and isinstance(column["type"], str)
        ):
            raise _invalid(where, f"table {name} has a malformed column {_short(column)}")
        if not COLUMN_TYPE.fullmatch(column["type"]):
            raise _invalid(
                where,
                f"table {name} column {_short(column['name'])} has the unsupported type "
                f"{_short(column['type'])}",
            )
        names.append(column["name"])
    if len(set(names)) != len(names):
        raise _invalid(where, f"table {name} names a column twice")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ValueError(f"the key {_short(twice)} appears twice in one object")
    return document


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {_short(text)} is out of range")
    return value


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` outside strings, in one vectorised pass."""
    bare = _JSON_STRING.sub("", text).encode("utf-8")
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = np.isin(codes, (0x5B, 0x7B)).astype(np.int64) - np.isin(codes, (0x5D, 0x7D))
    return int(np.cumsum(steps).max()) if steps.size else 0


def parse_json(data: bytes, what: str, limit: int = MAX_JSON_DEPTH) -> Any:
    """Decode strict JSON: UTF-8, nesting at most ``limit`` deep, no repeated keys, no
    NaN, infinity or out-of-range numbers.

    Raises
    ------
    ValueError
        Naming what is wrong (``what`` starts the message).

    Examples
    --------
    >>> parse_json(b'{"a": 1, "a": 2}', "manifest.json")
    Traceback (most recent call last):
    ...
    ValueError: manifest.json is not valid JSON: the key 'a' appears twice in one object
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{what} is not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    depth = _depth(text)
    if depth > limit:
        raise ValueError(f"{what} nests {depth} levels deep, more than the {limit} allowed")
    try:
        return json.loads(
            text,
            object_pairs_hook=_unique_object,
            parse_float=_finite_float,
            parse_constant=_refuse_constant,
        )
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{what} is not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except (ValueError, RecursionError) as error:
        # Repeated keys, NaN, 1e999, integers of more than 4300 digits.
        raise ValueError(f"{what} is not valid JSON: {error}") from None


def parse_manifest(data: bytes, where: str) -> dict[str, Any]:
    """Decode and validate ``manifest.json``; raise before anything else is trusted.

    Parameters
    ----------
    data : bytes
        The file's content.
    where : str
        The artifact's path as the user gave it, for error messages.

    Returns
    -------
    dict
        The manifest, with every field checked for presence and type.

    Raises
    ------
    ArtifactIntegrityError
        Not UTF-8 JSON, not an anomaly manifest, or a field missing or malformed.
    ArtifactVersionError
        A format version this package does not read.

    Examples
    --------
    >>> parse_manifest(b"[1, 2]", "model")
    Traceback (most recent call last):
    ...
    anomaly.errors.ArtifactIntegrityError: model: manifest.json is not a JSON object
    """
    try:
        document = parse_json(data, MANIFEST_FILE)
    except ValueError as error:
        raise ArtifactIntegrityError(f"{where}: {error}") from None
    if not isinstance(document, dict):
        raise _invalid(where, "is not a JSON object")
    if document.get("format") != FORMAT_NAME:
        raise _invalid(
            where, f"is not an anomaly artifact manifest ('format' is not {FORMAT_NAME!r})"
        )
    _check_format_version(document, where)
    _require(document, "created", str, where)
    try:
        datetime.fromisoformat(document["created"])
    except ValueError:
        raise _invalid(
            where, f"'created' is not an ISO 8601 time: {_short(document['created'])}"
        ) from None
    _require(document, "package", dict, where)
    _require(document, "dependencies", dict, where)
    _require(document, "model_class", str, where)
    for key in ("config", "metadata", "arrays", "tables", "files"):
        _require(document, key, dict, where)
    for name in CHECKED_DEPENDENCIES:
        if _major(document["dependencies"].get(name)) is None:
            raise _invalid(where, f"does not record a usable {name} version")
    try:
        check_metadata(document["metadata"])
    except ValueError as error:
        raise ArtifactSchemaError(where, MANIFEST_FILE, *str(error).split(": ", 1)) from None
    _check_files(document["files"], where)
    _check_contents(document, where)
    return document


def _major(version: object) -> int | None:
    match = re.match(r"(\d+)(?:\.|$)", version) if isinstance(version, str) else None
    return int(match.group(1)) if match else None


def dependency_drift(manifest: Mapping[str, Any]) -> list[str]:
    """Describe each checked library whose major version differs from the recorded one.

    Examples
    --------
    >>> recorded = dependency_versions()
    >>> dependency_drift({"dependencies": recorded})
    []
    """
    installed = dependency_versions()
    drift = []
    for name in CHECKED_DEPENDENCIES:
        recorded = manifest["dependencies"].get(name)
        if _major(recorded) != _major(installed[name]):
            drift.append(f"{name} {recorded} (installed: {installed[name]})")
    return drift


def package_drift(manifest: Mapping[str, Any]) -> str | None:
    """The anomaly version that wrote ``manifest`` when it is of another release series
    than this package (before 1.0 the minor version, from 1.0 the major), else None.

    Releases of another series may score differently (a detector's statistic, the
    ensemble's combination): an artifact's calibrations and alert threshold were
    fitted by the scoring of the release that wrote it. Patch releases do not move
    scores. An unreadable recorded version counts as another series.

    Examples
    --------
    >>> package_drift({"package": {"name": "anomaly", "version": __version__}}) is None
    True
    >>> package_drift({"package": {"name": "anomaly", "version": "0.0.1"}})
    '0.0.1'
    """
    written = manifest["package"].get("version")
    if _release_series(written) == _release_series(__version__):
        return None
    return written if isinstance(written, str) else _short(written)


def _release_series(version: object) -> tuple[int, ...] | None:
    """``(0, minor)`` before 1.0, ``(major,)`` from it; None if unreadable."""
    match = re.match(r"(\d+)\.(\d+)", version) if isinstance(version, str) else None
    if match is None:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    return (0, minor) if major == 0 else (major,)
