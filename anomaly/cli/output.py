"""What the commands print on standard output, and a quiet end when its reader has gone.

``anomaly score ... | head`` closes the pipe after a few lines; writing more raises
:class:`BrokenPipeError`. That is the reader's choice, not an error of the command (its
output files are written before anything is printed), so the command ends without a
message, with the status a shell reports for a program stopped by ``SIGPIPE``
(:data:`EXIT_CLOSED_PIPE`, 141: what ``yes | head`` gives under ``set -o pipefail``).
Python ignores ``SIGPIPE`` (an ``EPIPE`` error is raised instead) and should keep doing
so: restoring the default would kill batch workers and Dask clients that write to a
closed socket, which handle that error themselves.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

__all__ = ["EXIT_CLOSED_PIPE", "closed_pipe", "emit"]

#: Exit status when standard output's reader has gone: 128 + SIGPIPE (13).
EXIT_CLOSED_PIPE = 141


def emit(text: str = "", end: str = "\n") -> None:
    """Print one line of a command's output now (flushed), or end quietly if nobody
    reads it any more.

    Parameters
    ----------
    text : str
        The line (or lines) to print.
    end : str
        Written after ``text``.

    Raises
    ------
    SystemExit
        With :data:`EXIT_CLOSED_PIPE` when standard output is a closed pipe.

    Examples
    --------
    >>> emit("3 series scored")
    3 series scored
    """
    try:
        print(text, end=end, flush=True)
    except BrokenPipeError:
        closed_pipe()


def closed_pipe() -> NoReturn:
    """End the command quietly after standard output's reader has gone.

    Standard output is pointed at the null device first: the interpreter flushes it
    once more on the way out, and a second ``BrokenPipeError`` there would be printed.

    Raises
    ------
    SystemExit
        Always, with :data:`EXIT_CLOSED_PIPE`.
    """
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass  # not a real file (a test's capture): nothing will flush to a closed pipe
    raise SystemExit(EXIT_CLOSED_PIPE)
