"""Replace a directory or file so that no reader ever sees it half written.

Everything is built in a hidden sibling (same file system, so ``rename`` is atomic),
flushed to disk, and only then renamed into place. A directory cannot be renamed over
a non-empty one, so an existing directory is first renamed aside and deleted once the
new one is in place; a reader during that swap finds the old version, the new version,
or briefly nothing, never a mixture.

Siblings are named ``.NAME.tmp-<host>-<pid>-<random>`` (``.old-`` for a retired
version). If the process dies they remain; the next replacement of ``NAME`` deletes
those whose process, on this machine, is gone (:func:`remove_stale_siblings`). A failure
to read or write (disk full, permission denied) is raised as
:class:`~anomaly.errors.InputOutputError` naming the path, after the partial sibling
is removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

from anomaly.errors import InputOutputError

__all__ = [
    "HOST",
    "abandoned",
    "remove_stale_siblings",
    "replace_directory",
    "replace_file",
    "temporary_sibling",
]

#: This machine, as the names of temporary files record it (letters and digits only).
HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16] or "host"
_SIBLING = re.compile(
    r"\.(?P<name>.+)\.(?:tmp|old)-(?P<host>[A-Za-z0-9]+)-(?P<pid>[0-9]+)-[0-9a-f]{12}"
)


def _sibling(path: Path, tag: str) -> Path:
    return path.parent / f".{path.name}.{tag}-{HOST}-{os.getpid()}-{secrets.token_hex(6)}"


def temporary_sibling(path: str | os.PathLike) -> Path:
    """A fresh hidden name beside ``path`` for a file written before it is renamed to
    ``path``, named so that :func:`remove_stale_siblings` can tell when its writer died.

    Examples
    --------
    >>> temporary_sibling("out/leads.csv").name.startswith(".leads.csv.tmp-")
    True
    """
    return _sibling(Path(path), "tmp")


def abandoned(host: str, pid: int) -> bool:
    """Whether a temporary file named with ``host`` and ``pid`` was left by a process
    of this machine that is gone (a live process's, or another machine's on a shared
    file system, is not: it may still be written).

    Examples
    --------
    >>> abandoned(HOST, os.getpid()), abandoned("elsewhere", 999999999)
    (False, False)
    """
    return host == HOST and not _alive(pid)


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would signal the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: it exists
        return True
    return True


def remove_stale_siblings(path: str | os.PathLike) -> list[Path]:
    """Delete the hidden siblings of ``path`` that a dead process of this machine left.

    Siblings of a live process (a concurrent writer), of another machine (a shared
    file system) or named otherwise are kept.

    Returns
    -------
    list of Path
        What was deleted.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     Path(tmp, f".model.tmp-{HOST}-999999999-0123456789ab").mkdir()
    ...     [p.name[:10] for p in remove_stale_siblings(Path(tmp) / "model")]
    ['.model.tmp']
    """
    path = Path(os.path.abspath(path))
    removed = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _SIBLING.fullmatch(entry.name)
        if not match or match["name"] != path.name:
            continue
        if not abandoned(match["host"], int(match["pid"])):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry)
    return removed


def _io_error(path: Path, error: OSError) -> InputOutputError:
    if isinstance(error, InputOutputError):
        return error
    where = error.filename if error.filename else path
    return InputOutputError(str(where), error.strerror or str(error))


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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_siblings(path)
        staging = _sibling(path, "tmp")
        # mkdir (unlike mkdtemp) applies the umask, so the artifact gets normal permissions.
        staging.mkdir()
    except OSError as error:
        raise _io_error(path, error) from error
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
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise _io_error(path, error) from error
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        _fsync(path.parent)
    except OSError as error:
        raise _io_error(path.parent, error) from error


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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_siblings(path)
    except OSError as error:
        raise _io_error(path, error) from error
    staging = _sibling(path, "tmp")
    try:
        build(staging)
        _fsync(staging)
        os.replace(staging, path)
        _fsync(path.parent)
    except BaseException as error:
        with contextlib.suppress(OSError):
            staging.unlink()
        if isinstance(error, OSError):
            raise _io_error(path, error) from error
        raise
