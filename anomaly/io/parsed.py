"""What a reader hands back: canonical rows of one file, and the rows it left out."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from anomaly.errors import MAX_LISTED
from anomaly.io.origin import LINE, Source


@dataclass(frozen=True)
class Dropped:
    """Rows a reader left out on purpose (totals that would double count, and such).

    Parameters
    ----------
    reason : str
        Why, in the user's terms.
    rows : int
        How many rows.
    lines : tuple of int
        The first few of their lines in the file.
    """

    reason: str
    rows: int
    lines: tuple[int, ...] = ()

    @classmethod
    def of(cls, reason: str, frame: pd.DataFrame, mask: np.ndarray | pd.Series) -> Dropped:
        """Describe the rows of ``frame`` selected by ``mask``."""
        mask = np.asarray(mask, dtype=bool)
        lines = np.sort(frame[LINE].to_numpy()[mask])[:MAX_LISTED]
        return cls(reason, int(mask.sum()), tuple(int(line) for line in lines))

    def record(self, source: str) -> dict[str, object]:
        """The plain record stored in ``DataFrame.attrs["dropped"]``."""
        return {
            "source": source,
            "reason": self.reason,
            "rows": self.rows,
            "lines": list(self.lines),
        }


@dataclass
class ParsedFile:
    """The rows of one input, in canonical columns plus the line column.

    ``frame`` has the canonical columns (``period`` as a Period dtype, ``value`` as
    float64, codes as strings) and may still hold duplicates or mixed HS levels: the
    checks that span files run after all files are read.
    """

    frame: pd.DataFrame
    source: Source
    format: str
    currency: str | None
    dropped: list[Dropped] = field(default_factory=list)
    #: Breakdown rows summed where a key had no total row (``read_flows`` copies these
    #: into ``attrs["aggregated_breakdowns"]``).
    aggregated: list[dict[str, object]] = field(default_factory=list)
