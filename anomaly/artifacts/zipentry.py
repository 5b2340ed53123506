"""Zip entries whose bytes depend only on their name and content.

``zipfile`` otherwise takes an entry's time from the clock or the source file's mtime
(``writestr``, ``write``) and its host system and permissions from the platform, so
two writes of the same model could differ. Used for ``arrays.npz`` and for packed
artifacts.
"""

from __future__ import annotations

import stat
import zipfile

__all__ = ["ZIP_EPOCH", "fixed_zipinfo"]

#: The earliest time a zip entry can record (MS-DOS epoch), used for every entry.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_UNIX = 3


def fixed_zipinfo(name: str, size: int | None = None) -> zipfile.ZipInfo:
    """An uncompressed zip entry with a fixed time, host system and permissions.

    Parameters
    ----------
    name : str
        Entry name.
    size : int, optional
        Content length, when known in advance; it decides whether ``zipfile`` writes
        zip64 headers, so it must be the same on every write.

    Examples
    --------
    >>> fixed_zipinfo("manifest.json").date_time
    (1980, 1, 1, 0, 0, 0)
    """
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = _UNIX
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    if size is not None:
        info.file_size = size
    return info
