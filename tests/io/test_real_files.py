"""read_flows on the real files of ../shared/data: counts, exact values, names, attrs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.io import TOTAL_HS, read_flows
from anomaly.schema import KEY_COLUMNS

EUROSTAT = "eurostat_chp_exports_2020_2022.csv"
COMEXT_RELATIONAL = "comext_member_exports_totals_2019_2024.csv"
COMTRADE = "comtrade_armenia_smartphones_2022_2023.csv"


def row(flows: pd.DataFrame, period: str, reporter: str, partner: str, flow: str, hs: str):
    match = flows[
        (flows["period"] == pd.Period(period))
        & (flows["reporter"] == reporter)
        & (flows["partner"] == partner)
        & (flows["flow"] == flow)
        & (flows["hs"] == hs)
    ]
    assert len(match) == 1
    return match.iloc[0]


def check_canonical(flows: pd.DataFrame) -> None:
    assert list(flows.columns[:6]) == [*KEY_COLUMNS, "value"]
    assert flows["value"].dtype == np.float64
    assert (flows["value"] >= 0).all()
    assert not flows.duplicated(list(KEY_COLUMNS)).any()
    keys = flows[list(KEY_COLUMNS)].astype(str)
    assert keys.equals(keys.sort_values(list(KEY_COLUMNS), ignore_index=True))
    assert flows.index.equals(pd.RangeIndex(len(flows)))


def test_eurostat_extract(shared_file):
    flows = read_flows(shared_file(EUROSTAT))
    check_canonical(flows)
    assert len(flows) == 22_809
    assert flows["period"].dtype == pd.PeriodDtype("M")
    assert (flows["period"].min(), flows["period"].max()) == (
        pd.Period("2020-01"),
        pd.Period("2022-11"),
    )
    assert flows.attrs["currency"] == "EUR"
    assert flows.attrs["formats"] == ["comext"]
    assert flows.attrs["sources"] == [str(shared_file(EUROSTAT))]
    assert flows.attrs["dropped"] == []
    # Line 2: Austria,Armenia,84715000,EXPORT,2020-01,24709.0
    assert row(flows, "2020-01", "AUT", "ARM", "export", "84715000")["value"] == 24709.0
    # Line 15797: Germany (incl. ...),Russian Federation (Russia),85423190,EXPORT,2021-03,3645802.0
    assert row(flows, "2021-03", "DEU", "RUS", "export", "85423190")["value"] == 3645802.0
    # Line 7176: Lithuania,Kyrgyzstan,85176200,EXPORT,2022-06,100016.0
    assert row(flows, "2022-06", "LTU", "KGZ", "export", "85176200")["value"] == 100016.0
    assert set(flows["partner"]) == {"ARM", "BLR", "GEO", "KAZ", "KGZ", "RUS", "UZB"}
    assert flows["reporter"].nunique() == 27
    # Every product code of this file is CN8, so no heading sits beside its children.
    assert flows["hs"].str.len().eq(8).all()
    assert flows.attrs["hs_overlaps"]["count"] == 0


def test_eurostat_integrated_circuits_to_kyrgyzstan(shared_file):
    # PROVENANCE.md: EU exports of HS 8542 to Kyrgyzstan, 44k EUR (2020) -> 1.68M (Jan-Nov 2022).
    flows = read_flows(shared_file(EUROSTAT))
    chips = flows[flows["hs"].str.startswith("8542") & (flows["partner"] == "KGZ")]
    by_year = chips.groupby(chips["period"].dt.year)["value"].sum()
    assert round(by_year[2020], -3) == 44_000
    assert round(by_year[2022], -4) == 1_670_000


def test_comext_relational_download(shared_file):
    path = shared_file(COMEXT_RELATIONAL)
    flows = read_flows(path)
    check_canonical(flows)
    # 14,063 data rows; the 4 aggregate reporters (EU27, EU, euro area x2) have 476 rows each.
    assert len(flows) == 14_063 - 4 * 476
    (dropped,) = flows.attrs["dropped"]
    assert dropped["rows"] == 4 * 476
    assert "reporter is not a country" in dropped["reason"]
    assert flows.attrs["currency"] == "EUR"
    assert (flows["hs"] == TOTAL_HS).all()
    assert set(flows["flow"]) == {"export", "import"}
    assert (flows["period"].min(), flows["period"].max()) == (
        pd.Period("2019-01"),
        pd.Period("2024-08"),
    )
    # Line 2 spells its period "201910-Oct. 2019": Malta,Kazakhstan,...,317
    assert row(flows, "2019-10", "MLT", "KAZ", "export", TOTAL_HS)["value"] == 317
    # Lines 6673 and 11520 spell it "Aug. 2024".
    assert row(flows, "2024-08", "DEU", "KGZ", "import", TOTAL_HS)["value"] == 821296
    assert row(flows, "2024-08", "DEU", "KGZ", "export", TOTAL_HS)["value"] == 56858255
    assert "GBR" in set(flows["reporter"])


def test_comtrade_legacy_download(shared_file):
    flows = read_flows(shared_file(COMTRADE))
    check_canonical(flows)
    # 286 records; 6 have the partner "Areas, nes" (_X), which is no country.
    assert len(flows) == 280
    (dropped,) = flows.attrs["dropped"]
    assert (dropped["rows"], dropped["lines"]) == (6, [27, 53, 107, 144, 157])
    assert "'_X'" in dropped["reason"]
    assert flows.attrs["currency"] == "USD"
    assert list(flows.columns) == [
        *KEY_COLUMNS,
        "value",
        "quantity",
        "weight_kg",
        "value_fob",
        "value_cif",
    ]
    assert set(flows["reporter"]) == {"ARM"}
    assert set(flows["hs"]) == {"851713"}
    # Line 2: export to Czechia, Jan 2022: trade 28013.76, cif NA, fob 28013.76, 54 u, 11.4 kg.
    export = row(flows, "2022-01", "ARM", "CZE", "export", "851713")
    assert export["value"] == export["value_fob"] == 28013.76
    assert np.isnan(export["value_cif"])
    assert (export["quantity"], export["weight_kg"]) == (54, 11.4)
    # Line 3: import from China, Jan 2022: cif 3433495.59.
    imported = row(flows, "2022-01", "ARM", "CHN", "import", "851713")
    assert imported["value"] == imported["value_cif"] == 3433495.59
    assert np.isnan(imported["value_fob"])
    # Line 176 writes Curaçao in Windows-1252 inside a UTF-8 file; its code is read all the same.
    assert row(flows, "2023-05", "ARM", "CUW", "import", "851713")["value"] == 74811.49


def test_real_files_of_one_currency_read_together(shared_file):
    flows = read_flows([shared_file(EUROSTAT), shared_file(COMEXT_RELATIONAL)])
    assert len(flows) == 22_809 + 12_159
    assert flows.attrs["formats"] == ["comext", "comext-relational"]
    # The relational totals sit beside the products of the extract for the same flows.
    overlaps = flows.attrs["hs_overlaps"]
    assert overlaps["count"] > 0
    assert overlaps["examples"][0]["hs"] == TOTAL_HS


def test_eurostat_and_comtrade_currencies_are_not_mixed(shared_file):
    from anomaly.errors import CurrencyError

    with pytest.raises(CurrencyError, match="different currencies"):
        read_flows([shared_file(EUROSTAT), shared_file(COMTRADE)])
