"""The work directory of a batch run: where each step leaves its finished results.

::

    WORK/job.json                  what the run is (inputs, window, model, partitions)
    WORK/scan/unit-00003/          one scan unit's rows, split by partition
        rows-00007.arrows          rows of the window and the months before it
        keys-00007.arrows          one row per series key seen only in other months
    WORK/panels/part-00007/        pass 1: the partition's panel and context share
    WORK/evidence/part-00007/      pass 2: the partition's evidence
    WORK/model/                    the model artifact, when given as an object

Every directory is written beside its final name and renamed into place when complete
(:func:`publish`), so a directory that exists is finished: a run killed midway and
started again with the same work directory skips what exists. (Files are not flushed
to disk one by one, which would cost more than the work they keep: the directory
survives a killed process, not a power cut.) Hidden staging folders a killed run
left (``.part-00007.tmp-*``) are deleted when the next run claims the directory.

A work directory belongs to one job, identified in ``job.json`` by the content of its
inputs (path, size and sha256 of every file's bytes, not the modification time), the
window, the model and the partitioning; another job — including the same command
after an input's bytes changed — is refused rather than mixed with it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from anomaly.artifacts import replace_file
from anomaly.artifacts.atomic import HOST, abandoned
from anomaly.batch.errors import BatchError

logger = logging.getLogger(__name__)

JOB_FILE = "job.json"
#: Suffix of the scan's split files: Arrow IPC streams (LZ4), written and read at memory speed.
SPLIT_SUFFIX = "arrows"
#: Version of this layout, part of a job's identity: a work directory left by a version
#: that wrote other files is refused, never half-reused.
LAYOUT = 3


@dataclass(frozen=True)
class WorkDir:
    """Paths of a work directory (plain data: sent to workers as is).

    Examples
    --------
    >>> WorkDir("/tmp/work").panel_dir(7).name
    'part-00007'
    """

    root: str
    #: A temporary directory, removed when the run ends (not one the user named, which
    #: is kept for a rerun to resume from).
    temporary: bool = False

    @property
    def path(self) -> Path:
        return Path(self.root)

    def unit_dir(self, unit: int) -> Path:
        """Rows of scan unit ``unit``, split by partition."""
        return self.path / "scan" / f"unit-{unit:05d}"

    def rows_files(self, partition: int) -> list[Path]:
        """Every scan unit's rows of ``partition``, in unit order."""
        return sorted(self.path.glob(f"scan/unit-*/rows-{partition:05d}.{SPLIT_SUFFIX}"))

    def keys_files(self, partition: int) -> list[Path]:
        """Every scan unit's keys-only rows of ``partition``, in unit order."""
        return sorted(self.path.glob(f"scan/unit-*/keys-{partition:05d}.{SPLIT_SUFFIX}"))

    def panel_dir(self, partition: int) -> Path:
        """Pass 1 of ``partition``: its panel and its share of the context."""
        return self.path / "panels" / f"part-{partition:05d}"

    def evidence_dir(self, partition: int) -> Path:
        """Pass 2 of ``partition``: its evidence."""
        return self.path / "evidence" / f"part-{partition:05d}"

    @property
    def model_dir(self) -> Path:
        """Where a model given as an object is saved for the workers."""
        return self.path / "model"

    def recorded_partitions(self) -> int | None:
        """The partition count of the job already in this directory, if any."""
        path = self.path / JOB_FILE
        if not path.exists():
            return None
        return int(json.loads(path.read_text())["n_partitions"])

    def remove_leftovers(self) -> list[Path]:
        """Delete the hidden staging folders a killed run left (``.part-*.tmp-*``).

        A directory that exists is finished (:func:`publish`); a hidden ``.NAME.tmp-*``
        (or ``.NAME.old-*``) beside it is a step that never finished. Called when a
        run claims the directory, before any of its tasks starts: one run uses a work
        directory at a time.

        Returns
        -------
        list of Path
            What was deleted.
        """
        removed = []
        for folder in (self.path, *(self.path / name for name in ("scan", "panels", "evidence"))):
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if _leftover(entry):
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)
                    removed.append(entry)
        return removed

    def claim(self, job: dict) -> None:
        """Record ``job`` here, or check that it is the job already recorded.

        Raises
        ------
        BatchError
            The directory holds the work of another job.
        """
        path = self.path / JOB_FILE
        self.path.mkdir(parents=True, exist_ok=True)
        text = json.dumps(job, indent=2, sort_keys=True)
        if path.exists():
            try:
                recorded = json.loads(path.read_text())
            except (ValueError, UnicodeDecodeError):
                recorded = None
            if not isinstance(recorded, dict):
                raise BatchError(
                    f"the work directory {self.root} holds an unreadable {JOB_FILE}; "
                    "use a new work directory or delete this one"
                )
            if recorded != json.loads(text):
                changed = sorted(
                    k for k in job.keys() | recorded.keys() if job.get(k) != recorded.get(k)
                )
                raise BatchError(
                    f"the work directory {self.root} holds another job's work (it differs in "
                    f"{', '.join(changed)}{_changed_inputs(recorded, job)}); its finished "
                    "steps cannot be reused: use a new work directory or delete this one"
                )
            self.remove_leftovers()
            return
        if any(not _leftover(entry) for entry in self.path.iterdir()):
            raise BatchError(
                f"the work directory {self.root} is not empty and holds no {JOB_FILE}; "
                "use a new or empty directory"
            )
        replace_file(path, lambda p: p.write_text(text))
        self.remove_leftovers()


