"""A ``SIGTERM`` ends ``anomaly`` as an interrupt does: status 143, nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

# The child blocks in the middle of the reading (a partition being pivoted) until the
# signal comes: the test does not depend on how fast the reading is.
CHILD = textwrap.dedent(
    """
    import sys, time
    import anomaly.batch.panel_reader as panel_reader
    panel_reader._pivot = lambda *args: time.sleep(300)
    from anomaly.cli.main import run
    sys.argv = ["anomaly", *sys.argv[1:]]
    run()
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a POSIX signal")
def test_a_terminated_training_removes_its_temporary_files(world_dir, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    out = tmp_path / "model"
    command = [sys.executable, "-c", CHILD, "train", "--data", str(world_dir)]
    command += ["--train-end", "2021-12", "--out", str(out)]
    child = subprocess.Popen(
        command,
        env={**os.environ, "TMPDIR": str(scratch), "PYTHONWARNINGS": "ignore"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(scratch.glob("anomaly-panel-*/panels/.part-*")):
            assert child.poll() is None, child.stderr.read()
            assert time.monotonic() < deadline, "the reading never reached a partition"
            time.sleep(0.05)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 128 + signal.SIGTERM
    assert "anomaly: terminated" in err
    assert not list(scratch.iterdir())  # the scan's files and the staging folders
    assert not out.exists()
