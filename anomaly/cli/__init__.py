"""The ``anomaly`` command line (``anomaly --help``); exit codes in :mod:`anomaly.cli.main`."""

from anomaly.cli.main import main, run
from anomaly.cli.parser import build_parser

__all__ = ["build_parser", "main", "run"]
