"""Reference data shipped with the package: countries, country groups, the CHP list,
the HS revision concordance and descriptions of HS codes.

Tables live in ``anomaly/reference/data`` (CSV, documented in ``data/PROVENANCE.md``),
are read once and cached; every loader returns a copy or an immutable object, so callers
cannot change what the next caller sees.

Examples
--------
>>> from anomaly import reference
>>> reference.to_alpha3(["Russian Federation (Russia)", "Kyrgyz Republic"]).tolist()
['RUS', 'KGZ']
>>> len(reference.country_group("EU27")), len(reference.chp_codes("2023-09"))
(27, 45)
"""

from anomaly.reference.aggregates import aggregate_partners, is_aggregate_partner
from anomaly.reference.chp import CHP_VERSIONS, chp_codes, chp_list
from anomaly.reference.concordance import (
    RELATIONS,
    harmonize_hs,
    hs2022_predecessors,
    hs_concordance,
    split_families,
)
from anomaly.reference.controls import (
    CONTROL_SETS,
    controlled_codes,
    is_controlled,
    read_code_list,
)
from anomaly.reference.countries import SCHEMES, countries, to_alpha3
from anomaly.reference.descriptions import (
    HS_DESCRIPTION_REVISION,
    hs_description,
    hs_descriptions,
)
from anomaly.reference.goods import GOODS_COLUMNS, describe_goods
from anomaly.reference.groups import country_group, country_groups, group_sources

__all__ = [
    "CHP_VERSIONS",
    "CONTROL_SETS",
    "GOODS_COLUMNS",
    "HS_DESCRIPTION_REVISION",
    "RELATIONS",
    "SCHEMES",
    "aggregate_partners",
    "chp_codes",
    "chp_list",
    "controlled_codes",
    "countries",
    "country_group",
    "country_groups",
    "describe_goods",
    "group_sources",
    "harmonize_hs",
    "hs2022_predecessors",
    "hs_concordance",
    "hs_description",
    "hs_descriptions",
    "is_aggregate_partner",
    "is_controlled",
    "read_code_list",
    "split_families",
    "to_alpha3",
]
