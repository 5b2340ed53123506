"""UN Comtrade API v1 records: flow codes, breakdown totals, World, refPeriodId."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.errors import FormatError, PeriodError, UnknownCodeError
from anomaly.io import read_flows

COLUMNS = (
    "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,"
    "reporterDesc,flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,"
    "partner2ISO,partner2Desc,classificationCode,cmdCode,cmdDesc,aggrLevel,isLeaf,"
    "customsCode,mosCode,motCode,qtyUnitCode,qty,netWgt,cifvalue,fobvalue,primaryValue"
).split(",")


def record(flow: str, partner: str, value: str, **changes: str) -> dict[str, str]:
    """One API record of Armenia's smartphone trade, January 2023, as the API returns it."""
    fields = {
        "typeCode": "C", "freqCode": "M", "refPeriodId": "20230101", "refYear": "2023",
        "refMonth": "1", "period": "202301", "reporterCode": "51", "reporterISO": "ARM",
        "reporterDesc": "Armenia", "flowCode": flow, "flowDesc": "", "partnerCode": "",
        "partnerISO": partner, "partnerDesc": "", "partner2Code": "0", "partner2ISO": "W00",
        "partner2Desc": "World", "classificationCode": "H6", "cmdCode": "851713",
        "cmdDesc": "Smartphones", "aggrLevel": "6", "isLeaf": "True", "customsCode": "C00",
        "mosCode": "0", "motCode": "0", "qtyUnitCode": "5", "qty": "1000", "netWgt": "500.5",
        "cifvalue": value if flow in ("M", "RM") else "",
        "fobvalue": value if flow in ("X", "RX") else "",
        "primaryValue": value,
    }  # fmt: skip
    return {**fields, **changes}


def csv(*records: dict[str, str], without: tuple[str, ...] = ()) -> str:
    columns = [column for column in COLUMNS if column not in without]
    lines = [",".join(columns)] + [",".join(item[c] for c in columns) for item in records]
    return "\n".join(lines) + "\n"


def test_api_records(write):
    text = csv(
        record("M", "CHN", "250000.5"),  # line 2
        record("X", "RUS", "38116838.5"),  # line 3
        record("RX", "KGZ", "1400"),  # line 4
        record("X", "W00", "40000000"),  # line 5: World, a total
        record("DX", "RUS", "37000000"),  # line 6: domestic exports, a part of X
        record("X", "RUS", "100", motCode="2100"),  # line 7: by road only
        record("X", "RUS", "100", partner2ISO="KAZ", partner2Code="398"),  # line 8: via KAZ
    )
    flows = read_flows(write("comtrade_api.csv", text))
    assert flows.attrs["formats"] == ["comtrade-api"]
    assert flows.attrs["currency"] == "USD"
    got = flows.assign(period=flows["period"].astype(str))
    assert got[["period", "reporter", "partner", "flow", "hs"]].values.tolist() == [
        ["2023-01", "ARM", "CHN", "import", "851713"],
        ["2023-01", "ARM", "KGZ", "re-export", "851713"],
        ["2023-01", "ARM", "RUS", "export", "851713"],
    ]
    assert flows["value"].tolist() == [250000.5, 1400.0, 38116838.5]
    assert flows["value_cif"].iloc[0] == 250000.5
    assert flows["value_fob"].tolist()[1:] == [1400.0, 38116838.5]
    assert np.isnan(flows["value_fob"].iloc[0])
    assert flows["quantity"].tolist() == [1000.0] * 3
    assert flows["weight_kg"].tolist() == [500.5] * 3
    dropped = [(item["reason"].split(" ")[:2], item["lines"]) for item in flows.attrs["dropped"]]
    assert dropped == [
        (["a", "breakdown"], [7, 8]),
        (["flow", "DX:"], [6]),
        (["partner", "is"], [5]),
    ]


def test_partner_code_used_where_the_iso_code_is_blank(write):
    text = csv(record("M", "", "42", partnerCode="156", cifvalue="", fobvalue="40"))
    flows = read_flows(write("codes.csv", text))
    assert flows["partner"].tolist() == ["CHN"]
    # No CIF value for an import: the primary value is used, the FOB value kept beside it.
    assert (flows["value"].item(), flows["value_fob"].item()) == (42.0, 40.0)


def test_ref_period_id_read_with_the_frequency(write):
    annual = record("M", "CHN", "2", refPeriodId="20220101", freqCode="A", refMonth="52")
    flows = read_flows(write("annual.csv", csv(annual, without=("period",))))
    assert flows["period"].dtype == pd.PeriodDtype("Y")
    assert flows["period"].astype(str).tolist() == ["2022"]
    monthly = record("M", "CHN", "1")
    with pytest.raises(PeriodError, match="column 'refPeriodId', line 3: monthly and annual"):
        read_flows(write("mixed.csv", csv(monthly, annual, without=("period",))))


def test_ref_period_id_without_frequency_is_refused(write):
    text = csv(record("M", "CHN", "1"), without=("period", "freqCode", "refMonth"))
    with pytest.raises(FormatError, match="freqCode or refMonth"):
        read_flows(write("bare.csv", text))


def test_unknown_flow_code(write):
    text = csv(record("M", "CHN", "1"), record("ZZ", "CHN", "1"))
    with pytest.raises(UnknownCodeError, match="column 'flowCode', line 3: unknown flow code"):
        read_flows(write("flows.csv", text))
