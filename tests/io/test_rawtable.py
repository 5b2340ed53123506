"""Layout quirks: encodings, line ends, compression sniffed from content."""

from __future__ import annotations

import gzip

import pandas as pd

from anomaly.io import read_flows
from anomaly.io.rawtable import read_raw

COMEXT = "reporter,partner,product,flow,period,value\n"


def test_utf8_with_stray_windows_1252_bytes(write):
    path = write(
        "mixed.csv",
        b"\xef\xbb\xbf"
        + COMEXT.encode()
        + "Réunion,Curaçao,01012100,EXPORT,2022-01,1\n".encode()
        + b"Germany,Cura\xe7ao,01012100,EXPORT,2022-01,2\n",
    )
    raw = read_raw(path)
    assert list(raw.frame.columns[:2]) == ["reporter", "partner"]
    assert raw.frame["partner"].tolist() == ["Curaçao", "Curaçao"]


def test_crlf_blank_and_whitespace_lines(write):
    text = (
        COMEXT
        + "Germany,Georgia,0101,EXPORT,2022-01,1\n\n   \nGermany,Georgia,0101,EXPORT,2022-02,2\n"
    )
    raw = read_raw(write("lines.csv", text.replace("\n", "\r\n")))
    assert raw.frame["_line"].tolist() == [2, 5]
    assert raw.frame["value"].tolist() == ["1", "2"]


def test_content_decides_compression_and_layout(write, tmp_path):
    text = COMEXT + "Germany,Georgia,0101,EXPORT,2022-01,1\n"
    gzipped = write("download.csv", gzip.compress(text.encode()))
    assert read_flows(gzipped)["hs"].tolist() == ["0101"]
    pd.read_csv(pd.io.common.StringIO(text), dtype=str).to_parquet(tmp_path / "data.csv")
    assert read_flows(tmp_path / "data.csv")["hs"].tolist() == ["0101"]
