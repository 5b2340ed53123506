"""The canonical flows table: column names, flow codes and key order.

One row per (period, reporter, partner, flow, hs). Readers produce it, the panel
consumes it; nothing else in the package guesses column names.

- ``period``: pandas ``Period`` dtype, monthly (``period[M]``) or annual (``period[Y]``),
  never both in one table.
- ``reporter``, ``partner``: ISO 3166 alpha-3 codes (``str``).
- ``flow``: one of :data:`FLOWS`, as declared by the reporter.
- ``hs``: a string of 2 to 10 digits, leading zeros kept.
- ``value``: float64, >= 0, in the currency recorded in ``DataFrame.attrs["currency"]``.
- ``quantity``, ``weight_kg``: optional float64 >= 0.
"""

from __future__ import annotations

KEY_COLUMNS: tuple[str, ...] = ("period", "reporter", "partner", "flow", "hs")
SERIES_KEY_COLUMNS: tuple[str, ...] = ("reporter", "partner", "flow", "hs")
VALUE_COLUMN = "value"
OPTIONAL_VALUE_COLUMNS: tuple[str, ...] = ("quantity", "weight_kg")
CANONICAL_COLUMNS: tuple[str, ...] = (*KEY_COLUMNS, VALUE_COLUMN)
FLOWS: tuple[str, ...] = ("export", "import", "re-export", "re-import")
#: The flow a partner declares for the same goods: A's export is B's import.
MIRROR_FLOW: dict[str, str] = {
    "export": "import",
    "import": "export",
    "re-export": "re-import",
    "re-import": "re-export",
}
#: Flows that leave the reporter (a re-export is an export of goods it imported) and
#: flows that enter it.
OUTWARD_FLOWS: tuple[str, ...] = ("export", "re-export")
INWARD_FLOWS: tuple[str, ...] = ("import", "re-import")
CURRENCIES: tuple[str, ...] = ("EUR", "USD")

#: Columns of ``leads.csv`` (one row per series, best first), in order; the scorer
#: writes more after them (each detector's p-value and evidence).
LEAD_COLUMNS: tuple[str, ...] = (
    "rank",
    "reporter",
    "partner",
    "flow",
    "hs",
    "score",
    "alert",
    "actual",
    "expected",
    "lower",
    "upper",
    "excess_value",
    "mirror_gap",
    "signals",
    "explanation",
)
