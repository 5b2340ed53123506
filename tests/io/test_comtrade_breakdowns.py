"""UN Comtrade breakdowns (issue 11, item 6): a published total wins, breakdowns alone are summed.

Records are API v1 rows of Armenia's smartphone trade (HS 851713), January 2023, as the
API returns them with ``breakdownMode=plus``: each row carries its mode of transport
(``motCode``, total 0 "TOTAL MOT"), customs procedure (``customsCode``, total C00) and
second partner (``partner2Code``/``partner2ISO``, total 0/W00 "World").
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
from pathlib import Path

import numpy as np
import pytest

from anomaly.errors import DuplicateKeyError, InvalidValueError
from anomaly.io import read_flows
from anomaly.io.comtrade import read_comtrade, read_comtrade_api
from anomaly.io.parsed import ParsedFile
from anomaly.io.rawtable import read_raw

COLUMNS = (
    "typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,"
    "reporterDesc,flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,"
    "partner2ISO,partner2Desc,classificationCode,cmdCode,cmdDesc,aggrLevel,isLeaf,"
    "customsCode,customsDesc,mosCode,motCode,motDesc,qtyUnitCode,qty,netWgt,cifvalue,"
    "fobvalue,primaryValue"
).split(",")
#: motCode -> motDesc as Comtrade spells them.
MODES = {
    "0": "TOTAL MOT",
    "1000": "Air",
    "2100": "Rail",
    "2200": "Road",
    "3200": "Sea",
    "9100": "Self-propelled",
}
SECOND_PARTNERS = {"0": ("W00", "World"), "398": ("KAZ", "Kazakhstan"), "268": ("GEO", "Georgia")}
#: The hook that copies a reader's summed breakdowns into read_flows' attrs.
HOOKED = "aggregated" in {field.name for field in dataclasses.fields(ParsedFile)}


def record(
    flow: str,
    partner: str,
    value: str,
    *,
    mot: str = "0",
    customs: str = "C00",
    partner2: str = "0",
    qty: str = "10",
    weight: str = "5",
    **changes: str,
) -> dict[str, str]:
    """One API record; ``mot``, ``customs`` and ``partner2`` place it in the breakdowns."""
    partner2_iso, partner2_desc = SECOND_PARTNERS[partner2]
    fields = {
        "typeCode": "C", "freqCode": "M", "refPeriodId": "20230101", "refYear": "2023",
        "refMonth": "1", "period": "202301", "reporterCode": "51", "reporterISO": "ARM",
        "reporterDesc": "Armenia", "flowCode": flow, "flowDesc": "", "partnerCode": "",
        "partnerISO": partner, "partnerDesc": "", "partner2Code": partner2,
        "partner2ISO": partner2_iso, "partner2Desc": partner2_desc,
        "classificationCode": "H6", "cmdCode": "851713", "cmdDesc": "Smartphones",
        "aggrLevel": "6", "isLeaf": "True", "customsCode": customs,
        "customsDesc": "TOTAL CPC" if customs == "C00" else "", "mosCode": "0",
        "motCode": mot, "motDesc": MODES[mot], "qtyUnitCode": "5", "qty": qty,
        "netWgt": weight,
        "cifvalue": value if flow in ("M", "RM") else "",
        "fobvalue": value if flow in ("X", "RX") else "",
        "primaryValue": value,
    }  # fmt: skip
    return {**fields, **changes}


def api_csv(*records: dict[str, str]) -> str:
    lines = [",".join(COLUMNS)] + [",".join(item[c] for c in COLUMNS) for item in records]
    return "\n".join(lines) + "\n"


def values(flows) -> dict[tuple[str, str], float]:
    """Value per (flow, partner) of a one-month, one-product table."""
    return {
        (flow, partner): value
        for flow, partner, value in flows[["flow", "partner", "value"]].itertuples(index=False)
    }


def aggregated(path: Path) -> list[dict[str, object]]:
    """The reader's record of the breakdowns it summed (attrs["aggregated_breakdowns"])."""
    return read_comtrade_api(read_raw(str(path))).aggregated


