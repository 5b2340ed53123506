"""Artifacts written by every released format version stay loadable and forecast the same.

The comparison is of the stored forecaster's output (each trained series' expected
2022 total and its first month's 90% upper bound), which only the stored state decides:
detectors may improve between versions, but reading an old artifact must not change
what it learned.
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
    forecast = model.forecaster_.predict("2022-01", "2022-12")
    got = model.keys_.copy()
    got["expected"] = forecast.mean.sum(axis=1)
    got["upper_2022_01"] = forecast.interval(0.9)[1][:, 0]
    got = got.sort_values(KEYS).reset_index(drop=True)
    expected = pd.read_csv(
        FIXTURES / f"format-v{version}-expected-forecasts.csv", dtype={k: str for k in KEYS}
    )
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-8)


@pytest.mark.parametrize("version", SUPPORTED_FORMAT_VERSIONS)
def test_an_artifact_from_before_controlled_lists_controls_the_chp_list(version):
    model = anomaly.load(FIXTURES / f"format-v{version}", strict=False)
    assert model.controlled == "chp"
    assert model.scorer_.controlled_codes == frozenset(
        anomaly.reference.chp_codes(model.chp_version)
    )
