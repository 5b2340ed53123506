"""HS headings beside their own children are kept and recorded, never summed."""

from __future__ import annotations

import pandas as pd

from anomaly.io import TOTAL_HS, validate_flows


def flows(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Rows of (partner, hs, period) exported by Germany."""
    return validate_flows(
        pd.DataFrame(
            {
                "period": [period for _, _, period in rows],
                "reporter": "DEU",
                "partner": [partner for partner, _, _ in rows],
                "flow": "export",
                "hs": [hs for _, hs, _ in rows],
                "value": 1.0,
            }
        )
    )


def test_heading_beside_its_cn8_codes():
    result = flows(
        [
            ("RUS", "8542", "2020-01"),
            ("RUS", "85423190", "2020-01"),
            ("RUS", "85423911", "2020-01"),
            ("RUS", "85176200", "2020-01"),  # not below 8542
            ("KAZ", "85423190", "2020-01"),  # another partner
            ("RUS", "85423190", "2020-02"),  # another month
            ("RUS", "8542", "2020-03"),  # a heading without children
        ]
    )
    assert len(result) == 7
    overlaps = result.attrs["hs_overlaps"]
    assert (overlaps["count"], overlaps["child_rows"]) == (1, 2)
    assert overlaps["examples"] == [
        {"period": "2020-01", "reporter": "DEU", "partner": "RUS", "flow": "export",
         "hs": "8542", "children": 2}
    ]  # fmt: skip


def test_three_levels():
    result = flows(
        [("RUS", "85", "2020-01"), ("RUS", "8542", "2020-01"), ("RUS", "854231", "2020-01")]
    )
    overlaps = result.attrs["hs_overlaps"]
    assert [example["children"] for example in overlaps["examples"]] == [2, 1]
    assert overlaps["child_rows"] == 2


def test_total_beside_products():
    result = flows(
        [("RUS", "TOTAL", "2020-01"), ("RUS", "8542", "2020-01"), ("KAZ", "TOTAL", "2020-01")]
    )
    assert result["hs"].tolist() == [TOTAL_HS, TOTAL_HS, "8542"]
    overlaps = result.attrs["hs_overlaps"]
    assert (overlaps["count"], overlaps["child_rows"]) == (1, 1)
    assert overlaps["examples"][0]["partner"] == "RUS"


def test_one_level_has_no_overlap():
    result = flows([("RUS", "854231", "2020-01"), ("RUS", "854232", "2020-01")])
    assert result.attrs["hs_overlaps"] == {"count": 0, "child_rows": 0, "examples": []}
