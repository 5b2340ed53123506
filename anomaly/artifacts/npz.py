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

import math
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

    Each member's NPY header is read and compared with the manifest (dtype, shape, C
    order) and with the member's stored size *before* any array is allocated, so a
    header claiming a huge shape is refused instead of exhausting memory, and an object
    (pickled) array is refused before a byte of its pickle is read.

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
        The file is not an npz of stored NPY members, holds an object (pickled) or other
        non-numeric array, or its arrays differ from the manifest in name, dtype, shape
        or size.
    """

    def refuse(problem: str) -> ArtifactIntegrityError:
        return ArtifactIntegrityError(f"{where}: {ARRAYS_FILE} {problem}")

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = [member.filename for member in members]
            if len(names) != len(set(names)):
                raise refuse("holds two members with the same name")
            stems = [name.removesuffix(".npy") for name in names]
            odd = sorted(
                {n for n in names if not n.endswith(".npy")} | (set(stems) ^ set(expected))
            )
            if odd:
                shown = ", ".join(odd[:5]) + (f" and {len(odd) - 5} more" if len(odd) > 5 else "")
                raise refuse(f"does not hold the arrays listed in the manifest: {shown[:300]}")
            return {
                stem: _read_member(archive, member, stem, expected[stem], refuse)
                for stem, member in sorted(zip(stems, members, strict=True))
            }
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
        raise refuse(
            f"cannot be read without executing code or is corrupt: {str(error)[:200]}"
        ) from None


def _read_member(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    name: str,
    expected: Mapping[str, Any],
    refuse,
) -> np.ndarray:
    if member.compress_type != zipfile.ZIP_STORED or member.flag_bits & 0x1:
        raise refuse(f"array {name!r} is compressed or encrypted; arrays are stored plainly")
    with archive.open(member) as stream:
        try:
            version = np.lib.format.read_magic(stream)
            read_header = {
                (1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0,
            }.get(version)
            if read_header is None:
                raise ValueError(f"NPY format version {version} is not 1.0 or 2.0")
            shape, fortran_order, dtype = read_header(stream)
        except (ValueError, TypeError, SyntaxError) as error:
            raise refuse(f"array {name!r} has no valid NPY header: {str(error)[:200]}") from None
        if not NUMERIC_DTYPE.fullmatch(dtype.str):
            raise refuse(
                f"array {name!r} has non-numeric dtype {dtype.str} (an object array would "
                "need unpickling); it was refused before its data were read"
            )
        found = {"dtype": dtype.str, "shape": list(shape)}
        if found != dict(expected) or fortran_order:
            raise refuse(
                f"array {name!r} is {found}{' in Fortran order' if fortran_order else ''}, "
                f"the manifest says {dict(expected)}"
            )
        nbytes = math.prod(shape) * dtype.itemsize
        if member.file_size != stream.tell() + nbytes:
            raise refuse(
                f"array {name!r} should hold {nbytes} bytes of data, its member holds "
                f"{member.file_size - stream.tell()}"
            )
        array = np.empty(shape, dtype=dtype)
        buffer = memoryview(array.reshape(-1).view(np.uint8))
        filled = 0
        while filled < nbytes:
            count = stream.readinto(buffer[filled:])
            if not count:
                raise refuse(f"array {name!r} is truncated")
            filled += count
        # Reaching the member's end makes zipfile compare its CRC-32.
        if stream.read(1):
            raise refuse(f"array {name!r} has data beyond its shape")
    return array
