"""Exceptions raised by :mod:`anomaly`.

Every error a user can cause derives from :class:`AnomalyError`, so a batch job can
catch one class and print one line. Data errors say *where* (file, line, column), *what*
was found and *what was expected*; the command line prints ``str(error)`` and exits
non-zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "MAX_PART_CHARS",
    "AnomalyError",
    "ArtifactError",
    "ArtifactIntegrityError",
    "ArtifactSchemaError",
    "ArtifactVersionError",
    "ConfidentialValueError",
    "CurrencyError",
    "DataError",
    "DuplicateKeyError",
    "EmptyDataError",
    "FormatError",
    "InputOutputError",
    "InvalidValueError",
    "MemoryBudgetError",
    "NotFittedError",
    "PeriodError",
    "UnknownCodeError",
    "shorten",
]

#: How many offending rows or values a message lists before it says "and N more".
MAX_LISTED = 5
#: Longest rendering of one offending value in a message (longer ones are cut in the
#: middle): a 2 MB cell must not become a 2 MB error line.
MAX_VALUE_CHARS = 80
#: Longest part of a message (the problem, the expectation, a file name).
MAX_PART_CHARS = 600


def shorten(text: object, limit: int = MAX_VALUE_CHARS) -> str:
    """``str(text)``, cut in the middle to at most ``limit`` characters, with control
    characters (newlines) escaped so that it stays on one line.

    Examples
    --------
    >>> shorten("0123456789" * 100, 21)
    '01234…[991 more]…6789'
    >>> shorten("85" + chr(10) + "4231") == "85" + chr(92) + "n4231"  # newline escaped
    True
    """
    text = str(text)
    if len(text) > limit:
        keep = max(limit - 12, 2)
        head = keep // 2 + keep % 2
        text = f"{text[:head]}…[{len(text) - keep} more]…{text[len(text) - (keep - head) :]}"
    if not text.isprintable():
        # An error is one line: a newline or other control character in a value is
        # shown escaped.
        text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    return text


def describe_items(items: Sequence[object] | Iterable[object], limit: int = MAX_LISTED) -> str:
    """Render the first ``limit`` items and a count of the rest, for error messages.

    Examples
    --------
    >>> describe_items([3, 4, 9, 12, 20, 21, 30])
    '3, 4, 9, 12, 20 and 2 more'
    """
    items = list(items)
    shown = ", ".join(shorten(item) for item in items[:limit])
    if len(items) > limit:
        shown += f" and {len(items) - limit} more"
    return shown


class AnomalyError(Exception):
    """Base class of every error raised on purpose by the package."""


class DataError(AnomalyError, ValueError):
    """Input data that cannot be used as given.

    Parameters
    ----------
    problem : str
        What is wrong, in the user's terms.
    source : str, optional
        The file (or other source) the data came from.
    column : str, optional
        The offending column.
    lines : sequence of int, optional
        1-based line numbers in the source file (the header is line 1).
    expected : str, optional
        What a valid value looks like.
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        column: str | None = None,
        lines: Sequence[int] | None = None,
        expected: str | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.column = column
        self.lines = list(lines) if lines is not None else []
        self.expected = expected
        super().__init__(self._message())

    def _message(self) -> str:
        where = [shorten(self.source, MAX_PART_CHARS)] if self.source else []
        if self.column:
            where.append(f"column {shorten(repr(self.column))}")
        if self.lines:
            plural = "s" if len(self.lines) > 1 else ""
            where.append(f"line{plural} {describe_items(self.lines)}")
        text = (", ".join(where) + ": " if where else "") + shorten(self.problem, MAX_PART_CHARS)
        if self.expected:
            text += f"; expected {shorten(self.expected, MAX_PART_CHARS)}"
        return text


class EmptyDataError(DataError):
    """A file or table with no data rows."""


class FormatError(DataError):
    """The file's layout is not one of the supported formats, or lacks a required column."""


class DuplicateKeyError(DataError):
    """Two rows share one (period, reporter, partner, flow, hs) key."""


class InvalidValueError(DataError):
    """A value that is negative, not a number, or otherwise outside its domain."""


class ConfidentialValueError(InvalidValueError):
    """A confidential marker (``:``) where a number was expected."""


class UnknownCodeError(DataError):
    """Country names, country codes, flow codes or HS codes that are not recognised."""


class PeriodError(DataError):
    """A period that cannot be parsed, or monthly and annual periods mixed."""


class CurrencyError(DataError):
    """Values in more than one currency, or a currency that does not match."""


class MemoryBudgetError(DataError):
    """Data too large to train on in memory on this machine (or within the budget
    given): refused before the work starts, with what to do instead."""


class NotFittedError(AnomalyError, AttributeError):
    """A model or detector used before ``fit``."""


class ArtifactError(AnomalyError):
    """A model artifact that cannot be loaded."""


class ArtifactIntegrityError(ArtifactError):
    """An artifact whose files are changed, missing, extra, truncated or unsafe."""


class ArtifactVersionError(ArtifactError):
    """An artifact written by an incompatible format or dependency version."""


class ArtifactSchemaError(ArtifactError):
    """An intact artifact whose content breaks its schema (a type, shape or range).

    Parameters
    ----------
    where : str
        The artifact as the user named it.
    file : str
        The file inside it (``manifest.json``, ``arrays.npz``, ``series.parquet``).
    field : str
        The field, array or column at fault (``config.model.hs_level``,
        ``forecast.variance``, ``column 'hs'``).
    problem : str
        What is wrong, with the offending value shortened.
    """

    def __init__(self, where: str, file: str, field: str, problem: str) -> None:
        self.where, self.file, self.field, self.problem = where, file, field, problem
        super().__init__(
            f"{shorten(where, MAX_PART_CHARS)}: {file} {shorten(field)}: "
            f"{shorten(problem, MAX_PART_CHARS)}"
        )

    def __reduce__(self):  # rebuilt from its parts when sent between processes
        return type(self), (self.where, self.file, self.field, self.problem)


class InputOutputError(AnomalyError, OSError):
    """A file or directory that cannot be read or written (disk full, no permission).

    Not a problem of the data: the command line exits with its own code (5) and names
    the path and the system's reason.

    Parameters
    ----------
    path : str
        The file or directory.
    reason : str
        The system's reason (``No space left on device``).
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{shorten(path, MAX_PART_CHARS)}: {shorten(reason, MAX_PART_CHARS)}")
        self.path, self.reason = path, reason

    def __str__(self) -> str:
        return f"{shorten(self.path, MAX_PART_CHARS)}: {shorten(self.reason, MAX_PART_CHARS)}"

    def __reduce__(self):  # rebuilt from its parts when sent between processes
        return type(self), (self.path, self.reason)