def test_modes_only_are_summed_and_said(write, caplog):
    path = write(
        "modes.csv",
        api_csv(
            record("X", "RUS", "100", mot="2200", qty="1", weight="0.5"),  # line 2: road
            record("X", "RUS", "50", mot="2100", qty="2", weight="1"),  # line 3: rail
            record("X", "RUS", "25.5", mot="1000", qty="3", weight="1.5"),  # line 4: air
            record("M", "CHN", "7", mot="9100"),  # line 5: self-propelled
        ),
    )
    with caplog.at_level(logging.INFO, logger="anomaly.io"):
        flows = read_flows(path)
    (message,) = [r.getMessage() for r in caplog.records if r.name == "anomaly.io.comtrade"]
    assert str(path) in message
    assert "2 key(s)" in message and "4 breakdown rows" in message
    assert "by mode of transport: 4 rows of 2 keys" in message
    assert values(flows) == {("export", "RUS"): 175.5, ("import", "CHN"): 7.0}
    export = flows.loc[flows["flow"] == "export"].iloc[0]
    assert export["value_fob"] == 175.5
    assert (export["quantity"], export["weight_kg"]) == (6.0, 3.0)
    assert flows.attrs["dropped"] == []
    assert aggregated(path) == [
        {
            "source": str(path),
            "dimensions": ["mode of transport"],
            "columns": ["motCode"],
            "keys": 2,
            "rows": 4,
            "lines": [2, 3, 4, 5],
        }
    ]


@pytest.mark.skipif(not HOOKED, reason="read_flows does not copy ParsedFile.aggregated yet")
def test_summed_breakdowns_are_in_attrs(write):
    path = write(
        "modes.csv",
        api_csv(record("X", "RUS", "100", mot="2200"), record("X", "RUS", "50", mot="2100")),
    )
    flows = read_flows(path)
    (entry,) = flows.attrs["aggregated_breakdowns"]
    assert (entry["source"], entry["dimensions"], entry["keys"], entry["rows"]) == (
        str(path),
        ["mode of transport"],
        1,
        2,
    )


@pytest.mark.parametrize(
    ("dimension", "changes", "column"),
    [
        ("mode of transport", [{"mot": "2200"}, {"mot": "9100"}], "motCode"),
        ("customs procedure", [{"customs": "C01"}, {"customs": "C02"}], "customsCode"),
        ("second partner", [{"partner2": "398"}, {"partner2": "268"}], "partner2Code"),
    ],
)
def test_each_dimension_alone(write, dimension, changes, column):
    path = write(
        "alone.csv",
        api_csv(*(record("M", "CHN", str(10**i), **change) for i, change in enumerate(changes))),
    )
    assert values(read_flows(path)) == {("import", "CHN"): 11.0}
    (entry,) = aggregated(path)
    assert entry["dimensions"] == [dimension]
    assert entry["columns"][0] == column


def test_a_total_keeps_its_breakdowns_out_and_the_others_are_summed(write):
    path = write(
        "mixed.csv",
        api_csv(
            record("X", "RUS", "1000"),  # line 2: total of export to RUS
            record("X", "RUS", "600", mot="2200"),  # line 3: its road part
            record("X", "RUS", "400", mot="2100"),  # line 4: its rail part
            record("X", "RUS", "1000", customs="C01"),  # line 5: its customs breakdown
            record("X", "KGZ", "30", mot="2200"),  # line 6: export to KGZ, road only
            record("X", "KGZ", "12", mot="9100"),  # line 7: ... self-propelled
            record("M", "CHN", "5"),  # line 8: a total without breakdowns
        ),
    )
    flows = read_flows(path)
    assert values(flows) == {
        ("export", "KGZ"): 42.0,
        ("export", "RUS"): 1000.0,
        ("import", "CHN"): 5.0,
    }
    (dropped,) = flows.attrs["dropped"]
    assert dropped["lines"] == [3, 4, 5]
    assert dropped["reason"] == "a breakdown below the total (mode of transport, customs procedure)"
    (entry,) = aggregated(path)
    assert (entry["keys"], entry["rows"], entry["lines"]) == (1, 2, [6, 7])


