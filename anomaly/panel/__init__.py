"""Stage 2: canonical flows → a dense monthly panel, its aggregates and mirror pairs."""

from anomaly.panel.aggregate import (
    aggregate_panel,
    chp_tier_membership,
    country_group_membership,
    hs_level_membership,
)
from anomaly.panel.build import build_panel
from anomaly.panel.core import Panel, as_month
from anomaly.panel.mirror import MirrorPairs, mirror_pairs

__all__ = [
    "MirrorPairs",
    "Panel",
    "aggregate_panel",
    "as_month",
    "build_panel",
    "chp_tier_membership",
    "country_group_membership",
    "hs_level_membership",
    "mirror_pairs",
]
