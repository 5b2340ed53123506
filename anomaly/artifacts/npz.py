"""Named numeric arrays in ``arrays.npz``: written byte-reproducibly, read without pickle.

The layout is exactly ``np.savez``'s (one ``<name>.npy`` member per array, stored
uncompressed, with the zip64 headers numpy always writes), but ``np.savez`` leaves the
bytes to chance: members follow argument order, the host system and permissions come
from ``zipfile``'s platform defaults, and it pickles object arrays unless told not to.
Here members are in name order with fixed entry metadata, and only numeric arrays are
accepted. Arrays are normalised to little-endian, C order, so a reader in another
language needs no byte swapping or transposition.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from anomaly.artifacts.manifest import ARRAYS_FILE, NUMERIC_DTYPE
from anomaly.artifacts.zipentry import fixed_zipinfo
from anomaly.errors import ArtifactIntegrityError

__all__ = ["describe_array", "normalise_array", "read_arrays", "write_arrays"]


def normalise_array(name: str, value: np.ndarray) -> np.ndarray:
    """Check that ``value`` is a numeric array and return it little-endian, C-ordered.

    Examples
    --------
    >>> normalise_array("x", np.arange(3, dtype=">i4")).dtype.str
    '<i4'
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(f"array {name!r} must be a numpy array, got {type(value).__name__}")
    array = value.astype(value.dtype.newbyteorder("<"), copy=False)
    if not NUMERIC_DTYPE.fullmatch(array.dtype.str):
        raise ValueError(
            f"array {name!r} has dtype {value.dtype}; only bool, integer and float (up to "
            "64-bit) arrays can be stored (put strings in a table)"
        )
    return array if array.flags.c_contiguous else np.array(array, order="C")


def describe_array(array: np.ndarray) -> dict[str, Any]:
    """The manifest entry of an array: numpy dtype string and shape.

    Examples
    --------
    >>> describe_array(np.zeros((2, 3), dtype=np.float32))
    {'dtype': '<f4', 'shape': [2, 3]}
    """
    return {"dtype": array.dtype.str, "shape": list(array.shape)}


def write_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write normalised ``arrays`` to a new ``.npz`` file at ``path``, deterministically.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_arrays(Path(tmp) / "a.npz", {"x": np.arange(3)})
    ...     sorted(np.load(Path(tmp) / "a.npz").files)
    ['x']
    """
    with open(path, "xb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            with archive.open(fixed_zipinfo(name + ".npy"), "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arrays[name], allow_pickle=False)


def read_arrays(path: Path, expected: Mapping[str, Any], where: str) -> dict[str, np.ndarray]:
    """Load the arrays listed in the manifest, refusing pickles and anything unlisted.

    Parameters
    ----------
    path : Path
        The verified ``arrays.npz``.
    expected : mapping
        The manifest's ``arrays`` field: ``{name: {"dtype": str, "shape": [int]}}``.
    where : str
        The artifact's path as the user gave it, for error messages.

    Raises
    ------
    ArtifactIntegrityError
        The file is not an npz, holds an object (pickled) or other non-numeric array,
        or its arrays differ from the manifest in name, dtype or shape.
    """

    def refuse(problem: str) -> ArtifactIntegrityError:
        return ArtifactIntegrityError(f"{where}: {ARRAYS_FILE} {problem}")

    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise refuse(f"cannot be read without executing code or is corrupt: {error}") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise refuse("is a single .npy array, not an .npz archive of named arrays")
    with loaded:
        names = list(loaded.files)
        if len(names) != len(set(names)):
            raise refuse("holds two arrays with the same name")
        if set(names) != set(expected):
            odd = sorted(set(names) ^ set(expected))
            raise refuse(f"does not hold the arrays listed in the manifest: {', '.join(odd)}")
        arrays = {}
        for name in sorted(expected):
            try:
                array = loaded[name]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
                # numpy refuses object arrays here, before any pickle is read.
                raise refuse(f"array {name!r} was refused: {error}") from None
            if not NUMERIC_DTYPE.fullmatch(array.dtype.str):
                raise refuse(f"array {name!r} has non-numeric dtype {array.dtype}")
            if describe_array(array) != expected[name]:
                raise refuse(
                    f"array {name!r} is {describe_array(array)}, the manifest says {expected[name]}"
                )
            arrays[name] = array
    return arrays
