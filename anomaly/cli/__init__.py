"""The ``anomaly`` command line (``anomaly --help``); exit codes in :mod:`anomaly.cli.main`."""

from anomaly.cli.main import build_parser, main, run

__all__ = ["build_parser", "main", "run"]
