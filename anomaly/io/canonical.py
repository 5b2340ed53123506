"""Read files already in the canonical columns (CSV or Parquet).

``period, reporter, partner, flow, hs, value`` with optional ``quantity, weight_kg,
value_fob, value_cif`` and ``currency`` (one currency per file; without the column the
currency comes from ``read_flows(..., currency=)``). Periods are ``2023-01`` or ``2023``
(or any spelling :mod:`anomaly.io.periods` knows, or a Period column in Parquet);
countries are alpha-3 codes; ``hs`` must be text so leading zeros survive.
"""

from __future__ import annotations

from anomaly.io.origin import Source
from anomaly.io.parsed import ParsedFile
from anomaly.io.rawtable import RawTable
from anomaly.io.validate import canonical_columns, currency_column


def read_canonical(raw: RawTable) -> ParsedFile:
    """Read a canonical CSV or Parquet file."""
    source = Source(raw.path)
    currency = currency_column(raw.frame, [source])
    frame, dropped = canonical_columns(raw.frame, [source])
    return ParsedFile(frame, source, "canonical", currency, [*raw.dropped, *dropped])
