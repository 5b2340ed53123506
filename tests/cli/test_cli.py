"""The ``anomaly`` command line: subcommands, outputs, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

import anomaly
from anomaly.cli import build_parser, main
from anomaly.cli.main import EXIT_ARTIFACT, EXIT_DATA, EXIT_IO, EXIT_OK, EXIT_USAGE
from anomaly.forecast import SHORT_NAMES
from anomaly.io import FORMAT_CHOICES

from .conftest import console_script, copy_tree, run

SUBCOMMANDS = ["train", "score", "inspect", "report", "demo", "simulate", "evaluate"]
LEAD_COLUMNS = [
    "rank",
    "reporter",
    "partner",
    "flow",
    "hs",
    "score",
    "alert",
    "actual",
    "expected",
    "lower",
    "upper",
    "excess_value",
    "mirror_gap",
    "signals",
    "explanation",
]
FRAME_COLUMNS = [
    "period",
    "reporter",
    "partner",
    "flow",
    "hs",
    "actual",
    "expected",
    "lower",
    "upper",
    "z",
]


def score_args(model: Path, data: Path, out: Path, start: str = "2022-01") -> list:
    return ["score", "--model", model, "--data", data, "--start", start, "--out", out]


def assert_one_line_error(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("anomaly: error: ")
    assert "Traceback" not in err


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "command", [[], *([c] for c in SUBCOMMANDS)], ids=["anomaly", *SUBCOMMANDS]
)
def test_every_subcommand_has_help_that_exits_zero(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == EXIT_OK
    assert capsys.readouterr().out.startswith(f"usage: {' '.join(['anomaly', *command])}")


def test_an_unknown_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["score", "--no-such-option"])
    assert exit_.value.code == EXIT_USAGE


def test_format_and_forecaster_options_are_the_registries():
    train = ["train", "--data", "f.csv", "--train-end", "2021-12", "--out", "m"]
    for format in FORMAT_CHOICES:
        assert build_parser().parse_args([*train, "--format", format]).format == format
    for name in SHORT_NAMES:
        assert build_parser().parse_args([*train, "--forecaster", name]).forecaster == name
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*train, "--format", "excel"])
    assert exit_.value.code == EXIT_USAGE


def test_train_then_score_writes_leads_scores_and_run(scored_dir, model_dir):
    assert (model_dir / "manifest.json").is_file()
    assert sorted(p.name for p in scored_dir.iterdir()) == [
        "leads.csv",
        "run.json",
        "scores.parquet",
    ]
    leads = pd.read_csv(scored_dir / "leads.csv", dtype={"hs": str})
    assert list(leads.columns[: len(LEAD_COLUMNS)]) == LEAD_COLUMNS
    assert leads["rank"].tolist() == list(range(1, len(leads) + 1))
    assert leads["hs"].str.fullmatch(r"\d{6}").all()  # leading zeros kept
    frame = pd.read_parquet(scored_dir / "scores.parquet")
    assert list(frame.columns[: len(FRAME_COLUMNS)]) == FRAME_COLUMNS
    run_record = json.loads((scored_dir / "run.json").read_text())
    assert run_record["scored_window"] == ["2022-01", "2023-12"]
    assert run_record["n_series"] == len(leads)
    assert run_record["model"] == str(model_dir)


def test_score_prints_the_top_leads(capsys, world_dir, model_dir, tmp_path):
    code, out, err = run(capsys, *score_args(model_dir, world_dir, tmp_path))
    assert code == EXIT_OK
    assert "series scored" in out
    assert "  1. " in out
    assert err == ""  # quiet in logs: no progress output when stderr is not a terminal


def test_scoring_a_csv_input_gives_the_same_leads(
    capsys, world_dir, model_dir, scored_dir, tmp_path
):
    args = score_args(model_dir, world_dir / "csv" / "flows.csv", tmp_path)
    code, _, _ = run(capsys, *args, "--end", "2023-12")
    assert code == EXIT_OK
    expected = pd.read_csv(scored_dir / "leads.csv", dtype={"hs": str})
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "leads.csv", dtype={"hs": str}), expected)


def test_a_model_trained_on_parquet_read_in_partitions_is_the_one_of_its_csv_copy(
    capsys, world_dir, model_dir, tmp_path
):
    # model_dir was trained on the directory's Parquet, read in partitions; the CSV copy
    # of the same rows is read whole: the learned files must be the same to the byte.
    csv = world_dir / "csv" / "flows.csv"
    code, _, err = run(capsys, "train", "--data", csv, "--train-end", "2021-12", "--out", tmp_path)
    assert code == EXIT_OK, err
    expected = json.loads((model_dir / "manifest.json").read_text())
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["files"] == expected["files"]  # each file's size and sha256
    assert manifest["metadata"] == expected["metadata"]  # data fingerprint included


def test_inspect_prints_the_training_window_and_integrity(capsys, model_dir):
    code, out, err = run(capsys, "inspect", model_dir)
    assert code == EXIT_OK
    assert err == ""
    assert "training window   2015-01..2021-12" in out
    assert "integrity" in out and " ok " in out
    no_history = next(line for line in out.splitlines() if line.startswith("no history"))
    assert no_history.endswith("none") or "new in HS2022" in no_history
    assert "TradeAnomalyModel" in out


def test_inspect_names_the_release_that_wrote_the_model(capsys, model_dir, tmp_path):
    code, out, _ = run(capsys, "inspect", model_dir)
    assert code == EXIT_OK
    written_by = next(line for line in out.splitlines() if line.startswith("written by"))
    assert written_by.endswith(f"anomaly {anomaly.__version__}")

    older = copy_tree(model_dir, tmp_path / "older")
    path = older / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["package"]["version"] = "0.0.1"
    path.write_text(json.dumps(manifest))
    code, out, _ = run(capsys, "inspect", older)
    assert code == EXIT_OK
    written_by = next(line for line in out.splitlines() if line.startswith("written by"))
    assert "anomaly 0.0.1 (this is anomaly" in written_by and "refit" in written_by


@pytest.mark.parametrize("command", ["inspect", "score"])
def test_a_tampered_model_is_refused_with_exit_4(capsys, model_dir, world_dir, tmp_path, command):
    tampered = copy_tree(model_dir, tmp_path / "model")
    flip_byte(tampered / "arrays.npz")
    args = (
        ["inspect", tampered]
        if command == "inspect"
        else score_args(tampered, world_dir, tmp_path / "out")
    )
    code, _, err = run(capsys, *args)
    assert code == EXIT_ARTIFACT
    assert_one_line_error(err)
    assert "arrays.npz" in err
    assert not (tmp_path / "out").exists()


def drift_numpy(model: Path) -> None:
    """Record the next major version of numpy in the (unhashed) manifest."""
    path = model / "manifest.json"
    manifest = json.loads(path.read_text())
    major = int(manifest["dependencies"]["numpy"].split(".")[0])
    manifest["dependencies"]["numpy"] = f"{major + 1}.0.0"
    path.write_text(json.dumps(manifest))


def test_a_model_from_other_library_versions_scores_with_one_warning_line(
    capsys, model_dir, world_dir, tmp_path
):
    drifted = copy_tree(model_dir, tmp_path / "model")
    drift_numpy(drifted)

    code, _, err = run(capsys, *score_args(drifted, world_dir, tmp_path / "out"))
    assert code == EXIT_OK
    warning = [line for line in err.splitlines() if "numpy" in line]
    assert len(warning) == 1 and warning[0].startswith("anomaly: warning: "), err
    assert (tmp_path / "out" / "leads.csv").exists()

    code, _, err = run(capsys, *score_args(drifted, world_dir, tmp_path / "o2"), "--strict")
    assert code == EXIT_ARTIFACT
    assert_one_line_error(err)
    assert "different major version" in err


BAD_FILES = {
    "unknown-columns": "a,b\n1,2\n",
    "negative-value": "period,reporter,partner,flow,hs,value\n2021-01,DEU,KGZ,export,854231,-5\n",
    "bad-period": "period,reporter,partner,flow,hs,value\n2021-13,DEU,KGZ,export,854231,5\n",
    "empty": "",
}


@pytest.mark.parametrize("content", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_input_file_exits_3_with_one_line(capsys, tmp_path, content):
    data = tmp_path / "bad.csv"
    data.write_text(content)
    code, _, err = run(
        capsys, "train", "--data", data, "--train-end", "2021-12", "--out", tmp_path / "m"
    )
    assert code == EXIT_DATA
    assert_one_line_error(err)
    assert "bad.csv" in err
    assert not (tmp_path / "m").exists()


def test_a_missing_input_file_exits_3_with_one_line(capsys, tmp_path):
    code, _, err = run(
        capsys,
        "train",
        "--data",
        tmp_path / "gone.csv",
        "--train-end",
        "2021-12",
        "--out",
        tmp_path,
    )
    assert code == EXIT_DATA
    assert_one_line_error(err)
    assert "gone.csv" in err


def test_a_scoring_window_inside_the_training_window_exits_3(
    capsys, world_dir, model_dir, tmp_path
):
    code, _, err = run(capsys, *score_args(model_dir, world_dir, tmp_path, "2021-06"))
    assert code == EXIT_DATA
    assert_one_line_error(err)
    assert "inside the training window" in err


def write_partially_then_fail(original):
    """A CSV writer that leaves half a file behind and then fails (disk full)."""

    def writer(data, sink, *args, **kwargs):
        written = pa.BufferOutputStream()
        original(data, written, *args, **kwargs)
        start = written.getvalue().to_pybytes()[:100]
        if hasattr(sink, "write"):  # a file open for writing
            sink.write(start)
        else:
            Path(sink).write_bytes(start)
        raise OSError(28, "No space left on device")

    return writer


def fail_after_writing(original):
    """A Parquet row-group writer that writes, then fails (disk full)."""

    def write_table(self, table, *args, **kwargs):
        original(self, table, *args, **kwargs)
        raise OSError(28, "No space left on device")

    return write_table


def previous_output(capsys, world_dir, model_dir, tmp_path) -> Path:
    """A scoring output of an earlier run (another window, so other leads)."""
    out = tmp_path / "out"
    code, _, _ = run(capsys, *score_args(model_dir, world_dir, out, "2024-01"))
    assert code == EXIT_OK
    return out


def test_a_failure_while_writing_leads_leaves_the_previous_leads_intact(
    capsys, world_dir, model_dir, tmp_path, monkeypatch
):
    out = previous_output(capsys, world_dir, model_dir, tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(pa_csv, "write_csv", write_partially_then_fail(pa_csv.write_csv))
    assert main([str(a) for a in score_args(model_dir, world_dir, out)]) == EXIT_IO
    err = capsys.readouterr().err
    assert "No space left" in err and str(out / "leads.csv") in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temporary files


def test_a_failure_while_writing_scores_leaves_the_previous_output_intact(
    capsys, world_dir, model_dir, tmp_path, monkeypatch
):
    out = previous_output(capsys, world_dir, model_dir, tmp_path)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    writer = pq.ParquetWriter
    monkeypatch.setattr(writer, "write_table", fail_after_writing(writer.write_table))
    assert main([str(a) for a in score_args(model_dir, world_dir, out)]) == EXIT_IO
    assert "No space left" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_report_writes_report_html(capsys, scored_dir, tmp_path):
    out = copy_tree(scored_dir, tmp_path / "out")
    code, stdout, _ = run(capsys, "report", out, "--top", "5")
    assert code == EXIT_OK
    html = (out / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html")
    assert str(out / "report.html") in stdout


def test_report_of_a_directory_without_leads_exits_3(capsys, tmp_path):
    code, _, err = run(capsys, "report", tmp_path)
    assert code == EXIT_DATA
    assert_one_line_error(err)


def test_simulate_writes_flows_apart_from_labels(capsys, tmp_path):
    code, out, _ = run(capsys, "simulate", "--out", tmp_path / "w", "--series", 200, "--seed", 1)
    assert code == EXIT_OK
    files = {p.name for p in (tmp_path / "w").iterdir() if p.is_file()}
    assert files == {"flows.parquet", "config.json"}  # the only data file is the flows
    labels = pd.read_csv(tmp_path / "w" / "labels" / "labels.csv")
    assert labels["evasion"].any()
    assert "labelled series" in out and f"--data {tmp_path / 'w'}" in out


@pytest.mark.parametrize("labels", [".", "labels/labels.csv"], ids=["directory", "file"])
def test_evaluate_prints_detection_metrics(capsys, scored_dir, world_dir, labels):
    code, out, _ = run(capsys, "evaluate", "--scores", scored_dir, "--labels", world_dir / labels)
    assert code == EXIT_OK
    metrics = dict(line.split(maxsplit=1) for line in out.strip().splitlines())
    assert {"precision@10", "average_precision", "alert_rate"} <= set(metrics)
    assert float(metrics["precision@10"]) >= 0.7


@pytest.mark.parametrize("labels", ["csv/flows.csv", "csv"], ids=["not-labels", "no-labels-here"])
def test_evaluate_with_wrong_labels_exits_3(capsys, scored_dir, world_dir, labels):
    code, _, err = run(capsys, "evaluate", "--scores", scored_dir, "--labels", world_dir / labels)
    assert code == EXIT_DATA
    assert_one_line_error(err)


def test_demo_trains_scores_and_reports(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "--out", tmp_path / "demo")
    assert code == EXIT_OK
    demo = tmp_path / "demo"
    assert {"leads.csv", "scores.parquet", "run.json", "report.html", "model"} <= {
        p.name for p in demo.iterdir()
    }
    code, _, _ = run(capsys, "inspect", demo / "model")
    assert code == EXIT_OK
    leads = pd.read_csv(demo / "leads.csv", dtype={"hs": str})
    assert leads["alert"].any()
    assert "ALERT" in out


def test_the_console_script_exits_3_with_one_line_on_bad_input(tmp_path):
    data = tmp_path / "bad.csv"
    data.write_text(BAD_FILES["negative-value"])
    result = subprocess.run(
        [
            console_script(),
            "train",
            "--data",
            str(data),
            "--train-end",
            "2021-12",
            "--out",
            str(tmp_path / "m"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        check=False,
    )
    assert result.returncode == EXIT_DATA
    assert_one_line_error(result.stderr)
    assert "negative" in result.stderr
    assert result.stdout == ""


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_output_files_honour_the_umask(capsys, umask, model_dir, tmp_path):
    code, _, _ = run(capsys, "simulate", "--out", tmp_path / "w", "--series", 100)
    assert code == EXIT_OK
    out = tmp_path / "out"
    code, _, _ = run(capsys, *score_args(model_dir, tmp_path / "w", out, "2022-01"))
    assert code == EXIT_OK
    assert run(capsys, "report", out, "--top", "0")[0] == EXIT_OK
    written = [*(tmp_path / "w").rglob("*.*"), *out.iterdir()]
    assert {p.name for p in written} >= {"flows.parquet", "labels.csv", "leads.csv", "report.html"}
    assert {p.name: mode(p) for p in written} == {p.name: 0o666 & ~umask for p in written}


def test_rescoring_removes_the_previous_report(capsys, world_dir, model_dir, tmp_path):
    out = tmp_path / "out"
    assert run(capsys, *score_args(model_dir, world_dir, out, "2024-01"))[0] == EXIT_OK
    assert run(capsys, "report", out, "--top", "0")[0] == EXIT_OK
    assert "2024-01 to 2024-12" in (out / "report.html").read_text()

    code, stdout, _ = run(capsys, *score_args(model_dir, world_dir, out, "2023-01"))
    assert code == EXIT_OK
    assert not (out / "report.html").exists()  # it showed 2024: gone with the new outputs
    assert f"removed {out / 'report.html'}" in stdout
    assert run(capsys, "report", out, "--top", "0")[0] == EXIT_OK
    assert "2023-01 to 2024-12" in (out / "report.html").read_text()


def test_simulate_train_score_evaluate_round_trip_on_the_directory(capsys, tmp_path):
    world, model, out = tmp_path / "sim", tmp_path / "model", tmp_path / "out"
    steps = [
        ["simulate", "--out", world, "--series", 400, "--seed", 3],
        ["train", "--data", world, "--train-end", "2021-12", "--out", model],
        ["score", "--model", model, "--data", world, "--start", "2022-01", "--out", out],
        ["evaluate", "--scores", out, "--labels", world],
    ]
    for argv in steps:
        code, stdout, err = run(capsys, *argv)
        assert code == EXIT_OK, err
    metrics = dict(line.split(maxsplit=1) for line in stdout.strip().splitlines())
    assert float(metrics["average_precision"]) > 0.5
