from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from anomaly.report import read_scoring_output, summarize

from .support import write_scoring_output


def test_counts_and_positive_excess_of_alerts_only(out_dir: Path) -> None:
    output = read_scoring_output(out_dir)
    leads = output.leads
    summary = summarize(output)
    alerted = leads.loc[leads["alert"]]
    assert summary.n_series == 5
    assert summary.n_alerts == 3
    assert summary.total_excess == pytest.approx(alerted["excess_value"].sum())
    assert summary.by_partner["group"].tolist() == ["ARM", "KGZ", "KAZ"]
    assert summary.by_partner["excess_value"].sum() == pytest.approx(summary.total_excess)


def test_groups_by_chp_tier_when_leads_have_one(out_dir: Path) -> None:
    summary = summarize(read_scoring_output(out_dir))
    assert summary.group_label == "CHP tier"
    assert sorted(summary.by_group["group"]) == ["1", "2", "not on CHP list"]


def test_groups_by_hs_chapter_otherwise(tmp_path: Path) -> None:
    summary = summarize(read_scoring_output(write_scoring_output(tmp_path, tier=False)))
    assert summary.group_label == "HS chapter"
    assert sorted(summary.by_group["group"]) == ["84", "85"]


def test_negative_excess_does_not_offset(out_dir: Path) -> None:
    leads = pd.read_csv(out_dir / "leads.csv", dtype=str, keep_default_na=False)
    leads["alert"] = "true"
    leads.loc[4, "excess_value"] = "-1e12"
    leads.to_csv(out_dir / "leads.csv", index=False)
    summary = summarize(read_scoring_output(out_dir))
    assert summary.total_excess == pytest.approx(leads["excess_value"][:4].astype(float).sum())


def test_long_tails_are_added_up(out_dir: Path) -> None:
    leads = pd.read_csv(out_dir / "leads.csv", dtype=str, keep_default_na=False)
    leads["alert"] = "true"
    leads.to_csv(out_dir / "leads.csv", index=False)
    summary = summarize(read_scoring_output(out_dir), limit=2)
    assert summary.by_partner["group"].tolist() == ["ARM", "KGZ", "3 others"]
    assert summary.by_partner["alerts"].tolist() == [1, 1, 3]
    assert summary.by_partner["excess_value"].sum() == pytest.approx(summary.total_excess)
