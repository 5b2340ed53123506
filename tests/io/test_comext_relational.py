"""Comext "relational view" downloads: stacked downloads and their quirks."""

from __future__ import annotations

import re

import pytest

from anomaly.errors import ConfidentialValueError, FormatError, PeriodError
from anomaly.io import TOTAL_HS, read_flows

HEADER = "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR\r\n"
FRANCE = (
    "\"France (incl. Saint Barthélemy 'BL' -> 2012; incl. French Guiana 'GF', Guadeloupe 'GP', "
    "Martinique 'MQ', Réunion 'RE' from 1997; incl. Mayotte 'YT' from 2014)\""
)
EU27 = (
    '"European Union - 27 countries (AT, BE, BG, CY, CZ, DE, DK, EE, ES, FI, FR, GR, HR, HU, '
    'IE, IT, LT, LU, LV, MT, NL, PL, PT, RO, SE, SI, SK)"'
)
STACKED = (
    HEADER
    + "Malta,Kazakhstan,TOTAL-Total,EXPORT,T-Total,201910-Oct. 2019,317\r\n"  # 2
    + f"{FRANCE},Armenia,TOTAL-Total,EXPORT,T-Total,201911-Nov. 2019,1200\r\n"  # 3
    + "\r\n"  # 4: blank line between downloads
    + HEADER  # 5: the next download's header
    + f"{FRANCE},Armenia,Total,EXPORT,Total,Aug. 2024,5100\r\n"  # 6
    + f"{EU27},Armenia,Total,EXPORT,Total,Aug. 2024,99000\r\n"  # 7: aggregate reporter
    + "Malta,Kyrgyzstan,Total,IMPORT,Total,Sep. 2021,7\r\n"  # 8
)


def test_stacked_downloads(write):
    flows = read_flows(write("comext.csv", STACKED))
    assert flows.attrs["formats"] == ["comext-relational"]
    got = flows.assign(period=flows["period"].astype(str))
    assert got.values.tolist() == [
        ["2019-10", "MLT", "KAZ", "export", TOTAL_HS, 317.0],
        ["2019-11", "FRA", "ARM", "export", TOTAL_HS, 1200.0],
        ["2021-09", "MLT", "KGZ", "import", TOTAL_HS, 7.0],
        ["2024-08", "FRA", "ARM", "export", TOTAL_HS, 5100.0],
    ]
    dropped = {item["reason"].split(" (")[0]: item["lines"] for item in flows.attrs["dropped"]}
    assert dropped == {"repeated header line": [5], "reporter is not a country": [7]}


def test_code_and_label_must_agree(write):
    text = HEADER + "Malta,Kazakhstan,TOTAL-Total,EXPORT,T-Total,201910-Nov. 2019,317\r\n"
    with pytest.raises(PeriodError, match=re.escape("'201910-Nov. 2019' cannot be parsed")):
        read_flows(write("comext.csv", text))


def test_confidential_cells(write):
    text = STACKED + "Malta,Georgia,Total,EXPORT,Total,Sep. 2021,:\r\n"
    with pytest.raises(ConfidentialValueError, match="column 'VALUE_IN_EUR', line 9"):
        read_flows(write("comext.csv", text))


def test_procedures_beside_their_total_are_left_out(write):
    text = STACKED + (
        "Malta,Kazakhstan,TOTAL-Total,EXPORT,1-Normal,201910-Oct. 2019,300\r\n"  # 9
        "Malta,Kazakhstan,TOTAL-Total,EXPORT,2-Inward processing,201910-Oct. 2019,17\r\n"
    )
    flows = read_flows(write("comext.csv", text))
    assert len(flows) == 4
    assert flows["value"].sum() == 317 + 1200 + 7 + 5100
    procedures = next(item for item in flows.attrs["dropped"] if "procedure" in item["reason"])
    assert procedures["lines"] == [9, 10]


def test_procedures_without_a_total_are_refused(write):
    text = HEADER + "Malta,Kazakhstan,TOTAL-Total,EXPORT,1-Normal,201910-Oct. 2019,300\r\n"
    with pytest.raises(FormatError, match=r"column 'STAT_PROCEDURE', line 2: .*without a total"):
        read_flows(write("comext.csv", text))


def test_products_with_codes_and_labels(write):
    text = HEADER + (
        "Malta,Kazakhstan,85423190-Processors and controllers,EXPORT,T-Total,201910-Oct. 2019,3\r\n"
        "Malta,Kazakhstan,8542-Electronic integrated circuits,EXPORT,T-Total,201910-Oct. 2019,5\r\n"
    )
    flows = read_flows(write("comext.csv", text))
    assert flows["hs"].tolist() == ["8542", "85423190"]
    assert flows.attrs["hs_overlaps"]["count"] == 1


def test_quantity_indicators(write):
    text = (
        "REPORTER,PARTNER,PRODUCT,FLOW,PERIOD,VALUE_IN_EUR,QUANTITY_IN_100KG,SUPPLEMENTARY_QUANTITY\n"
        "Malta,Kazakhstan,TOTAL-Total,EXPORT,201910-Oct. 2019,317,2.5,\n"
    )
    flows = read_flows(write("comext.csv", text))
    assert flows["weight_kg"].tolist() == [250.0]
    assert flows["quantity"].isna().all()
