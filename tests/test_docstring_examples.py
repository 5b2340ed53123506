"""Every module of the package imports, and every example in its docstrings runs and
shows what it says (as ``pytest --doctest-modules anomaly`` would, kept under
``tests/`` so that running some test folders alone still works)."""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil

import pytest

import anomaly

MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(anomaly.__path__, "anomaly."))


def test_the_package_has_examples_to_run():
    examples = sum(
        len(test.examples)
        for name in MODULES
        for test in doctest.DocTestFinder().find(importlib.import_module(name))
    )
    assert len(MODULES) > 100
    assert examples > 200


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner()
    report = io.StringIO()
    for test in doctest.DocTestFinder().find(module):
        runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()
