"""Progress of long steps: a line per step on a terminal, log records otherwise.

A scheduled job's log should not fill with progress output, so progress is drawn only
when standard error is a terminal; elsewhere each step is logged at INFO level, with
the process's memory: the peak so far, how much the step raised it, and what is
resident at its end (:func:`step`, and :func:`logged_step` for the parts of a step).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

logger = logging.getLogger("anomaly.progress")

T = TypeVar("T")


def counted(items: Iterable[T], name: str, total: int) -> Iterator[T]:
    """Yield ``items``, counting them as ``name: done/total`` (e.g. a pass over partitions).

    Examples
    --------
    >>> list(counted(range(3), "pass 1", 3))
    [0, 1, 2]
    """
    interactive = sys.stderr.isatty()
    started = time.perf_counter()
    logger.info("%s: started (%d)", name, total)
    done = 0
    if interactive:
        print(f"… {name}: 0/{total}", end="", file=sys.stderr, flush=True)
    try:
        for item in items:
            done += 1
            if interactive:
                print(f"\r… {name}: {done}/{total}", end="", file=sys.stderr, flush=True)
            yield item
    except BaseException:
        if interactive:
            print(" failed", file=sys.stderr)
        raise
    elapsed = time.perf_counter() - started
    if interactive:
        print(f"\r✓ {name}: {done}/{total} ({elapsed:.1f} s)", file=sys.stderr)
    logger.info("%s: %d done in %.1f s", name, done, elapsed)


@contextmanager
def step(name: str) -> Iterator[None]:
    """Announce a step and report how long it took.

    Examples
    --------
    >>> with step("ranking"):
    ...     pass
    """
    interactive = sys.stderr.isatty()
    started = time.perf_counter()
    peak_before = peak_memory_gib()
    if interactive:
        print(f"… {name}", end="", file=sys.stderr, flush=True)
    try:
        yield
    except BaseException:
        if interactive:
            print(" failed", file=sys.stderr)
        raise
    elapsed = time.perf_counter() - started
    if interactive:
        print(f"\r✓ {name} ({elapsed:.1f} s)", file=sys.stderr)
    logger.info("%s: done in %.1f s%s", name, elapsed, memory_note(peak_before))


@contextmanager
def logged_step(name: str) -> Iterator[None]:
    """A part of a longer step (the forecaster's fit inside training): logged at INFO
    level with its time and memory like :func:`step`, never drawn on the terminal (the
    enclosing step's line is there).

    Examples
    --------
    >>> with logged_step("training: forecaster fit"):
    ...     pass
    """
    started = time.perf_counter()
    peak_before = peak_memory_gib()
    yield
    elapsed = time.perf_counter() - started
    logger.info("%s: done in %.1f s%s", name, elapsed, memory_note(peak_before))


def memory_note(peak_before: float | None) -> str:
    """``; peak memory so far P GiB (raised by R GiB in this step), N GiB resident now``:
    the log's words on memory at the end of a step that began with peak ``peak_before``.

    The process's peak (max RSS) only grows, so a step that raised it reached exactly
    the new peak; one that did not stayed below the earlier peak. Empty where the
    system reports no peak.

    Examples
    --------
    >>> note = memory_note(0.0)
    >>> note == "" or note.startswith("; peak memory so far")
    True
    """
    peak = peak_memory_gib()
    if peak is None:
        return ""
    note = f"; peak memory so far {peak:.2f} GiB"
    if peak_before is not None:
        raised = peak - peak_before
        note += (
            f" (raised by {raised:.2f} GiB in this step)"
            if raised >= 0.005
            else " (not raised in this step)"
        )
    resident = resident_memory_gib()
    if resident is not None:
        note += f", {resident:.2f} GiB resident now"
    return note


def peak_memory_gib() -> float | None:
    """The peak resident memory of this process so far, in GiB (None where the system
    does not report it).

    Examples
    --------
    >>> peak = peak_memory_gib()
    >>> peak is None or peak > 0
    True
    """
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (2**30 if sys.platform == "darwin" else 2**20)


def resident_memory_gib() -> float | None:
    """The memory this process holds now (resident set), in GiB; None where the system
    does not say (read from ``/proc/self/statm`` on Linux).

    Examples
    --------
    >>> resident = resident_memory_gib()
    >>> resident is None or resident > 0
    True
    """
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def available_memory_gib() -> float | None:
    """Memory the system can give to processes now without swapping (``MemAvailable``
    of ``/proc/meminfo``, in GiB), within this process's cgroup limit if one is set;
    None where the system does not say.

    Examples
    --------
    >>> available = available_memory_gib()
    >>> available is None or available > 0
    True
    """
    try:
        with open("/proc/meminfo") as meminfo:
            fields = dict(line.split(":", 1) for line in meminfo)
        available = int(fields["MemAvailable"].split()[0]) / 2**20
    except (OSError, ValueError, KeyError):
        return None
    limit = _cgroup_room_gib()
    return available if limit is None else min(available, limit)


def _cgroup_room_gib() -> float | None:
    """Room left under the cgroup (v2) memory limit, if one is set (a container's)."""
    try:
        with open("/sys/fs/cgroup/memory.max") as limit_file:
            limit = limit_file.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current") as current_file:
            current = int(current_file.read().strip())
        return max(int(limit) - current, 0) / 2**30
    except (OSError, ValueError):
        return None
