"""Progress of long steps: a line per step on a terminal, log records otherwise.

A scheduled job's log should not fill with progress output, so progress is drawn only
when standard error is a terminal; elsewhere each step is logged at INFO level.
"""

from __future__ import annotations

import logging
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
    peak = peak_memory_gib()
    if peak is None:
        logger.info("%s: done in %.1f s", name, elapsed)
    else:  # the process's peak so far: the step that raised it is the one that cost it
        logger.info("%s: done in %.1f s; peak memory so far %.2f GiB", name, elapsed, peak)


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
