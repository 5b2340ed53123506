"""Artifacts written by every released format version stay loadable and forecast the same.

The comparison is of each series' counterfactual (``expected``), which only the stored
forecaster state decides: detectors may improve between versions, but reading an old
artifact must not change what it learned.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import anomaly
from anomaly.artifacts import SUPPORTED_FORMAT_VERSIONS

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "artifacts"
KEYS = ["reporter", "partner", "flow", "hs"]


@pytest.mark.parametrize("version", SUPPORTED_FORMAT_VERSIONS)
def test_released_format_version_loads_and_forecasts_the_same(version):
    model = anomaly.load(FIXTURES / f"format-v{version}", strict=False)
    flows = anomaly.read_flows(FIXTURES / f"format-v{version}-scoring-flows.csv.gz")
    leads = model.score(flows, "2022-01", "2022-12").leads
    expected = pd.read_csv(FIXTURES / f"format-v{version}-expected-leads.csv", dtype={"hs": str})
    got = leads[[*KEYS, "expected"]].sort_values(KEYS).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-8)
