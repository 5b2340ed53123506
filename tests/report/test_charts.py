from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anomaly.report import figure_png, read_monthly, series_chart

from .support import SCORED, write_scoring_output

pytest.importorskip("matplotlib")

KGZ = ("DEU", "KGZ", "export", "854231")
KAZ = ("POL", "KAZ", "export", "852691")


@pytest.fixture
def monthly(out_dir: Path) -> dict[tuple[str, str, str, str], pd.DataFrame]:
    return read_monthly(out_dir / "scores.parquet", [KGZ, KAZ])


def test_draws_actual_expected_band_mirror_and_start(monthly: dict) -> None:
    figure = series_chart(
        monthly[KGZ], title="DEU→KGZ 854231", subtitle="surge · mirror_gap", currency="EUR"
    )
    axes = figure.axes[0]
    lines = {line.get_label(): line for line in axes.get_lines()}
    assert sorted(lines) == [
        "actual",
        "expected",
        "mirror (partner's declaration)",
        "scoring start",
    ]
    assert lines["mirror (partner's declaration)"].get_linestyle() == "--"
    start = lines["scoring start"].get_xdata()[0]
    assert pd.Timestamp(start) == SCORED[0].to_timestamp()
    (band,) = axes.collections
    # The band covers the 12 scored months only.
    assert band.get_label() == "expected range"
    assert len(band.get_paths()[0].vertices) >= 2 * 12
    assert figure.get_suptitle() == "DEU→KGZ 854231"
    assert axes.get_title(loc="left") == "surge · mirror_gap"
    assert axes.get_ylim()[0] == 0


def test_no_mirror_line_without_mirror_values(monthly: dict) -> None:
    figure = series_chart(monthly[KAZ], title="POL→KAZ 852691", subtitle="surge")
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["expected", "actual", "scoring start"]


def test_recorded_scoring_start_wins(monthly: dict) -> None:
    start = pd.Period("2022-04", "M")
    figure = series_chart(monthly[KAZ], title="t", subtitle="s", scoring_start=start)
    (line,) = [x for x in figure.axes[0].get_lines() if x.get_label() == "scoring start"]
    assert pd.Timestamp(line.get_xdata()[0]) == start.to_timestamp()


def test_dollar_signs_are_text_not_mathtext(monthly: dict) -> None:
    figure = series_chart(monthly[KAZ], title="$x^2$ <b>", subtitle="$$", currency="USD")
    assert figure_png(figure).startswith(b"\x89PNG\r\n\x1a\n")


def test_png_is_deterministic_and_small(tmp_path: Path) -> None:
    def render(seed: int) -> bytes:
        out_dir = write_scoring_output(tmp_path / str(seed), seed=seed)
        series = read_monthly(out_dir / "scores.parquet", [KGZ])[KGZ]
        return figure_png(series_chart(series, title="DEU→KGZ 854231", subtitle="surge"))

    first = render(1)
    assert first == render(1)
    assert first != render(2)
    assert b"Software" not in first and b"tIME" not in first
    width, height = np.frombuffer(first[16:24], dtype=">u4")
    assert (width, height) == (630, 234)  # 7 x 2.6 inches at 90 dpi
