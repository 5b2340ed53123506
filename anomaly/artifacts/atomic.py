"""Replace a directory or file so that no reader ever sees it half written.

Everything is built in a hidden sibling (same file system, so ``rename`` is atomic),
flushed to disk, and only then renamed into place. A directory cannot be renamed over
a non-empty one, so an existing directory is first renamed aside and deleted once the
new one is in place; a reader during that swap finds the old version, the new version,
or briefly nothing, never a mixture. If the process dies, hidden ``.NAME.tmp-*`` or
``.NAME.old-*`` siblings may remain; they are safe to delete.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

__all__ = ["replace_directory", "replace_file"]


def _sibling(path: Path, tag: str) -> Path:
    return path.parent / f".{path.name}.{tag}-{secrets.token_hex(6)}"


def _fsync(path: Path) -> None:
    # Directories are flushed too, so that the renames themselves survive a crash;
    # Windows cannot open a directory for that, and flushes its metadata itself.
    is_directory = path.is_dir()
    if is_directory and os.name == "nt":
        return
    descriptor = os.open(path, os.O_RDONLY if is_directory else os.O_RDWR)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_directory(path: Path, build: Callable[[Path], None]) -> None:
    """Create or replace the directory ``path`` with what ``build`` writes into a temp dir.

    Parameters
    ----------
    path : Path
        Target directory; its parent is created if needed. The caller decides whether an
        existing ``path`` may be replaced.
    build : callable
        Called with an empty directory to fill. If it raises, the temporary directory is
        removed, ``path`` is left untouched and the error propagates.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     target = Path(tmp) / "model"
    ...     replace_directory(target, lambda d: (d / "a.txt").write_text("1"))
    ...     sorted(p.name for p in target.iterdir())
    ['a.txt']
    """
    # Normalised, so that "." or "model/.." still name a directory with a parent.
    path = Path(os.path.abspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling(path, "tmp")
    # mkdir (unlike mkdtemp) applies the umask, so the artifact gets normal permissions.
    staging.mkdir()
    try:
        build(staging)
        for child in staging.iterdir():
            _fsync(child)
        _fsync(staging)
        if os.path.lexists(path):
            retired = _sibling(path, "old")
            os.rename(path, retired)
            try:
                os.rename(staging, path)
            except BaseException:
                os.rename(retired, path)
                raise
            # The new version is in place; a leftover old copy is only clutter.
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync(path.parent)


def replace_file(path: Path, build: Callable[[Path], None]) -> None:
    """Create or replace the file ``path`` with what ``build`` writes to a temp path.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     target = Path(tmp) / "model.zip"
    ...     replace_file(target, lambda p: p.write_bytes(b"PK"))
    ...     target.read_bytes()
    b'PK'
    """
    path = Path(os.path.abspath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = _sibling(path, "tmp")
    try:
        build(staging)
        _fsync(staging)
        os.replace(staging, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            staging.unlink()
        raise
    _fsync(path.parent)
