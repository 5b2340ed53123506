"""Format detection from the header, and forcing a format."""

from __future__ import annotations

import pytest

from anomaly.errors import FormatError
from anomaly.io import FORMATS, read_flows
from anomaly.io.formats import detect_format

HEADERS = {
    "canonical": "period,reporter,partner,flow,hs,value,quantity,weight_kg",
    "comext": "reporter,partner,product,flow,period,value",
    "comext-relational": "REPORTER,PARTNER,PRODUCT,FLOW,STAT_PROCEDURE,PERIOD,VALUE_IN_EUR",
    "comext-bulk": "DECLARANT,DECLARANT_ISO,PARTNER,PARTNER_ISO,TRADE_TYPE,PRODUCT_NC,"
    "PRODUCT_SITC,FLOW,STAT_REGIME,SUPP_UNIT,PERIOD,VALUE_IN_EUROS,QUANTITY_IN_KG,SUP_QUANTITY",
    "comtrade": "year,month,period,period_desc,trade_flow,reporter_code,reporter,partner_code,"
    "partner_iso,partner,commodity_code,trade_value_us,cifvalue,fobvalue,netweight_kg,Qty",
    "comtrade-api": "freqCode,refPeriodId,reporterCode,reporterISO,flowCode,partnerCode,"
    "partnerISO,partner2ISO,cmdCode,customsCode,motCode,qty,netWgt,cifvalue,fobvalue,primaryValue",
}


@pytest.mark.parametrize("format", FORMATS)
def test_each_format_is_recognised(format):
    assert detect_format(HEADERS[format].split(",")) == format


def test_the_formats_are_distinct():
    for format, header in HEADERS.items():
        others = [other for other in FORMATS if other != format]
        assert all(detect_format(HEADERS[other].split(",")) != format for other in others)
        assert detect_format(header.split(",")) == format


def test_detection_from_a_file_with_bom_and_quotes(write):
    path = write(
        "x.csv",
        '\ufeff"period","reporter","partner","flow","hs","value"\n"2022-01","DEU","KGZ","export","0101","1"\n',
    )
    flows = read_flows(path, currency="EUR")
    assert flows.attrs["formats"] == ["canonical"]
    assert flows["hs"].tolist() == ["0101"]


def test_forcing_the_detected_format_is_the_same(write):
    path = write(
        "x.csv",
        "reporter,partner,product,flow,period,value\nGermany,Georgia,0101,EXPORT,2022-01,3\n",
    )
    assert read_flows(path, format="comext").equals(read_flows(path))


def test_forcing_a_format_whose_columns_are_missing(write):
    path = write(
        "x.csv",
        "reporter,partner,product,flow,period,value\nGermany,Georgia,0101,EXPORT,2022-01,3\n",
    )
    with pytest.raises(FormatError) as caught:
        read_flows(path, format="canonical")
    message = str(caught.value)
    assert "needs column(s) hs" in message and "'product'" in message


def test_unknown_header_lists_columns_and_formats(write):
    path = write("x.csv", "when,who,what\n2022-01,DEU,3\n")
    with pytest.raises(FormatError) as caught:
        read_flows(path)
    message = str(caught.value)
    assert "'when', 'who', 'what' match no known format" in message
    assert all(format in message for format in FORMATS)


@pytest.mark.parametrize("format", ["auto", "canonical"])
def test_a_header_in_another_case_names_the_renames(write, format):
    path = write("x.csv", "Period,Reporter,Partner,Flow,HS,Value\n2022-01,DEU,KGZ,export,0101,3\n")
    with pytest.raises(FormatError) as caught:
        read_flows(path, format=format)
    message = str(caught.value)
    assert "'Period' → 'period'" in message and "'HS' → 'hs'" in message


def test_a_header_that_fits_only_in_part_by_case_is_not_offered_renames(write):
    path = write("x.csv", "Period,Reporter,Partner,Flow,Value\n2022-01,DEU,KGZ,X,3\n")
    with pytest.raises(FormatError, match="match no known format") as caught:
        read_flows(path)
    assert "→" not in str(caught.value)


def test_semicolon_separated_file(write):
    path = write(
        "x.csv", "period;reporter;partner;flow;hs;value\n2022-01;DEU;KGZ;export;0101;3.5\n"
    )
    assert read_flows(path, currency="EUR")["value"].tolist() == [3.5]
