"""Mirror pairing: A's declared export to B beside B's declared import from A."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomaly.panel.core import Panel
from anomaly.schema import MIRROR_FLOW, SERIES_KEY_COLUMNS


@dataclass(frozen=True, eq=False)
class MirrorPairs:
    """Row positions of declared series and of their partners' mirror declarations.

    ``panel.values[declared[k]]`` and ``panel.values[mirror[k]]`` describe the same
    goods crossing the same border, seen from each side.
    """

    declared: np.ndarray
    mirror: np.ndarray

    def __len__(self) -> int:
        return len(self.declared)

    def matrices(self, panel: Panel) -> tuple[np.ndarray, np.ndarray]:
        """The aligned ``(declared, mirror)`` value matrices, one row per pair."""
        return panel.values[self.declared], panel.values[self.mirror]


def mirror_pairs(panel: Panel, flows: tuple[str, ...] = ("export",)) -> MirrorPairs:
    """Pair each series of the given ``flows`` with its mirror series, where present.

    Parameters
    ----------
    panel : Panel
    flows : tuple of str
        Which declared flows to pair; the mirror of ``export`` is the partner's
        ``import`` with reporter and partner swapped.

    Examples
    --------
    >>> keys = pd.DataFrame({"reporter": ["DEU", "KGZ"], "partner": ["KGZ", "DEU"],
    ...                      "flow": ["export", "import"], "hs": ["854231", "854231"]})
    >>> p = Panel(keys, pd.period_range("2022-01", periods=1, freq="M"),
    ...           np.array([[10.0], [1.0]]))
    >>> pairs = mirror_pairs(p)
    >>> pairs.declared.tolist(), pairs.mirror.tolist()
    ([0], [1])
    """
    keys = panel.keys.reset_index(names="_declared")
    declared = keys[keys["flow"].isin(flows)]
    wanted = pd.DataFrame(
        {
            "reporter": declared["partner"].to_numpy(),
            "partner": declared["reporter"].to_numpy(),
            "flow": declared["flow"].map(MIRROR_FLOW).to_numpy(),
            "hs": declared["hs"].to_numpy(),
            "_declared": declared["_declared"].to_numpy(),
        }
    )
    found = wanted.merge(
        panel.keys.reset_index(names="_mirror"), on=list(SERIES_KEY_COLUMNS), how="inner"
    ).sort_values("_declared")
    return MirrorPairs(
        found["_declared"].to_numpy(dtype=np.int64), found["_mirror"].to_numpy(dtype=np.int64)
    )
