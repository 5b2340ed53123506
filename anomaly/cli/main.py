"""The ``anomaly`` command: dispatch and exit codes (the grammar: :mod:`anomaly.cli.parser`).

Exit codes (stable; scripts depend on them):

- 0: success;
- 1: an unexpected internal error (a bug: the traceback is printed);
- 2: the command line is wrong (unknown option, missing argument);
- 3: the input cannot be used (a file, row or column is named in the message; an
  input path that does not exist);
- 4: a model artifact was refused (tampered, truncated, incompatible, or content that
  breaks its schema: the file and field are named);
- 5: a file or directory cannot be read or written (disk full, permission denied,
  read-only file system): the path and the system's reason are named.

Errors print one line, ``anomaly: error: <what, where, what was expected>``; warnings
(a model written with other major library versions, say) one line each,
``anomaly: warning: <what>``.
"""

from __future__ import annotations

import logging
import signal
import sys
import warnings
from collections.abc import Sequence

from anomaly.cli.output import closed_pipe
from anomaly.cli.parser import build_parser
from anomaly.errors import AnomalyError, ArtifactError, InputOutputError, shorten

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_DATA, EXIT_ARTIFACT, EXIT_IO = 0, 1, 2, 3, 4, 5
#: Longest error line printed (the offending values in it are shortened already).
MAX_ERROR_CHARS = 2000
#: System errors that mean "the path given does not exist" (bad input: 3), not a
#: failing disk or a permission (5).
_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)

logger = logging.getLogger("anomaly")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,  # a second main() in one process (tests, notebooks) sets it again
    )
    try:
        with warnings.catch_warnings():
            # A warning reads like an error line, not like a developer's file:line; a
            # library's notice of its own future changes is for developers, not users.
            warnings.showwarning = _show_warning
            for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
                warnings.simplefilter("ignore", category)
            args.handler(args)
    except ArtifactError as error:
        return _fail(error, EXIT_ARTIFACT)
    except InputOutputError as error:
        return _fail(error, EXIT_IO)
    except AnomalyError as error:
        return _fail(error, EXIT_DATA)
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        return _fail(
            f"{where}{error.strerror or error}",
            EXIT_DATA if isinstance(error, _MISSING) else EXIT_IO,
        )
    except KeyboardInterrupt:
        print("anomaly: interrupted", file=sys.stderr)
        return 130
    return EXIT_OK


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"anomaly: warning: {shorten(message, MAX_ERROR_CHARS)}", file=sys.stderr)


def _fail(error: object, code: int) -> int:
    """Print the one error line (capped in length) and return ``code``."""
    print(f"anomaly: error: {shorten(error, MAX_ERROR_CHARS)}", file=sys.stderr)
    return code


def run() -> None:
    """Console-script entry point.

    Help or usage text written to a closed pipe (``anomaly --help | head -1``) ends
    quietly too (see :mod:`anomaly.cli.output`): it is still buffered when ``main``
    returns, so standard output is flushed here, where that error can be caught.

    A ``SIGTERM`` (a scheduler's timeout, ``kill``) ends the command as an interrupt
    does, with status 143: temporary directories are removed and unfinished outputs
    discarded on the way out, where the signal's default action would leave them.
    """
    signal.signal(signal.SIGTERM, _terminated)
    try:
        try:
            code = main()
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        closed_pipe()
    sys.exit(code)


def _terminated(signum: int, frame: object) -> None:
    print("anomaly: terminated", file=sys.stderr)
    raise SystemExit(128 + signum)
