"""The up-front estimate of training memory and the refusal beyond the budget."""

from __future__ import annotations

import pytest

from anomaly.errors import DataError, MemoryBudgetError
from anomaly.model import check_reading_memory, check_training_memory, estimate_training_memory
from anomaly.model.memory import (
    FIT_BYTES_PER_CELL,
    PARTITION_BYTES_PER_ROW,
    PARTITION_SPREAD,
    READ_BASE_GIB,
    fit_memory_gib,
    reading_memory_gib,
)


def test_the_fit_estimate_grows_with_the_cells_it_holds():
    small, large = fit_memory_gib(10_000, 84), fit_memory_gib(1_000_000, 84)
    assert large - small == pytest.approx(990_000 * 84 * FIT_BYTES_PER_CELL / 2**30)
    assert fit_memory_gib(1_000_000, 120) > large
    assert reading_memory_gib(120_000_000) > 10 * reading_memory_gib(1_000_000)


def test_the_estimate_adds_the_fit_to_what_the_process_holds():
    estimate = estimate_training_memory(100_000, 84, budget_gib=1e6)
    assert estimate.resident_gib > 0  # this process holds at least the interpreter
    assert estimate.peak_gib == pytest.approx(estimate.resident_gib + estimate.fit_gib)
    assert estimate.fits


def test_a_fit_beyond_the_budget_is_refused_with_what_to_do():
    within = check_training_memory(1_000, 84, budget_gib=1e6)
    assert within.fits
    budget = within.resident_gib + fit_memory_gib(1_000_000, 84) / 2
    with pytest.raises(MemoryBudgetError) as raised:
        check_training_memory(1_000_000, 84, budget_gib=budget, option="--memory-budget")
    message = str(raised.value)
    assert message.startswith("training 1,000,000 series × 84 months in memory")
    assert f"more than the {budget:.1f} GiB this process may use (--memory-budget)" in message
    assert "fits over partitions of series" in message and "--hs-level" in message
    assert isinstance(raised.value, DataError)  # the command line's exit 3


def test_a_fit_over_partitions_holds_per_series_arrays_and_a_partition_per_worker():
    in_memory = fit_memory_gib(1_000_000, 84)
    over = fit_memory_gib(1_000_000, 84, partitions=40, workers=2)
    assert over < in_memory
    # Smaller partitions: less per worker; more workers: more at once.
    assert fit_memory_gib(1_000_000, 84, partitions=80, workers=2) < over
    assert fit_memory_gib(1_000_000, 84, partitions=40, workers=4) > over
    estimate = estimate_training_memory(1_000_000, 84, budget_gib=1e6, partitions=40, workers=2)
    assert estimate.fit_gib == pytest.approx(over) and estimate.partitions == 40
    with pytest.raises(MemoryBudgetError) as raised:
        check_training_memory(1_000_000, 84, budget_gib=1.0, partitions=40, workers=2)
    message = str(raised.value)
    assert message.startswith("training 1,000,000 series × 84 months over 40 partitions on 2 ")
    assert "more than the 1.0 GiB they may use" in message
    assert "a higher --partitions" in message


def test_reading_beyond_the_budget_is_refused():
    assert check_reading_memory(1_000, budget_gib=8.0) == pytest.approx(reading_memory_gib(1_000))
    with pytest.raises(MemoryBudgetError, match=r"120,000,000 rows .* in memory .* 8\.0 GiB"):
        check_reading_memory(120_000_000, budget_gib=8.0)


def test_reading_in_partitions_holds_one_partition_beside_the_panel():
    whole = reading_memory_gib(120_000_000)
    parts = reading_memory_gib(120_000_000, partitions=12)
    assert parts < whole / 2
    # More partitions, smaller ones: less at once; more rows: a larger panel.
    assert reading_memory_gib(120_000_000, partitions=24) < parts
    assert reading_memory_gib(240_000_000, partitions=24) > parts
    assert check_reading_memory(120_000_000, budget_gib=8.0, partitions=12) == pytest.approx(parts)
    with pytest.raises(MemoryBudgetError, match=r"rows and building their panel in 12 partitions"):
        check_reading_memory(120_000_000, budget_gib=parts / 2, partitions=12)


def test_worker_processes_each_hold_a_partition_and_their_own_base():
    alone = reading_memory_gib(120_000_000, partitions=12)
    two = reading_memory_gib(120_000_000, partitions=12, workers=2)
    largest = PARTITION_SPREAD * 120_000_000 / 12 * PARTITION_BYTES_PER_ROW / 2**30
    assert two == pytest.approx(alone + 2 * READ_BASE_GIB + largest)
    with pytest.raises(MemoryBudgetError, match=r"in 12 partitions on 2 worker processes"):
        check_reading_memory(120_000_000, budget_gib=alone, partitions=12, workers=2)


def test_without_a_budget_the_default_is_what_the_machine_has(monkeypatch):
    import anomaly.model.memory as memory

    monkeypatch.setattr(memory, "available_memory_gib", lambda: 1.0)
    monkeypatch.setattr(memory, "resident_memory_gib", lambda: 0.5)
    assert estimate_training_memory(10, 12).budget_gib == pytest.approx(1.5)
    with pytest.raises(MemoryBudgetError, match=r"more than the 1\.5 GiB"):
        check_training_memory(10_000_000, 84)
    # A system that does not say refuses nothing.
    monkeypatch.setattr(memory, "available_memory_gib", lambda: None)
    assert check_training_memory(10_000_000, 84).budget_gib is None
