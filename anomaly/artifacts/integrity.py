"""Check an artifact directory against its manifest before any file is parsed.

Order matters: the manifest is validated first (including its format version), then
the directory must hold exactly the manifest's files, as regular files with the
recorded sizes and sha256 digests. Only then may the array and table readers run.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Any

from anomaly.artifacts.manifest import MANIFEST_FILE, parse_manifest
from anomaly.errors import ArtifactIntegrityError, describe_items

__all__ = ["file_record", "read_manifest", "sha256_file", "verify_directory"]

#: A manifest holds configuration, not data; anything larger is not ours.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so large arrays need no extra memory.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as handle:
    ...     sha256_file(Path(handle.name))[:16]
    'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: Path) -> dict[str, Any]:
    """The manifest's record of one file: ``{"sha256": hex, "size": bytes}``."""
    return {"sha256": sha256_file(path), "size": path.stat().st_size}


def _entries(directory: Path, where: str) -> set[str]:
    names = set()
    with os.scandir(directory) as scan:
        for entry in scan:
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISLNK(mode):
                # A link could point the verified name at any file on the machine.
                raise ArtifactIntegrityError(f"{where}: {entry.name} is a symbolic link")
            if not stat.S_ISREG(mode):
                raise ArtifactIntegrityError(f"{where}: {entry.name} is not a regular file")
            names.add(entry.name)
    return names


def read_manifest(directory: Path, where: str) -> dict[str, Any]:
    """Read and validate ``manifest.json`` of an artifact directory.

    Raises
    ------
    ArtifactIntegrityError
        No manifest, or one that is not a valid anomaly manifest.
    ArtifactVersionError
        A format version this package does not read.
    """
    path = directory / MANIFEST_FILE
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise ArtifactIntegrityError(
            f"{where}: {MANIFEST_FILE} is missing; this is not an anomaly model artifact"
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise ArtifactIntegrityError(f"{where}: {MANIFEST_FILE} is not a regular file")
    if info.st_size > MAX_MANIFEST_BYTES:
        raise ArtifactIntegrityError(
            f"{where}: {MANIFEST_FILE} is {info.st_size} bytes, larger than any manifest"
        )
    return parse_manifest(path.read_bytes(), where)


def verify_directory(directory: Path, where: str) -> dict[str, Any]:
    """Verify an artifact directory; return its manifest if every check passes.

    Parameters
    ----------
    directory : Path
        The artifact directory (or the temporary extraction of an archive).
    where : str
        The artifact's path as the user gave it, for error messages.

    Raises
    ------
    ArtifactIntegrityError
        Manifest missing or invalid; a listed file missing, of the wrong size or
        sha256; an unlisted file; a link or other non-regular entry.
    ArtifactVersionError
        A format version this package does not read.
    """
    manifest = read_manifest(directory, where)
    files = manifest["files"]
    present = _entries(directory, where)
    missing = sorted(set(files) - present)
    if missing:
        raise ArtifactIntegrityError(f"{where}: missing file(s) {describe_items(missing)}")
    extra = sorted(present - set(files) - {MANIFEST_FILE})
    if extra:
        raise ArtifactIntegrityError(
            f"{where}: file(s) not listed in the manifest: {describe_items(extra)}; "
            "an artifact holds only the files its manifest lists"
        )
    for name in sorted(files):
        record = files[name]
        size = (directory / name).stat().st_size
        if size != record["size"]:
            raise ArtifactIntegrityError(
                f"{where}: {name} is {size} bytes, the manifest says {record['size']} "
                "(truncated or changed)"
            )
        digest = sha256_file(directory / name)
        if digest != record["sha256"]:
            raise ArtifactIntegrityError(
                f"{where}: {name} has sha256 {digest}, the manifest says {record['sha256']} "
                "(the file was changed after the artifact was written)"
            )
    return manifest
