"""Standard output's reader may go away (``anomaly score ... | head``): end quietly."""

from __future__ import annotations

import os
import subprocess

import pytest

from anomaly.cli.output import EXIT_CLOSED_PIPE, emit

from .conftest import console_script


def run_into_a_closed_pipe(*argv: object) -> subprocess.CompletedProcess:
    """Run the console script with a standard output nobody reads (the reader is gone
    before the first write), as ``head`` leaves it once it has its lines."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [console_script(), *map(str, argv)],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            check=False,
        )
    finally:
        os.close(write)


def test_score_into_a_closed_pipe_ends_quietly_with_its_outputs_written(
    world_dir, model_dir, tmp_path
):
    out = tmp_path / "out"
    argv = ["score", "--model", model_dir, "--data", world_dir, "--start", "2022-01"]
    result = run_into_a_closed_pipe(*argv, "--out", out)
    assert result.stderr == ""  # no "error: Broken pipe", no "Exception ignored"
    assert result.returncode == EXIT_CLOSED_PIPE == 141
    assert {p.name for p in out.iterdir()} == {"leads.csv", "scores.parquet", "run.json"}


@pytest.mark.parametrize("argv", [["--help"], ["score", "--help"]], ids=["help", "score-help"])
def test_help_into_a_closed_pipe_ends_quietly(argv):
    result = run_into_a_closed_pipe(*argv)
    assert (result.returncode, result.stderr) == (EXIT_CLOSED_PIPE, "")


def test_emit_prints_and_flushes(capsys):
    emit("1. ALERT")
    assert capsys.readouterr().out == "1. ALERT\n"
