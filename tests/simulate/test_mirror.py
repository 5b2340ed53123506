"""Mirror declarations: the importer's view of each export, CIF over FOB."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .conftest import window_mean


def _pairs(wide: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    """Each export beside its mirror import, as window means."""
    mean = window_mean(wide, start, end)
    exports = mean.xs("export", level="flow")
    imports = mean.xs("import", level="flow")
    imports.index = imports.index.set_names(["partner", "reporter", "hs"])
    imports = imports.reorder_levels(["reporter", "partner", "hs"])
    return pd.DataFrame({"export": exports, "import": imports}).dropna()


def test_mirror_import_exceeds_export_by_the_cif_margin(wide):
    pairs = _pairs(wide, "2016-01", "2019-12")
    pairs = pairs[(pairs["export"] > 1e5) & (pairs["import"] > 0)]
    ratio = pairs["import"] / pairs["export"]
    assert 1.0 < ratio.median() < 1.12
    assert np.percentile(ratio, 90) < 1.5


def test_most_exports_have_a_mirror(world):
    series = world.flows.drop_duplicates(["reporter", "partner", "flow", "hs"])
    counts = series["flow"].value_counts()
    assert 0.6 < counts["import"] / counts["export"] < 0.95
