"""Progress of long steps: timed, and with the process's peak memory in the log."""

from __future__ import annotations

import logging

import pytest

from anomaly.progress import (
    available_memory_gib,
    logged_step,
    peak_memory_gib,
    resident_memory_gib,
    step,
)


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


def test_a_part_of_a_step_logs_its_time_and_whether_it_raised_the_peak(caplog):
    if peak_memory_gib() is None or resident_memory_gib() is None:
        pytest.skip("this system reports no peak or resident memory")
    with caplog.at_level(logging.INFO, logger="anomaly.progress"):
        with logged_step("training: forecaster fit"):
            # What the process holds, grown past its peak so far: this part raises it.
            gap = peak_memory_gib() - resident_memory_gib()
            ballast = bytearray(int(max(gap, 0) * 2**30) + 64 * 2**20)
            ballast[::4096] = b"x" * len(ballast[::4096])
        del ballast
        with logged_step("training: scored"):
            pass
    raised, not_raised = (r.getMessage() for r in caplog.records)
    assert raised.startswith("training: forecaster fit: done in ")
    assert "(raised by " in raised and "GiB in this step)" in raised
    assert not_raised.startswith("training: scored: done in ")
    assert "(not raised in this step)" in not_raised


def test_available_and_resident_memory_are_positive_or_unknown():
    for value in (available_memory_gib(), resident_memory_gib()):
        assert value is None or value > 0
