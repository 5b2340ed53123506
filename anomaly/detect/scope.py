"""Scope: the series on the routes of the evasion this package looks for.

Every series is scored, but only series in scope can alert: a surge of wine to France
or of chips between two coalition members is not a lead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.detect.config import DetectionConfig
from anomaly.schema import INWARD_FLOWS, OUTWARD_FLOWS


def in_scope(table: pd.DataFrame, config: DetectionConfig) -> np.ndarray:
    """Whether each series is on a route of evasion.

    A controlled (CHP) good exported to a transit country or a sanctioned destination,
    or imported by a transit country. ``table`` needs ``reporter, partner, flow`` and
    ``controlled``.

    Examples
    --------
    >>> table = pd.DataFrame({"reporter": ["DEU", "DEU"], "partner": ["KGZ", "FRA"],
    ...                       "flow": ["export", "export"], "controlled": [True, True]})
    >>> in_scope(table, DetectionConfig()).tolist()
    [True, False]
    """
    transit = config.transit_set
    destinations = transit | set(config.sanctioned)
    exported = table["flow"].isin(OUTWARD_FLOWS) & table["partner"].isin(destinations)
    imported = table["flow"].isin(INWARD_FLOWS) & table["reporter"].isin(transit)
    return (table["controlled"].astype(bool) & (exported | imported)).to_numpy()
