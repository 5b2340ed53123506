"""The documentation: the Sphinx site builds with warnings as errors, and the tutorial's
Python runs as written, block after block, in an empty working directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_readme import python_blocks

DOCS = Path(__file__).resolve().parents[1] / "docs"
TUTORIAL = DOCS / "tutorial.md"


def test_the_docs_build_without_a_warning(tmp_path):
    for needed in ("sphinx", "numpydoc", "myst_parser"):
        pytest.importorskip(needed, reason=f"needs {needed}: pip install -e '.[docs]'")
    from sphinx.cmd.build import build_main

    out = tmp_path / "html"
    # -W: a warning fails the build; -E: nothing read from an earlier build.
    assert build_main(["-W", "--keep-going", "-E", "-q", "-b", "html", str(DOCS), str(out)]) == 0
    api = (out / "api.html").read_text(encoding="utf-8")
    for documented in ("anomaly.io.read_flows", "anomaly.model.TradeAnomalyModel.score"):
        assert f'id="{documented}"' in api
    assert (out / "tutorial.html").is_file()


def test_the_tutorial_runs_verbatim(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")  # the tutorial plots; it asks for the [plot] extra
    from matplotlib import pyplot

    blocks = python_blocks(TUTORIAL.read_text(encoding="utf-8"), section=None)
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    try:
        for number, block in enumerate(blocks):
            exec(compile(block, f"tutorial.md python block {number + 1}", "exec"), namespace)
    finally:
        pyplot.close("all")
    assert (tmp_path / "tutorial-out" / "report.html").is_file()
    assert (tmp_path / "lead-1.png").stat().st_size > 0
    assert namespace["again"].leads.equals(namespace["scores"].leads)
