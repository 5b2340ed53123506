"""Progress of long steps: a line per step on a terminal, log records otherwise.

A scheduled job's log should not fill with progress output, so progress is printed
only when standard error is a terminal; elsewhere each step is logged at INFO level.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger("anomaly.progress")


@contextmanager
def step(name: str) -> Iterator[None]:
    """Announce a step and report how long it took.

    Examples
    --------
    >>> with step("reading input"):
    ...     pass
    """
    interactive = sys.stderr.isatty()
    started = time.perf_counter()
    if interactive:
        print(f"… {name}", end="", file=sys.stderr, flush=True)
    logger.info("%s: started", name)
    try:
        yield
    except BaseException:
        if interactive:
            print(" failed", file=sys.stderr)
        raise
    elapsed = time.perf_counter() - started
    if interactive:
        print(f"\r✓ {name} ({elapsed:.1f} s)", file=sys.stderr)
    logger.info("%s: done in %.1f s", name, elapsed)
