"""The input formats: each one's name, the columns that identify it, and its reader.

:data:`INPUT_FORMATS` is the one registry of formats: :func:`anomaly.io.read_flows`
reads through it, the command line offers its names (:data:`FORMAT_CHOICES`), and
:func:`detect_format` tries its formats in order to recognise a file from its header.

Each format is known by the columns it cannot do without; a column may be one of a
few alternatives (Comtrade API files have ``period`` or ``refPeriodId``). Names are
compared exactly, after trimming blanks and a byte-order mark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from anomaly.errors import FormatError
from anomaly.io.canonical import read_canonical
from anomaly.io.comext import read_comext, read_comext_relational
from anomaly.io.comext_bulk import read_comext_bulk
from anomaly.io.comtrade import read_comtrade, read_comtrade_api
from anomaly.io.parsed import ParsedFile
from anomaly.io.rawtable import RawTable
from anomaly.schema import KEY_COLUMNS

__all__ = [
    "AUTO",
    "FORMATS",
    "FORMAT_CHOICES",
    "INPUT_FORMATS",
    "InputFormat",
    "check_format",
    "detect_format",
    "missing_columns",
]


@dataclass(frozen=True)
class InputFormat:
    """One input format: the columns that identify it and the reader that parses it.

    Attributes
    ----------
    name : str
        The name ``read_flows(format=...)`` and ``anomaly train --format`` take.
    required : tuple of tuple of str
        The columns the format cannot do without, each given as its alternatives
        (``("VALUE_IN_EUR", "VALUE_IN_EUROS")``: either will do).
    read : callable
        Parses a file's :class:`~anomaly.io.rawtable.RawTable` into canonical rows.
    codes : tuple of str
        Columns of codes, read from Parquet as dictionaries (categoricals) whether
        the file stores them as dictionaries or as plain strings.

    Examples
    --------
    >>> INPUT_FORMATS["comext"].missing_columns(["reporter", "partner", "period"])
    ['product', 'flow', 'value']
    """

    name: str
    required: tuple[tuple[str, ...], ...]
    read: Callable[[RawTable], ParsedFile]
    codes: tuple[str, ...] = ()

    def missing_columns(self, columns: Sequence[str]) -> list[str]:
        """The required columns absent from ``columns`` (alternatives joined by "or")."""
        present = set(columns)
        return [
            " or ".join(alternatives)
            for alternatives in self.required
            if not present.intersection(alternatives)
        ]

    def renames_by_case(self, columns: Sequence[str]) -> list[str]:
        """Where ``columns`` hold every required column but some only in another case:
        ``found → required`` for those, else nothing.

        Examples
        --------
        >>> header = ["Period", "reporter", "partner", "flow", "HS", "value"]
        >>> INPUT_FORMATS["canonical"].renames_by_case(header)
        ["'Period' → 'period'", "'HS' → 'hs'"]
        """
        if not self.missing_columns(columns):
            return []
        by_case = {column.casefold(): column for column in columns}
        renames = []
        for alternatives in self.required:
            if set(alternatives).intersection(columns):
                continue
            found = [(by_case[a.casefold()], a) for a in alternatives if a.casefold() in by_case]
            if not found:
                return []
            renames.append("{!r} → {!r}".format(*found[0]))
        return renames

    def describe(self) -> str:
        """The required columns as a user reads them: ``a, b or c, d``."""
        return ", ".join(" or ".join(alternatives) for alternatives in self.required)


#: Every format :func:`anomaly.io.read_flows` reads, by name, in the order detection
#: tries them (a header that fits two formats is the first one's).
INPUT_FORMATS: dict[str, InputFormat] = {
    entry.name: entry
    for entry in (
        InputFormat(
            "canonical",
            (("period",), ("reporter",), ("partner",), ("flow",), ("hs",), ("value",)),
            read_canonical,
            (*KEY_COLUMNS, "currency"),
        ),
        InputFormat(
            "comext",
            (("reporter",), ("partner",), ("product",), ("flow",), ("period",), ("value",)),
            read_comext,
        ),
        InputFormat(
            "comext-relational",
            (
                ("REPORTER",),
                ("PARTNER",),
                ("PRODUCT",),
                ("FLOW",),
                ("PERIOD",),
                ("VALUE_IN_EUR", "VALUE_IN_EUROS"),
            ),
            read_comext_relational,
        ),
        InputFormat(
            "comext-bulk",
            (
                ("DECLARANT", "DECLARANT_ISO"),
                ("PARTNER", "PARTNER_ISO"),
                ("PRODUCT_NC",),
                ("FLOW",),
                ("PERIOD",),
                ("VALUE_IN_EUROS",),
            ),
            read_comext_bulk,
        ),
        InputFormat(
            "comtrade",
            (
                ("period",),
                ("trade_flow",),
                ("reporter_code", "reporter_iso"),
                ("partner_iso", "partner_code"),
                ("commodity_code",),
                ("trade_value_us",),
            ),
            read_comtrade,
        ),
        InputFormat(
            "comtrade-api",
            (
                ("refPeriodId", "period"),
                ("reporterISO", "reporterCode"),
                ("partnerISO", "partnerCode"),
                ("flowCode",),
                ("cmdCode",),
                ("primaryValue",),
            ),
            read_comtrade_api,
        ),
    )
}
#: The format names, in detection order.
FORMATS: tuple[str, ...] = tuple(INPUT_FORMATS)
#: The ``format`` that tells each file's format from its header.
AUTO = "auto"
#: Every value ``format`` accepts: :data:`AUTO` or a format's name.
FORMAT_CHOICES: tuple[str, ...] = (AUTO, *FORMATS)


def missing_columns(format: str, columns: Sequence[str]) -> list[str]:
    """The required columns of ``format`` absent from ``columns`` (alternatives joined).

    Examples
    --------
    >>> missing_columns("canonical", ["period", "reporter", "partner", "flow"])
    ['hs', 'value']
    """
    return INPUT_FORMATS[format].missing_columns(columns)


def detect_format(columns: Sequence[str], *, source: str | None = None) -> str:
    """Name the format whose required columns are all present.

    Parameters
    ----------
    columns : sequence of str
        The header of a file.
    source : str, optional
        The file, for the error message.

    Raises
    ------
    FormatError
        No format matches; the message lists the columns found and each format's
        required columns.

    Examples
    --------
    >>> detect_format(["reporter", "partner", "product", "flow", "period", "value"])
    'comext'
    >>> detect_format(["period", "reporter", "partner", "flow", "hs", "value", "currency"])
    'canonical'
    """
    for entry in INPUT_FORMATS.values():
        if not entry.missing_columns(columns):
            return entry.name
    for entry in INPUT_FORMATS.values():
        renames = entry.renames_by_case(columns)
        if renames:
            raise FormatError(
                f"the columns {', '.join(map(repr, columns))} are the {entry.name} "
                "format's, spelled in another case",
                source=source,
                lines=[1],
                expected=f"its names as they are spelled: {', '.join(renames)}",
            )
    known = "; ".join(f"{entry.name} ({entry.describe()})" for entry in INPUT_FORMATS.values())
    raise FormatError(
        f"the columns {', '.join(map(repr, columns))} match no known format",
        source=source,
        lines=[1],
        expected=f"the header of one of the formats: {known}",
    )


def check_format(format: str, columns: Sequence[str], *, source: str | None = None) -> None:
    """Raise FormatError if ``format`` is unknown or its required columns are missing.

    Examples
    --------
    >>> check_format("comext", ["reporter", "partner", "product", "flow", "period", "value"])
    """
    if format not in INPUT_FORMATS:
        raise FormatError(
            f"unknown format {format!r}",
            source=source,
            expected=f"one of {', '.join(map(repr, FORMAT_CHOICES))}",
        )
    entry = INPUT_FORMATS[format]
    missing = entry.missing_columns(columns)
    if missing:
        renames = entry.renames_by_case(columns)
        raise FormatError(
            f"the {format} format needs column(s) {', '.join(missing)}, "
            f"but the header has {', '.join(map(repr, columns))}",
            source=source,
            lines=[1],
            expected=f"the columns {entry.describe()}"
            + (f", spelled so: {', '.join(renames)}" if renames else ""),
        )
