from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from anomaly.errors import DataError, FormatError, InvalidValueError
from anomaly.report import LEAD_COLUMNS, read_scoring_output


def test_reads_leads_in_rank_order_with_types(out_dir: Path) -> None:
    leads = pd.read_csv(out_dir / "leads.csv", dtype=str)
    leads.iloc[::-1].to_csv(out_dir / "leads.csv", index=False)
    output = read_scoring_output(out_dir)
    assert output.leads["rank"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert output.leads["alert"].dtype == bool
    assert output.leads["excess_value"].dtype == "float64"
    assert "010121" in output.leads["hs"].tolist()  # leading zero kept
    assert "model_version" not in output.leads.columns
    assert output.currency == "EUR"
    assert output.model == "pooled-hurdle"
    assert output.scored_window == (pd.Period("2022-01", "M"), pd.Period("2022-12", "M"))
    assert output.scores_path == out_dir / "scores.parquet"


def test_without_run_json_nothing_is_guessed(out_dir: Path) -> None:
    (out_dir / "run.json").unlink()
    (out_dir / "scores.parquet").unlink()
    output = read_scoring_output(out_dir)
    assert (output.currency, output.model, output.scored_window) == (None, None, None)
    assert output.scores_path is None


def test_missing_directory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError, match="no such directory") as caught:
        read_scoring_output(missing)
    assert str(missing) in str(caught.value) and "leads.csv" in str(caught.value)


def test_a_file_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text("rank\n")
    with pytest.raises(DataError, match="not a directory"):
        read_scoring_output(tmp_path / "leads.csv")


def test_directory_without_leads(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no leads\.csv") as caught:
        read_scoring_output(tmp_path)
    assert str(tmp_path) in str(caught.value) and "anomaly score" in str(caught.value)


def test_missing_columns_are_all_listed(out_dir: Path) -> None:
    leads = pd.read_csv(out_dir / "leads.csv", dtype=str)
    leads.drop(columns=["score", "explanation", "upper"]).to_csv(out_dir / "leads.csv", index=False)
    with pytest.raises(FormatError, match="missing required columns score, upper, explanation"):
        read_scoring_output(out_dir)


def test_mirror_gap_tier_and_label_are_optional(out_dir: Path) -> None:
    leads = pd.read_csv(out_dir / "leads.csv", dtype=str)
    leads[list(LEAD_COLUMNS)].to_csv(out_dir / "leads.csv", index=False)
    assert list(read_scoring_output(out_dir).leads.columns) == list(LEAD_COLUMNS)


def test_nan_spellings_are_missing_values(out_dir: Path) -> None:
    leads = pd.read_csv(out_dir / "leads.csv", dtype=str, keep_default_na=False)
    leads["mirror_gap"] = ["", "NaN", "nan", "NA", " "]
    leads.to_csv(out_dir / "leads.csv", index=False)
    assert read_scoring_output(out_dir).leads["mirror_gap"].isna().all()


def test_empty_file(out_dir: Path) -> None:
    (out_dir / "leads.csv").write_text("")
    with pytest.raises(FormatError, match="empty file"):
        read_scoring_output(out_dir)


def test_header_only_is_no_leads(out_dir: Path) -> None:
    (out_dir / "leads.csv").write_text(",".join(LEAD_COLUMNS) + "\n")
    assert read_scoring_output(out_dir).leads.empty


@pytest.mark.parametrize(("column", "value"), [("score", "high"), ("alert", "maybe")])
def test_bad_cells_are_located(out_dir: Path, column: str, value: str) -> None:
    leads = pd.read_csv(out_dir / "leads.csv", dtype=str, keep_default_na=False)
    leads.loc[2, column] = value
    leads.to_csv(out_dir / "leads.csv", index=False)
    with pytest.raises(InvalidValueError, match=f"column '{column}', line 4"):
        read_scoring_output(out_dir)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "a JSON list at the top level"),
        (json.dumps({"scored_window": "2022"}), "scored_window"),
    ],
)
def test_bad_run_json(out_dir: Path, text: str, match: str) -> None:
    (out_dir / "run.json").write_text(text)
    with pytest.raises(FormatError, match=match) as caught:
        read_scoring_output(out_dir)
    assert "run.json" in str(caught.value)


def test_structured_model_is_shown_as_json(out_dir: Path) -> None:
    run = {"model": {"name": "ets", "alpha": 0.1}, "currency": "USD"}
    (out_dir / "run.json").write_text(json.dumps(run))
    assert read_scoring_output(out_dir).model == '{"alpha": 0.1, "name": "ets"}'


def test_the_months_read_as_missing_come_from_run_json():
    from anomaly.report.inputs import _coverage

    run = {
        "coverage": {
            "partial": {"RUS": ["2022-01"]},
            "not published": {"RUS": ["2022-02", "2022-03"]},
        }
    }
    assert _coverage(run) == "not published: RUS 2022-02..2022-03 (2 months); partial: RUS 2022-01"
    assert _coverage({}) is None
    assert _coverage({"coverage": ["bad"]}) is None


def test_outputs_of_different_runs_are_refused(tmp_path):
    import pyarrow as pa

    from anomaly.model.outputs import write_outputs

    def leads(n: int) -> pd.DataFrame:
        text = {"reporter": "DEU", "partner": "KGZ", "flow": "export", "hs": "854231"}
        numbers = {"score": 1.0, "actual": 2.0, "expected": 1.0, "lower": 0.5, "upper": 1.5}
        rows = {**text, **numbers, "excess_value": 1.0, "mirror_gap": None}
        frame = pd.DataFrame([rows] * n).assign(rank=range(1, n + 1), alert=False)
        frame = frame.assign(signals="", explanation="x")
        return frame[list(LEAD_COLUMNS)]

    scores = [pa.table({"period": ["2022-01"], "actual": [1.0]})]
    first = write_outputs(tmp_path / "a", leads(3), scores, {"n_series": 3})
    second = write_outputs(tmp_path / "b", leads(2), scores, {"n_series": 2})
    assert len(read_scoring_output(first).leads) == 3
    # A run killed between its renames: the new leads.csv beside the old run.json.
    (first / "leads.csv").write_bytes((second / "leads.csv").read_bytes())
    with pytest.raises(DataError, match=r"leads.csv is not the file this run.json"):
        read_scoring_output(first)
