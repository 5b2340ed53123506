"""The README's Python runs as written: the blocks of its "Ten lines of Python" section
are executed in order, in one namespace, in an empty working directory, as a new user
would paste them after the install command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Ten lines of Python"


def python_blocks(text: str, section: str | None = SECTION) -> list[str]:
    """The ```python blocks of one ``## `` section of a Markdown text (of all of it if
    ``section`` is None), in order."""
    if section is not None:
        start = text.index(section + "\n")
        end = text.find("\n## ", start + len(section))
        text = text[start : end if end >= 0 else len(text)]
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.DOTALL | re.MULTILINE)


def test_the_section_has_the_ten_lines_and_the_notebook_block():
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) == 2
    code = [line for line in blocks[0].splitlines() if line.strip()]
    assert code[0] == "import anomaly" and len(code) <= 11


def test_the_blocks_are_found_only_in_their_section():
    text = "# t\n## Ten lines of Python\n```python\na = 1\n```\n## Other\n```python\nb\n```\n"
    assert python_blocks(text) == ["a = 1\n"]


def test_the_readme_python_runs_verbatim(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")  # the notebook block plots; README installs [plot]
    from matplotlib import pyplot

    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    try:
        for number, block in enumerate(python_blocks(README.read_text(encoding="utf-8"))):
            exec(compile(block, f"README.md python block {number + 1}", "exec"), namespace)
    finally:
        pyplot.close("all")
    assert (tmp_path / "out" / "leads.csv").is_file()
    assert (tmp_path / "models" / "my-model" / "manifest.json").is_file()
    assert namespace["summary"].n_series == len(namespace["scores"].leads)
