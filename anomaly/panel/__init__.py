"""Stage 2: canonical flows → a dense monthly panel and its aggregates."""

from anomaly.panel.aggregate import (
    aggregate_panel,
    chp_tier_membership,
    country_group_membership,
    hs_level_membership,
)
from anomaly.panel.build import build_panel, coarse_error, hs_revision, log_coarse
from anomaly.panel.core import (
    Panel,
    as_month,
    key_index,
    merge_declared,
    positions,
)

__all__ = [
    "Panel",
    "aggregate_panel",
    "as_month",
    "build_panel",
    "chp_tier_membership",
    "coarse_error",
    "country_group_membership",
    "hs_level_membership",
    "hs_revision",
    "key_index",
    "log_coarse",
    "merge_declared",
    "positions",
]
