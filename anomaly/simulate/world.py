"""The simulated world's fixed facts: countries, their groups and sizes, HS codes.

Countries
---------
About 120 real ISO 3166 alpha-3 codes, each with a rough size: the mean of its annual
merchandise exports and imports around 2019 in billions of USD, rounded (sources: WTO
and UN Comtrade totals; precision does not matter, the spread of five orders of
magnitude does). Sizes drive the gravity sampling of trading pairs and the magnitude
of each flow. The groups follow the sanctions story:

- :data:`COALITION`: the EU27 and the other states that imposed the export controls
  behind the Common High Priority list (US, UK, Japan, Korea, Canada, Australia,
  Switzerland, Norway, Taiwan, New Zealand, Iceland).
- :data:`NEUTRAL`: large exporters that did not (China, Hong Kong, India, Türkiye, UAE,
  ASEAN, Gulf, Latin America ...).
- :data:`HUBS`: Russia's neighbours and the transit hubs named in enforcement notices
  (Armenia, Georgia, Kazakhstan, Kyrgyzstan, Uzbekistan, Azerbaijan, Tajikistan,
  Turkmenistan, Mongolia, UAE, Türkiye); UAE and Türkiye are also neutral exporters.
- :data:`SANCTIONED`: Russia and Belarus, which stop publishing in 2022.

HS codes
--------
HS2022 six-digit codes: the 50 codes of the Common High Priority list (Feb 2024
version, with tiers), two dozen familiar non-CHP codes (medicines, cars, wine,
furniture, phones ...), and, only when a very large world needs more distinct
products than those, placeholder non-CHP codes shaped like HS6 codes of chapters that
hold no CHP goods (:func:`hs_catalogue`). The HS2022 revision is modelled by
:data:`HS2017_PREDECESSOR`: the 2015–2021 rows of six codes are published under their
HS2017 code, two of them as splits that merge two HS2022 codes into one older code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CHP_CODES",
    "COALITION",
    "COUNTRIES",
    "COUNTRY_SIZE",
    "COVID_SENSITIVITY",
    "DEMAND_BOOM_CANDIDATES",
    "EU27",
    "HS2017_PREDECESSOR",
    "HUBS",
    "NEUTRAL",
    "NON_CHP_CODES",
    "SANCTIONED",
    "HsCatalogue",
    "country_mask",
    "hs_catalogue",
]

# fmt: off
_EU_SIZES = {
    "DEU": 1350, "FRA": 620, "ITA": 520, "NLD": 650, "BEL": 440, "ESP": 350, "POL": 260,
    "CZE": 190, "AUT": 180, "SWE": 160, "FIN": 70, "DNK": 100, "IRL": 150, "HUN": 120,
    "SVK": 95, "ROU": 85, "LTU": 35, "LVA": 17, "EST": 17, "SVN": 37, "PRT": 75, "GRC": 50,
    "BGR": 35, "HRV": 22, "LUX": 20, "CYP": 8, "MLT": 5,
}
_COALITION_SIZES = {
    **_EU_SIZES,
    "USA": 2100, "GBR": 570, "JPN": 720, "KOR": 520, "CAN": 450, "AUS": 250, "CHE": 330,
    "NOR": 95, "TWN": 310, "NZL": 40, "ISL": 6,
}
_NEUTRAL_SIZES = {
    "CHN": 2300, "HKG": 560, "IND": 400, "TUR": 200, "ARE": 290, "MYS": 220, "VNM": 260,
    "THA": 240, "IDN": 170, "BRA": 200, "MEX": 460, "SAU": 200, "SGP": 390, "ISR": 70,
    "SRB": 22, "ZAF": 90, "ARG": 60, "CHL": 70, "COL": 45, "EGY": 55, "PAK": 45, "PHL": 90,
    "QAT": 55, "KWT": 50, "IRN": 60, "NGA": 55,
}
_NEIGHBOUR_SIZES = {
    "ARM": 4.5, "GEO": 7.5, "KAZ": 50, "KGZ": 4, "UZB": 18, "AZE": 17, "TJK": 3.5,
    "TKM": 8, "MNG": 7,
}
_SANCTIONED_SIZES = {"RUS": 320, "BLR": 33}
_OTHER_SIZES = {
    "PER": 45, "ECU": 22, "URY": 8, "PRY": 12, "BOL": 9, "CRI": 15, "PAN": 20, "GTM": 16,
    "DOM": 15, "HND": 10, "SLV": 8, "JAM": 5, "TTO": 8, "MAR": 45, "DZA": 40, "TUN": 18,
    "LBY": 20, "GHA": 14, "CIV": 12, "SEN": 6, "CMR": 6, "KEN": 12, "ETH": 10, "TZA": 8,
    "UGA": 6, "AGO": 25, "MOZ": 7, "ZMB": 8, "NAM": 6, "BWA": 6, "MUS": 4, "LKA": 16,
    "BGD": 50, "NPL": 7, "KHM": 20, "LAO": 6, "MMR": 16, "BRN": 8, "IRQ": 60, "JOR": 16,
    "LBN": 15, "OMN": 30, "BHR": 15, "MDA": 6, "ALB": 6, "MKD": 9, "BIH": 10, "MNE": 2.5,
    "AFG": 4,
}
# fmt: on

_ALL_SIZES = {
    **_COALITION_SIZES,
    **_NEUTRAL_SIZES,
    **_NEIGHBOUR_SIZES,
    **_SANCTIONED_SIZES,
    **_OTHER_SIZES,
}

#: Every country of the world, sorted, so that a country's index orders like its code.
COUNTRIES: np.ndarray = np.array(sorted(_ALL_SIZES))
#: Rough size of each country of :data:`COUNTRIES` (billions of USD of trade a year).
COUNTRY_SIZE: np.ndarray = np.array([_ALL_SIZES[c] for c in COUNTRIES], dtype=np.float64)

EU27: frozenset[str] = frozenset(_EU_SIZES)
COALITION: frozenset[str] = frozenset(_COALITION_SIZES)
NEUTRAL: frozenset[str] = frozenset(_NEUTRAL_SIZES)
HUBS: frozenset[str] = frozenset({*_NEIGHBOUR_SIZES, "ARE", "TUR"})
SANCTIONED: frozenset[str] = frozenset(_SANCTIONED_SIZES)
#: Hubs where a general demand boom is planted: small neighbours, so that the decoy
#: looks like the hubs that carry evasion. They never carry planted evasion.
DEMAND_BOOM_CANDIDATES: tuple[str, ...] = ("GEO", "AZE", "MNG", "UZB", "TJK")


def country_mask(group: frozenset[str] | tuple[str, ...] | str) -> np.ndarray:
    """Boolean mask over :data:`COUNTRIES` of the members of ``group``.

    Examples
    --------
    >>> int(country_mask(SANCTIONED).sum())
    2
    """
    members = {group} if isinstance(group, str) else set(group)
    return np.isin(COUNTRIES, list(members))


# The Common High Priority list, Feb 2024: HS2022 code -> tier.
# fmt: off
_CHP_TIERS = {
    "854231": "1", "854232": "1", "854233": "1", "854239": "1",
    "851762": "2", "852691": "2", "853221": "2", "853224": "2", "854800": "2",
    "847150": "3.A", "850440": "3.A", "851769": "3.A", "852589": "3.A", "852910": "3.A",
    "852990": "3.A", "853669": "3.A", "853690": "3.A", "854110": "3.A", "854121": "3.A",
    "854129": "3.A", "854130": "3.A", "854149": "3.A", "854151": "3.A", "854159": "3.A",
    "854160": "3.A",
    "848210": "3.B", "848220": "3.B", "848230": "3.B", "848250": "3.B", "880730": "3.B",
    "901310": "3.B", "901380": "3.B", "901420": "3.B", "901480": "3.B",
    "847180": "4.A", "848610": "4.A", "848620": "4.A", "848640": "4.A", "853400": "4.A",
    "854320": "4.A", "902750": "4.A", "903020": "4.A", "903032": "4.A", "903039": "4.A",
    "903082": "4.A",
    "845710": "4.B", "845811": "4.B", "845891": "4.B", "845961": "4.B", "846693": "4.B",
}
# fmt: on

#: The 50 HS2022 codes of the Common High Priority list with their tier.
CHP_CODES: dict[str, str] = dict(sorted(_CHP_TIERS.items()))

#: Familiar non-CHP HS2022 codes (none changed in the 2022 revision except the phones,
#: 851713 and 851714, which split from HS2017 851712).
NON_CHP_CODES: tuple[str, ...] = (
    "080810",  # apples
    "090111",  # coffee
    "220421",  # wine in bottles
    "271019",  # petroleum oils
    "300490",  # medicines in doses
    "330499",  # beauty preparations
    "392690",  # other articles of plastics
    "401110",  # car tyres
    "440710",  # coniferous lumber
    "481910",  # corrugated boxes
    "610910",  # cotton T-shirts
    "620462",  # women's cotton trousers
    "640399",  # leather footwear
    "711319",  # jewellery of precious metal
    "720839",  # flat-rolled steel
    "730890",  # steel structures
    "841459",  # fans
    "847330",  # parts of computers
    "851713",  # smartphones
    "851714",  # other mobile phones
    "870323",  # cars, 1.5-3 l petrol
    "870332",  # cars, diesel
    "870899",  # vehicle parts
    "940360",  # wooden furniture
)

#: HS2022 code -> the HS2017 code its 2015–2021 rows are published under. Codes that
#: share a predecessor were one code before 2022 (a split): their older rows are
#: published as one merged series.
HS2017_PREDECESSOR: dict[str, str] = {
    "854800": "854890",
    "880730": "880330",
    "852589": "852580",
    "854149": "854140",
    "854151": "854150",
    "854159": "854150",
    "851713": "851712",
    "851714": "851712",
}

#: How strongly each code fell in the spring 2020 lockdowns, relative to a typical
#: code (1.0): cars and clothing fell hardest, medicines and computers rose.
COVID_SENSITIVITY: dict[str, float] = {
    "300490": -0.4,
    "847150": -0.3,
    "847180": -0.2,
    "851713": 0.3,
    "870323": 1.8,
    "870332": 1.8,
    "870899": 1.6,
    "401110": 1.5,
    "271019": 1.4,
    "610910": 1.3,
    "620462": 1.3,
    "640399": 1.3,
}

# Chapters without CHP goods from which placeholder codes are drawn.
_FILLER_CHAPTERS = [c for c in range(1, 98) if c not in {77, 84, 85, 88, 90, 93}]


@dataclass(frozen=True)
class HsCatalogue:
    """The HS2022 codes of one simulated world.

    Attributes
    ----------
    codes : numpy.ndarray of str
        Sorted six-digit codes.
    chp : numpy.ndarray of bool
        Whether each code is on the Common High Priority list.
    """

    codes: np.ndarray
    chp: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)


def hs_catalogue(n_placeholder: int = 0) -> HsCatalogue:
    """The CHP codes, the named non-CHP codes and ``n_placeholder`` placeholder codes.

    Placeholders are six-digit codes of non-CHP chapters (subheadings ``10``, ``20``,
    ``90`` of headings ``01``–``40``), taken in a fixed spread-out order so that a larger
    world extends a smaller one.

    Examples
    --------
    >>> cat = hs_catalogue()
    >>> len(cat), int(cat.chp.sum())
    (74, 50)
    >>> len(hs_catalogue(100))
    174
    """
    named = set(CHP_CODES) | set(NON_CHP_CODES) | set(HS2017_PREDECESSOR.values())
    candidates = [
        f"{chapter:02d}{heading:02d}{sub:02d}"
        for chapter in _FILLER_CHAPTERS
        for heading in range(1, 41)
        for sub in (10, 20, 90)
    ]
    candidates = [c for c in candidates if c not in named]
    if n_placeholder > len(candidates):
        raise ValueError(
            f"a world needs at most {len(candidates)} placeholder HS codes, "
            f"asked for {n_placeholder}"
        )
    # A fixed permutation spreads the placeholders over all chapters.
    order = np.random.default_rng(2022).permutation(len(candidates))[:n_placeholder]
    codes = np.array(sorted([*CHP_CODES, *NON_CHP_CODES, *np.asarray(candidates)[order]]))
    return HsCatalogue(codes=codes, chp=np.isin(codes, list(CHP_CODES)))
