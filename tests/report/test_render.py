from __future__ import annotations

import base64
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from anomaly.errors import DataError, FormatError
from anomaly.report import render_report

from .support import INJECTION, parse_page, write_scoring_output

PNG = b"\x89PNG\r\n\x1a\n"
DATA_URI = "data:image/png;base64,"
CHROMIUM = Path("/usr/bin/chromium")


def pngs(images: list[str]) -> list[bytes]:
    assert all(src.startswith(DATA_URI) for src in images)
    return [base64.b64decode(src[len(DATA_URI) :], validate=True) for src in images]


def test_report_has_summary_leads_and_a_chart_per_lead(out_dir: Path) -> None:
    pytest.importorskip("matplotlib")
    path = render_report(out_dir, top=3)
    assert path == (out_dir / "report.html").absolute()
    markup = path.read_text(encoding="utf-8")
    page = parse_page(markup)
    for tag in ("html", "head", "body", "main", "table", "figure"):
        assert page.tags[tag] >= 1, tag
    assert {"summary", "leads", "charts", "lead-1", "lead-3"} <= set(page.ids)
    text = " ".join(page.text)
    assert "Series scored 5" in " ".join(text.split())
    assert "DEU→KGZ" in text and "ITA→ARM" in text and "POL→KAZ" in text
    assert "FRA→TUR" not in text  # rank 4, beyond top
    assert "2022-01 to 2022-12" in text and "pooled-hurdle" in text
    assert "CHP tier" in text and "not on CHP list" in text
    assert "€" in text and "€8.1M" in text  # ITA→ARM excess in the leads table
    assert len(page.images) == 3
    assert all(png.startswith(PNG) for png in pngs(page.images))


def test_no_external_resources(out_dir: Path) -> None:
    markup = render_report(out_dir, top=1).read_text(encoding="utf-8")
    page = parse_page(markup)
    assert page.tags["link"] == page.tags["script"] == page.tags["iframe"] == 0
    assert "http://" not in markup and "https://" not in markup
    assert "Content-Security-Policy" in markup


def test_data_is_escaped_and_never_a_tag(tmp_path: Path) -> None:
    out_dir = write_scoring_output(tmp_path, inject=True)
    markup = render_report(out_dir, top=2).read_text(encoding="utf-8")
    assert "<script" not in markup.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    page = parse_page(markup)
    text = "".join(page.text)
    # In the explanation, the signal badges, the product label and the currency.
    assert text.count(INJECTION) >= 4
    assert f"rerouted {INJECTION} via Bishkek" in text
    assert "Processors & controllers" in text


def test_without_matplotlib_the_tables_remain(
    out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry makes every `import matplotlib...` raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    markup = render_report(out_dir).read_text(encoding="utf-8")
    page = parse_page(markup)
    assert page.images == []
    assert "pip install anomaly[plot]" in markup
    assert "DEU→KGZ" in "".join(page.text)


def test_without_scores_the_tables_remain(out_dir: Path) -> None:
    (out_dir / "scores.parquet").unlink()
    markup = render_report(out_dir).read_text(encoding="utf-8")
    assert parse_page(markup).images == []
    assert "no scores.parquet" in markup


def test_a_lead_without_monthly_rows_is_still_listed(out_dir: Path) -> None:
    pytest.importorskip("matplotlib")
    table = pd.read_parquet(out_dir / "scores.parquet")
    table.loc[table["partner"] != "KGZ"].to_parquet(out_dir / "scores.parquet")
    markup = render_report(out_dir, top=2).read_text(encoding="utf-8")
    assert len(parse_page(markup).images) == 1
    assert "No monthly rows for this series" in markup


def test_without_run_json_amounts_have_no_currency(out_dir: Path) -> None:
    (out_dir / "run.json").unlink()
    markup = render_report(out_dir, top=2).read_text(encoding="utf-8")
    assert "€" not in markup and "not recorded" in markup
    assert "8.1M" in markup


def test_top_zero_and_empty_leads(out_dir: Path) -> None:
    markup = render_report(out_dir, top=0).read_text(encoding="utf-8")
    assert "Top 0 leads" in markup and parse_page(markup).images == []
    header = (out_dir / "leads.csv").read_text().splitlines()[0]
    (out_dir / "leads.csv").write_text(header + "\n")
    markup = render_report(out_dir).read_text(encoding="utf-8")
    assert "Series scored" in markup and "no leads" in markup
    with pytest.raises(ValueError, match="top"):
        render_report(out_dir, top=-1)


def test_output_is_deterministic(tmp_path: Path) -> None:
    out_dir = write_scoring_output(tmp_path / "out")
    first = render_report(out_dir, top=2, path=tmp_path / "a.html").read_bytes()
    second = render_report(out_dir, top=2, path=tmp_path / "b.html").read_bytes()
    assert first == second


def test_custom_path(out_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "leads.html"
    assert render_report(out_dir, top=0, path=target) == target
    assert target.is_file() and not (out_dir / "report.html").exists()


def test_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nowhere.*leads\.csv"):
        render_report(tmp_path / "nowhere")
    (tmp_path / "leads.csv").write_text("rank,reporter\n1,DEU\n")
    with pytest.raises(FormatError, match="missing required columns partner, flow, hs"):
        render_report(tmp_path)


def test_failed_render_keeps_the_old_report(out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = out_dir / "report.html"
    report.write_text("old report")

    def fail(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("anomaly.report.render.summarize", fail)
    with pytest.raises(RuntimeError):
        render_report(out_dir)
    monkeypatch.undo()
    # Failing at the very last step, the rename, leaves no temporary file behind.
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(RuntimeError):
        render_report(out_dir, top=1)
    assert report.read_text() == "old report"
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "leads.csv",
        "report.html",
        "run.json",
        "scores.parquet",
    ]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_the_report_gets_the_umask_permissions(out_dir: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        report = render_report(out_dir, top=0)
    finally:
        os.umask(previous)
    assert report.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_chromium_renders_the_page_offline(out_dir: Path, tmp_path: Path) -> None:
    path = render_report(out_dir, top=2)
    profile = tmp_path / "chromium-profile"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--dump-dom",
        path.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert '<section id="summary">' in dom and "Series scored" in dom
    assert "DEU→KGZ" in dom
    charts = 2 if importlib.util.find_spec("matplotlib") else 0
    assert dom.count(DATA_URI) == charts
    assert "<script" not in dom
