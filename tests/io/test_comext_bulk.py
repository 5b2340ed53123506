"""Comext bulk files: GEO codes, flow 1/2, period code 52, TOTAL, regimes, confidential codes."""

from __future__ import annotations

import pandas as pd
import pytest

from anomaly.errors import DuplicateKeyError, FormatError, UnknownCodeError
from anomaly.io import TOTAL_HS, read_flows

HEADER = (
    "DECLARANT,DECLARANT_ISO,PARTNER,PARTNER_ISO,TRADE_TYPE,PRODUCT_NC,PRODUCT_SITC,"
    "PRODUCT_CPA2002,PRODUCT_CPA2008,PRODUCT_CPA2_1,PRODUCT_BEC,PRODUCT_BEC5,PRODUCT_SECTION,"
    "FLOW,STAT_REGIME,SUPP_UNIT,PERIOD,VALUE_IN_EUROS,QUANTITY_IN_KG,SUP_QUANTITY\n"
)
# A slice of full202301.dat as Eurostat lays it out (values invented, layout real).
MONTHLY = HEADER + (
    # line 2-3: Germany -> Russia, processors, normal trade and inward processing
    "004,DE,0075,RU,E,85423190,77642,321011,261130,261130,322,32,XVI,2,1,p/st,202301,125000,12,3400\n"
    "004,DE,0075,RU,E,85423190,77642,321011,261130,261130,322,32,XVI,2,2,p/st,202301,5000,1,100\n"
    # line 4: Germany -> Kyrgyzstan, only normal trade
    "004,DE,0083,KG,E,85423190,77642,321011,261130,261130,322,32,XVI,2,1,p/st,202301,90000,7,2100\n"
    # line 5: France -> Armenia, total over all products
    "001,FR,0077,AM,E,TOTAL,TOTAL,TOTAL,TOTAL,TOTAL,TOTAL,TOTAL,TOTAL,2,1,,202301,7300000,250000,\n"
    # line 6: Netherlands imports from Kazakhstan, no ISO columns filled: GEO numbers
    "003,,0079,,E,27090090,33300,111010,061010,061010,31,31,V,1,1,,202301,41000000,80000000,\n"
    # line 7: a partner withheld for commercial or military reasons
    "004,DE,0977,QX,E,85423190,77642,321011,261130,261130,322,32,XVI,2,1,p/st,202301,3000,1,50\n"
    # line 8: trade confidential at product level
    "001,FR,0075,RU,E,27SSS271,33400,232011,192021,192021,32,32,V,2,1,,202301,660000,900000,\n"
)


def test_bulk_monthly_file(write):
    flows = read_flows(write("full202301.csv", MONTHLY))
    assert flows.attrs["formats"] == ["comext-bulk"]
    assert flows.attrs["currency"] == "EUR"
    assert flows["period"].dtype == pd.PeriodDtype("M")
    got = flows.assign(period=flows["period"].astype(str))[
        ["period", "reporter", "partner", "flow", "hs", "value", "weight_kg", "quantity"]
    ]
    expected = pd.DataFrame(
        {
            "period": "2023-01",
            "reporter": ["DEU", "DEU", "FRA", "NLD"],
            "partner": ["KGZ", "RUS", "ARM", "KAZ"],
            "flow": ["export", "export", "export", "import"],
            "hs": ["85423190", "85423190", TOTAL_HS, "27090090"],
            # regimes 1 and 2 of DEU -> RUS are summed: 125000 + 5000
            "value": [90000.0, 130000.0, 7300000.0, 41000000.0],
            "weight_kg": [7.0, 13.0, 250000.0, 80000000.0],
            "quantity": [2100.0, 3500.0, float("nan"), float("nan")],
        }
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_categorical=False)
    reasons = {item["reason"].split(" (")[0]: item for item in flows.attrs["dropped"]}
    assert reasons["partner is not a country"]["lines"] == [7]
    assert reasons["product code of trade confidential at product level"]["lines"] == [8]
    summed = next(item for item in flows.attrs["dropped"] if "summed" in item["reason"])
    assert (summed["rows"], summed["lines"]) == (1, [2, 3])


def test_bulk_annual_file_uses_period_code_52(write):
    text = HEADER + (
        "004,DE,0083,KG,E,85423190,77642,321011,261130,261130,322,32,XVI,2,1,p/st,202252,1690000,120,40000\n"
        "004,DE,0083,KG,E,85423190,77642,321011,261130,261130,322,32,XVI,2,1,p/st,202152,51000,4,900\n"
    )
    flows = read_flows(write("full202252.csv", text))
    assert flows["period"].dtype == pd.PeriodDtype("Y")
    assert flows["period"].astype(str).tolist() == ["2021", "2022"]


def test_a_regime_total_is_kept_instead_of_its_parts(write):
    text = HEADER + (
        "004,DE,0075,RU,E,85423190,77642,321011,261130,261130,322,32,XVI,2,1,p/st,200701,100,1,1\n"
        "004,DE,0075,RU,E,85423190,77642,321011,261130,261130,322,32,XVI,2,2,p/st,200701,20,1,1\n"
        "004,DE,0075,RU,E,85423190,77642,321011,261130,261130,322,32,XVI,2,4,p/st,200701,120,2,2\n"
    )
    flows = read_flows(write("full200701.csv", text))
    assert flows["value"].tolist() == [120.0]
    (dropped,) = flows.attrs["dropped"]
    assert (dropped["rows"], dropped["lines"]) == (2, [2, 3])


def test_the_same_regime_twice_is_a_duplicate(write):
    line = (
        "004,DE,0075,RU,E,85423190,77642,321011,261130,261130,322,32,XVI,2,1,p/st,202301,100,1,1\n"
    )
    with pytest.raises(DuplicateKeyError, match="lines 3, 4"):
        read_flows(write("dup.csv", HEADER + line.replace("0075,RU", "0083,KG") + line + line))


def test_unknown_flow_code(write):
    line = (
        "004,DE,0075,RU,E,85423190,77642,321011,261130,261130,322,32,XVI,3,1,p/st,202301,100,1,1\n"
    )
    with pytest.raises(UnknownCodeError, match="column 'FLOW', line 2: unknown flow"):
        read_flows(write("flow.csv", HEADER + line))


def test_unknown_geo_number(write):
    line = "004,DE,0999,,E,85423190,77642,321011,261130,261130,322,32,XVI,2,1,p/st,202301,100,1,1\n"
    with pytest.raises(UnknownCodeError, match="'0999'"):
        read_flows(write("geo.csv", HEADER + line))


def test_bulk_file_converted_to_parquet(write, tmp_path):
    csv = write("full202301.csv", MONTHLY)
    typed = pd.read_csv(csv, dtype={"PRODUCT_NC": str, "DECLARANT_ISO": str, "PARTNER_ISO": str})
    assert typed["PERIOD"].dtype == "int64" and typed["DECLARANT"].dtype == "int64"
    typed.to_parquet(tmp_path / "full202301.parquet")
    from_parquet = read_flows(tmp_path / "full202301.parquet")
    pd.testing.assert_frame_equal(from_parquet, read_flows(csv))
    # Product codes stored as numbers have lost their leading zeros: refused.
    typed.assign(PRODUCT_NC=typed["PRODUCT_NC"].str.replace("TOTAL", "0")).loc[
        lambda frame: ~frame["PRODUCT_NC"].str.contains("S")
    ].astype({"PRODUCT_NC": "int64"}).to_parquet(tmp_path / "numbers.parquet")
    with pytest.raises(FormatError, match=r"column 'PRODUCT_NC'.*leading zeros"):
        read_flows(tmp_path / "numbers.parquet")
