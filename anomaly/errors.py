"""Exceptions raised by :mod:`anomaly`.

Every error a user can cause derives from :class:`AnomalyError`, so a batch job can
catch one class and print one line. Data errors say *where* (file, line, column), *what*
was found and *what was expected*; the command line prints ``str(error)`` and exits
non-zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "AnomalyError",
    "ArtifactError",
    "ArtifactIntegrityError",
    "ArtifactVersionError",
    "ConfidentialValueError",
    "CurrencyError",
    "DataError",
    "DuplicateKeyError",
    "EmptyDataError",
    "FormatError",
    "InvalidValueError",
    "NotFittedError",
    "PeriodError",
    "UnknownCodeError",
]

#: How many offending rows or values a message lists before it says "and N more".
MAX_LISTED = 5


def describe_items(items: Sequence[object] | Iterable[object], limit: int = MAX_LISTED) -> str:
    """Render the first ``limit`` items and a count of the rest, for error messages.

    Examples
    --------
    >>> describe_items([3, 4, 9, 12, 20, 21, 30])
    '3, 4, 9, 12, 20 and 2 more'
    """
    items = list(items)
    shown = ", ".join(str(item) for item in items[:limit])
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
        where = [self.source] if self.source else []
        if self.column:
            where.append(f"column {self.column!r}")
        if self.lines:
            plural = "s" if len(self.lines) > 1 else ""
            where.append(f"line{plural} {describe_items(self.lines)}")
        text = (", ".join(where) + ": " if where else "") + self.problem
        if self.expected:
            text += f"; expected {self.expected}"
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


class NotFittedError(AnomalyError, AttributeError):
    """A model or detector used before ``fit``."""


class ArtifactError(AnomalyError):
    """A model artifact that cannot be loaded."""


class ArtifactIntegrityError(ArtifactError):
    """An artifact whose files are changed, missing, extra, truncated or unsafe."""


class ArtifactVersionError(ArtifactError):
    """An artifact written by an incompatible format or dependency version."""