def test_breakdowns_in_two_dimensions(write):
    path = write(
        "cross.csv",
        api_csv(
            # Export to RUS: only the cross of mode and customs procedure.
            record("X", "RUS", "10", mot="2200", customs="C01"),  # line 2
            record("X", "RUS", "20", mot="2200", customs="C02"),  # line 3
            record("X", "RUS", "40", mot="2100", customs="C01"),  # line 4
            # Export to KGZ via Kazakhstan: a subtotal over the modes, whose own mode
            # rows are left out; via Georgia: only the modes.
            record("X", "KGZ", "100", partner2="398"),  # line 5
            record("X", "KGZ", "70", partner2="398", mot="2200"),  # line 6
            record("X", "KGZ", "30", partner2="398", mot="2100"),  # line 7
            record("X", "KGZ", "5", partner2="268", mot="2200"),  # line 8
            record("X", "KGZ", "6", partner2="268", mot="1000"),  # line 9
            # Import from CHN: the modes by road beside its own customs breakdown.
            record("M", "CHN", "8", mot="2200"),  # line 10
            record("M", "CHN", "3", mot="2200", customs="C01"),  # line 11
            record("M", "CHN", "5", mot="2200", customs="C02"),  # line 12
            record("M", "CHN", "2", mot="3200", customs="C01"),  # line 13
        ),
    )
    flows = read_flows(path)
    assert values(flows) == {
        ("export", "RUS"): 70.0,
        ("export", "KGZ"): 111.0,
        ("import", "CHN"): 10.0,
    }
    (dropped,) = flows.attrs["dropped"]
    assert dropped["lines"] == [6, 7, 11, 12]
    records = {tuple(entry["dimensions"]): entry for entry in aggregated(path)}
    assert set(records) == {
        ("mode of transport",),
        ("second partner",),
        ("mode of transport", "customs procedure"),
        ("mode of transport", "second partner"),
    }
    assert records["mode of transport", "customs procedure"]["lines"] == [2, 3, 4, 13]
    assert records["mode of transport", "customs procedure"]["keys"] == 2
    assert records["mode of transport", "customs procedure"]["columns"] == [
        "motCode",
        "customsCode",
    ]
    assert records["second partner",]["lines"] == [5]
    assert records["mode of transport", "second partner"]["lines"] == [8, 9]


def test_a_total_is_never_summed_with_its_breakdowns(write):
    path = write(
        "plus.csv",
        api_csv(
            record("X", "RUS", "30", mot="2200", partner2="398"),  # line 2
            record("X", "RUS", "900", mot="2200"),  # line 3: road, every second partner
            record("X", "RUS", "1000"),  # line 4: the total, after its parts
            record("X", "RUS", "100", mot="2100"),  # line 5
            record("X", "RUS", "1000", partner2="398"),  # line 6
        ),
    )
    flows = read_flows(path)
    assert values(flows) == {("export", "RUS"): 1000.0}
    assert flows.attrs["dropped"][0]["lines"] == [2, 3, 5, 6]
    assert aggregated(path) == []


def test_overlapping_breakdowns_without_total_are_summed_once(write, caplog):
    # The same export by mode and by customs procedure: either sums to the total.
    path = write(
        "marginals.csv",
        api_csv(
            record("X", "RUS", "700", customs="C01"),  # line 2
            record("X", "RUS", "300", customs="C02"),  # line 3
            record("X", "RUS", "600", mot="2200"),  # line 4
            record("X", "RUS", "400", mot="2100"),  # line 5
        ),
    )
    with caplog.at_level(logging.WARNING, logger="anomaly.io"):
        flows = read_flows(path)
    assert values(flows) == {("export", "RUS"): 1000.0}
    (dropped,) = flows.attrs["dropped"]
    assert dropped["lines"] == [2, 3]
    assert dropped["reason"].startswith("a breakdown (customs procedure) overlapping")
    assert [entry["dimensions"] for entry in aggregated(path)] == [["mode of transport"]]
    assert any("overlap" in r.getMessage() and "line 2" in r.getMessage() for r in caplog.records)


