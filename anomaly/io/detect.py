"""Recognise a file's format from its column names.

Each format is known by the columns it cannot do without; a column may be one of a
few alternatives (Comtrade API files have ``period`` or ``refPeriodId``). Names are
compared exactly, after trimming blanks and a byte-order mark.
"""

from __future__ import annotations

from collections.abc import Sequence

from anomaly.errors import FormatError

#: The formats :func:`anomaly.io.read_flows` reads, in the order detection tries them.
FORMATS: tuple[str, ...] = (
    "canonical",
    "comext",
    "comext-relational",
    "comext-bulk",
    "comtrade",
    "comtrade-api",
)

# Required columns per format: each entry is a tuple of alternatives.
SIGNATURES: dict[str, tuple[tuple[str, ...], ...]] = {
    "canonical": (("period",), ("reporter",), ("partner",), ("flow",), ("hs",), ("value",)),
    "comext": (("reporter",), ("partner",), ("product",), ("flow",), ("period",), ("value",)),
    "comext-relational": (
        ("REPORTER",),
        ("PARTNER",),
        ("PRODUCT",),
        ("FLOW",),
        ("PERIOD",),
        ("VALUE_IN_EUR", "VALUE_IN_EUROS"),
    ),
    "comext-bulk": (
        ("DECLARANT", "DECLARANT_ISO"),
        ("PARTNER", "PARTNER_ISO"),
        ("PRODUCT_NC",),
        ("FLOW",),
        ("PERIOD",),
        ("VALUE_IN_EUROS",),
    ),
    "comtrade": (
        ("period",),
        ("trade_flow",),
        ("reporter_code", "reporter_iso"),
        ("partner_iso", "partner_code"),
        ("commodity_code",),
        ("trade_value_us",),
    ),
    "comtrade-api": (
        ("refPeriodId", "period"),
        ("reporterISO", "reporterCode"),
        ("partnerISO", "partnerCode"),
        ("flowCode",),
        ("cmdCode",),
        ("primaryValue",),
    ),
}


def _describe(signature: tuple[tuple[str, ...], ...]) -> str:
    return ", ".join(" or ".join(alternatives) for alternatives in signature)


def missing_columns(format: str, columns: Sequence[str]) -> list[str]:
    """The required columns of ``format`` absent from ``columns`` (alternatives joined)."""
    present = set(columns)
    return [
        " or ".join(alternatives)
        for alternatives in SIGNATURES[format]
        if not present.intersection(alternatives)
    ]


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
    for format in FORMATS:
        if not missing_columns(format, columns):
            return format
    known = "; ".join(f"{format} ({_describe(SIGNATURES[format])})" for format in FORMATS)
    raise FormatError(
        f"the columns {', '.join(map(repr, columns))} match no known format",
        source=source,
        lines=[1],
        expected=f"the header of one of the formats: {known}",
    )


def check_format(format: str, columns: Sequence[str], *, source: str | None = None) -> None:
    """Raise FormatError if ``format`` is unknown or its required columns are missing."""
    if format not in SIGNATURES:
        raise FormatError(
            f"unknown format {format!r}",
            source=source,
            expected=f"one of 'auto', {', '.join(map(repr, FORMATS))}",
        )
    missing = missing_columns(format, columns)
    if missing:
        raise FormatError(
            f"the {format} format needs column(s) {', '.join(missing)}, "
            f"but the header has {', '.join(map(repr, columns))}",
            source=source,
            lines=[1],
            expected=f"the columns {_describe(SIGNATURES[format])}",
        )
