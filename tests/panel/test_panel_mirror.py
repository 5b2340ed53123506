"""mirror_pairs: a declared export beside the partner's declared import of the same goods."""

from __future__ import annotations

import numpy as np

from anomaly.panel import mirror_pairs

KEYS = [
    ("DEU", "KGZ", "export", "854231"),  # 0: mirrored by 1
    ("KGZ", "DEU", "import", "854231"),  # 1
    ("DEU", "KGZ", "export", "847150"),  # 2: KGZ reports no import of it
    ("FRA", "KGZ", "export", "854231"),  # 3: KGZ's import is from DEU, not FRA
    ("KGZ", "DEU", "import", "847130"),  # 4: another code
    ("ARM", "RUS", "re-export", "880730"),  # 5: mirrored by 6
    ("RUS", "ARM", "re-import", "880730"),  # 6
]


def mirror_panel(panel_of):
    values = np.arange(len(KEYS) * 2, dtype=np.float64).reshape(len(KEYS), 2)
    return panel_of(KEYS, values, "2022-01")


def test_export_is_paired_with_the_partners_import_and_unmatched_are_ignored(panel_of):
    panel = mirror_panel(panel_of)
    pairs = mirror_pairs(panel)
    assert len(pairs) == 1
    assert pairs.declared.tolist() == [0] and pairs.mirror.tolist() == [1]
    declared, mirror = pairs.matrices(panel)
    np.testing.assert_array_equal(declared, panel.values[[0]])
    np.testing.assert_array_equal(mirror, panel.values[[1]])


def test_pairs_for_several_flows_in_declared_order(panel_of):
    pairs = mirror_pairs(mirror_panel(panel_of), flows=("export", "import", "re-export"))
    assert list(zip(pairs.declared.tolist(), pairs.mirror.tolist(), strict=True)) == [
        (0, 1),
        (1, 0),
        (5, 6),
    ]
    assert pairs.declared.dtype == np.int64 and pairs.mirror.dtype == np.int64


def test_no_mirror_anywhere_gives_empty_pairs(panel_of):
    panel = panel_of([("DEU", "KGZ", "export", "854231")], [[1.0]], "2022-01")
    pairs = mirror_pairs(panel)
    assert len(pairs) == 0
    declared, mirror = pairs.matrices(panel)
    assert declared.shape == (0, 1) and mirror.shape == (0, 1)
