"""One-file artifacts: a zip of the artifact directory, and its safe extraction.

Zip rather than tar.gz: its central directory sits at the end, so a truncated file is
detected before anything is extracted; every entry carries a CRC-32; it has no hard
links or device entries to begin with; and it is the container ``arrays.npz`` already
uses, so a reader in another language needs a single library. Entries are stored
uncompressed (the arrays are floats and the tables already compressed), in a fixed
order with fixed metadata, so packing the same directory always gives the same bytes.

Extraction trusts nothing in the archive: each entry name is checked before any byte is
written, every entry goes into a fresh temporary directory, and the result is then
verified against the manifest like any artifact directory.
"""

from __future__ import annotations

import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from anomaly.artifacts.atomic import replace_file
from anomaly.artifacts.integrity import verify_directory
from anomaly.artifacts.manifest import MANIFEST_FILE, NAME_PATTERN
from anomaly.artifacts.zipentry import fixed_zipinfo
from anomaly.errors import ArtifactError, ArtifactIntegrityError

__all__ = ["extracted_archive", "pack_artifact"]

_ENCRYPTED = 0x1
_CHUNK = 1024 * 1024
#: End-of-central-directory record: signature, then 18 bytes ending in the comment
#: length, which is zero in every archive pack_artifact writes.
_END_RECORD = b"PK\x05\x06"
_END_RECORD_SIZE = 22
_NON_REGULAR = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
}
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)


def _is_artifact_archive(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            return MANIFEST_FILE in archive.namelist()
    except _CORRUPT:
        return False


def pack_artifact(directory: str | Path, archive_path: str | Path) -> Path:
    """Pack a verified artifact directory into one deterministic ``.zip`` file.

    Parameters
    ----------
    directory : str or Path
        An artifact directory written by :func:`write_artifact`; it is verified first,
        so a changed artifact is never packed.
    archive_path : str or Path
        The zip to write (``.zip`` by convention). Written atomically; an existing file
        is replaced only if it is itself an artifact archive.

    Returns
    -------
    Path
        ``archive_path``.

    Raises
    ------
    ArtifactIntegrityError
        ``directory`` fails verification.
    ArtifactError
        ``archive_path`` is a directory or a file that is not an artifact archive.

    Examples
    --------
    >>> pack_artifact("models/default", "default-model.zip")  # doctest: +SKIP
    PosixPath('default-model.zip')
    """
    directory, archive_path = Path(directory), Path(archive_path)
    manifest = verify_directory(directory, str(directory))
    if archive_path.is_dir() or (archive_path.exists() and not _is_artifact_archive(archive_path)):
        raise ArtifactError(
            f"{archive_path} exists and is not an artifact archive; refusing to overwrite it"
        )
    # The manifest first, so a streaming reader can learn the layout before the data.
    names = [MANIFEST_FILE, *sorted(manifest["files"])]

    def build(staging: Path) -> None:
        with open(staging, "xb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as archive:
            for name in names:
                source_path = directory / name
                info = fixed_zipinfo(name, size=source_path.stat().st_size)
                with open(source_path, "rb") as source, archive.open(info, "w") as target:
                    shutil.copyfileobj(source, target, _CHUNK)

    replace_file(archive_path, build)
    return archive_path


def _refusal(info: zipfile.ZipInfo, seen: set[str]) -> str | None:
    """Why an entry must not be extracted, or ``None`` if it is a plain root-level file."""
    name = info.orig_filename
    if "\x00" in name:
        return "has a NUL byte in its name"
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "has an absolute path"
    if ".." in re.split(r"[/\\]", name):
        return "has a '..' component that would escape the extraction directory"
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind in _NON_REGULAR or name.endswith("/"):
        return f"is {_NON_REGULAR.get(kind, 'a directory')}, not a regular file"
    if kind not in (0, stat.S_IFREG):
        return "is not a regular file"
    if info.flag_bits & _ENCRYPTED:
        return "is encrypted"
    # Stored entries cannot expand beyond the archive's own size: no zip bombs.
    if info.compress_type != zipfile.ZIP_STORED:
        return "is compressed; artifact archives store entries uncompressed (see pack_artifact)"
    if not NAME_PATTERN.fullmatch(name):
        return "is not a plain file name at the archive root"
    # Case-insensitive, so that two entries cannot land on one file on macOS or Windows.
    if name.casefold() in seen:
        return "is a duplicate name"
    seen.add(name.casefold())
    return None


def _open_archive(archive_path: Path, where: str) -> zipfile.ZipFile:
    """Open a zip that is whole: nothing cut off its end, nothing prepended.

    A truncated archive would otherwise open: ``zipfile`` searches the tail for an
    end-of-central-directory record and can find the one of ``arrays.npz``, itself an
    uncompressed zip inside the archive, and then list the npz's members as the
    archive's. Requiring the record at the very end and the first entry at offset 0
    rules that out.
    """

    def refuse(problem: str) -> ArtifactIntegrityError:
        return ArtifactIntegrityError(
            f"{where}: not a readable zip archive (truncated or corrupt): {problem}"
        )

    try:
        with open(archive_path, "rb") as handle:
            handle.seek(max(0, archive_path.stat().st_size - _END_RECORD_SIZE))
            tail = handle.read()
        archive = zipfile.ZipFile(archive_path)
    except _CORRUPT as error:
        raise refuse(str(error)) from None
    infos = archive.infolist()
    if not (tail.startswith(_END_RECORD) and tail.endswith(b"\0\0")):
        archive.close()
        raise refuse("it does not end with a zip end-of-central-directory record")
    if not infos or min(info.header_offset for info in infos) != 0:
        archive.close()
        raise refuse("its entries do not start at the beginning of the file")
    return archive


@contextmanager
def extracted_archive(archive_path: Path, where: str) -> Iterator[Path]:
    """Extract an artifact archive into a temporary directory, removed on exit.

    Every entry name and type is checked before anything is written, so nothing is
    ever written outside the temporary directory. The extracted files are not yet
    verified against the manifest: the caller does that.

    Raises
    ------
    ArtifactIntegrityError
        Truncated or corrupt archive (including a CRC mismatch), or an entry that is
        absolute, has a ``..`` component, is a link, device or directory, is not at the
        root, is encrypted or compressed, or repeats a name.
    """
    with tempfile.TemporaryDirectory(prefix="anomaly-artifact-") as temporary:
        root = Path(temporary)
        with _open_archive(archive_path, where) as archive:
            infos = archive.infolist()
            seen: set[str] = set()
            for info in infos:
                problem = _refusal(info, seen)
                if problem:
                    raise ArtifactIntegrityError(
                        f"{where}: archive entry {info.orig_filename!r} {problem}; "
                        "refusing to extract"
                    )
            for info in infos:
                # The name is a plain file name (checked above), so this stays in root.
                target = root / info.filename
                try:
                    with archive.open(info) as source, open(target, "xb") as sink:
                        shutil.copyfileobj(source, sink, _CHUNK)
                except _CORRUPT as error:
                    raise ArtifactIntegrityError(
                        f"{where}: archive entry {info.filename!r} is corrupt: {error}"
                    ) from None
        yield root
