"""Progress of long steps: timed, and with the process's peak memory in the log."""

from __future__ import annotations

import logging

import pytest

from anomaly.progress import peak_memory_gib, step


def test_a_step_logs_its_time_and_the_peak_memory_so_far(caplog):
    with caplog.at_level(logging.INFO, logger="anomaly.progress"), step("training"):
        ballast = bytearray(64 * 2**20)  # 64 MiB, touched: the peak must include it
        ballast[::4096] = b"x" * len(ballast[::4096])
    (record,) = [r for r in caplog.records if r.getMessage().startswith("training: done")]
    peak = peak_memory_gib()
    if peak is None:
        pytest.skip("this system reports no peak memory")
    assert "peak memory so far" in record.getMessage()
    assert peak >= 64 / 1024


def test_a_failed_step_logs_no_completion(caplog):
    with caplog.at_level(logging.INFO, logger="anomaly.progress"):
        with pytest.raises(RuntimeError), step("reading input"):
            raise RuntimeError("disk gone")
    assert not [r for r in caplog.records if "done in" in r.getMessage()]