def test_missing_numbers_in_summed_breakdowns(write):
    path = write(
        "missing.csv",
        api_csv(
            record("X", "RUS", "100", mot="2200", qty="NA", weight="1"),
            record("X", "RUS", "50", mot="2100", qty="4", weight="2"),
            # Quantities in different units (5 = items, 8 = kg) are not summed.
            record("M", "CHN", "1", mot="2200", qty="4", qtyUnitCode="5"),
            record("M", "CHN", "2", mot="2100", qty="4", qtyUnitCode="8"),
        ),
    )
    flows = read_flows(path).set_index("flow")
    # A part of the quantity is unknown: so is the sum; the weights are all known.
    assert np.isnan(flows.loc["export", "quantity"])
    assert flows.loc["export", "weight_kg"] == 3.0
    assert np.isnan(flows.loc["import", "quantity"])
    assert flows.loc["import", "weight_kg"] == 10.0
    # The CIF value is not published for exports: its sum is unknown too.
    assert np.isnan(flows.loc["export", "value_cif"])


def test_a_summed_breakdown_without_value_is_refused_with_its_line(write):
    text = api_csv(
        record("X", "RUS", "100", mot="2200"),  # line 2
        record("X", "RUS", "", mot="2100"),  # line 3: no value at all
    )
    with pytest.raises(InvalidValueError, match=r"line 3: 1 row\(s\) have no trade value"):
        read_flows(write("novalue.csv", text))
    # Beside a total, the same row is left out as before, its value unread.
    text = api_csv(
        record("X", "RUS", "100"),
        record("X", "RUS", "", mot="2100"),
        record("X", "RUS", "oops", mot="2200"),
    )
    assert values(read_flows(write("total.csv", text))) == {("export", "RUS"): 100.0}


def test_a_negative_breakdown_is_refused_with_its_line(write):
    text = api_csv(record("X", "RUS", "100", mot="2200"), record("X", "RUS", "-5", mot="2100"))
    with pytest.raises(InvalidValueError, match="line 3: 1 negative value"):
        read_flows(write("negative.csv", text))


def test_a_repeated_breakdown_is_a_duplicate(write):
    text = api_csv(
        record("X", "RUS", "100", mot="2200"),  # line 2
        record("X", "RUS", "50", mot="2100"),  # line 3
        record("X", "RUS", "100", mot="2200"),  # line 4: line 2 again
    )
    with pytest.raises(DuplicateKeyError, match=r"motCode 2200.* on lines 2 and 4"):
        read_flows(write("twice.csv", text))


def test_legacy_download_split_by_mode_reads_as_its_totals(shared_file, write):
    # The real Armenia file holds only totals (mot_code 0, "TOTAL MOT"). Split every
    # record into a road and an air part and drop the totals: the sums are the totals.
    original = shared_file("comtrade_armenia_smartphones_2022_2023.csv")
    expected = read_flows(original)
    text = original.read_bytes().decode("utf-8", errors="replace").lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames, lineterminator="\n")
    writer.writeheader()
    numbers = ("trade_value_us", "cifvalue", "fobvalue", "netweight_kg", "Qty")
    for row in reader:
        for code, desc, share in (("2200", "Road", 0.25), ("1000", "Air", 0.75)):
            part = {**row, "mot_code": code, "mot_desc": desc}
            for column in numbers:
                if row[column] != "NA":
                    part[column] = repr(float(row[column]) * share)
            writer.writerow(part)
    path = write("armenia_by_mode.csv", out.getvalue())
    flows = read_flows(path)
    assert len(flows) == len(expected) == 280
    assert flows.dtypes.equals(expected.dtypes)
    assert flows[["period", "reporter", "partner", "flow", "hs"]].equals(
        expected[["period", "reporter", "partner", "flow", "hs"]]
    )
    for column in ("value", "value_fob", "value_cif", "quantity", "weight_kg"):
        np.testing.assert_allclose(flows[column], expected[column], rtol=1e-12)
    # The 6 records of "Areas, nes" (_X) are left out, now as 12 parts.
    (dropped,) = flows.attrs["dropped"]
    assert dropped["rows"] == 12 and "'_X'" in dropped["reason"]
    (entry,) = read_comtrade(read_raw(str(path))).aggregated
    assert (entry["columns"], entry["keys"], entry["rows"]) == (["mot_code"], 280, 560)