def _leftover(entry: Path) -> bool:
    """A hidden staging or retired sibling (``.NAME.tmp-*``, ``.NAME.old-*``)."""
    return entry.name.startswith(".") and (".tmp-" in entry.name or ".old-" in entry.name)


def _changed_inputs(recorded: dict, job: dict) -> str:
    """``": the content of FILE changed"`` for the inputs whose identity differs."""
    before = {item[0]: item[1:] for item in recorded.get("inputs") or () if isinstance(item, list)}
    now = {item[0]: item[1:] for item in job.get("inputs") or ()}
    changed = sorted(name for name in before.keys() & now.keys() if before[name] != now[name])
    if not changed:
        return ""
    more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
    return f": the content of {changed[0]}{more} changed"


def publish(folder: Path, build: Callable[[Path], None]) -> None:
    """Create ``folder`` with what ``build`` writes into a sibling, renamed when done.

    If another worker published ``folder`` first (a task run twice), its result is
    kept: both wrote the same thing.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.tmp-{secrets.token_hex(6)}"
    staging.mkdir()
    try:
        build(staging)
        os.rename(staging, folder)
    except OSError:
        if not folder.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def work_directory(path: str | os.PathLike | None, prefix: str) -> Iterator[WorkDir]:
    """The work directory at ``path``, kept; or, without one, a temporary directory
    removed afterwards, whatever happens.

    A temporary directory is named ``<prefix><host>-<pid>-<random>`` in ``TMPDIR``.
    A killed process cannot remove its own (a training read leaves gigabytes), so the
    temporary directories of processes of this machine that are gone are removed
    first (:func:`remove_abandoned`).
    """
    if path is not None:
        yield WorkDir(str(Path(path).resolve()))
        return
    remove_abandoned(Path(tempfile.gettempdir()))
    folder = tempfile.mkdtemp(prefix=f"{prefix}{HOST}-{os.getpid()}-")
    try:
        yield WorkDir(folder, temporary=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


#: A temporary work directory (:func:`work_directory`): ``anomaly-<job>-<host>-<pid>-...``.
_TEMPORARY = re.compile(r"anomaly-[a-z]+-(?P<host>[A-Za-z0-9]+)-(?P<pid>[0-9]+)-[A-Za-z0-9_]+")


def remove_abandoned(folder: Path) -> list[Path]:
    """Delete the temporary work directories in ``folder`` that processes of this
    machine left when they were killed (those of live processes, or of other machines
    sharing ``folder``, are kept); each is logged with its size.

    Returns
    -------
    list of Path
        What was deleted.
    """
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if not match or not abandoned(match["host"], int(match["pid"])):
            continue
        if not entry.is_dir() or entry.is_symlink():
            continue
        size = _size(entry)
        shutil.rmtree(entry, ignore_errors=True)
        if entry.exists():  # another user's: not ours to remove
            continue
        logger.warning("removed %s (%.1f GiB), left by a run that was killed", entry, size / 2**30)
        removed.append(entry)
    return removed


def _size(folder: Path) -> int:
    """Bytes of the files under ``folder`` (those that cannot be read not counted)."""
    total = 0
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file():
                total += path.stat().st_size
    return total


@contextmanager
def discarding(work: WorkDir) -> Iterator[Callable[[Path], None]]:
    """``discard(path)``: remove a part of a temporary work directory that the run will
    not read again, in a background thread while the run goes on (removing gigabytes
    takes seconds). A directory the user named is left whole: a rerun resumes from it.

    Leaving the block waits for the removals.

    Examples
    --------
    >>> with discarding(WorkDir("/tmp/work")) as discard:  # not temporary: kept
    ...     discard(Path("/tmp/work/panels"))
    """
    if not work.temporary:
        yield lambda path: None
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="discard") as pool:

        def discard(path: Path) -> None:
            pool.submit(shutil.rmtree, path, ignore_errors=True)

        yield discard
