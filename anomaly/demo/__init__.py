"""The built-in demo: real Eurostat exports of Common High Priority goods, 2020–2022.

:func:`demo_flows` reads the data shipped inside the package (see ``PROVENANCE.md``
beside this file); :func:`run_demo` trains on 2020–2021, scores 2022 and writes the
leads, the series-month scores and the HTML report.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

DEMO_FILE = "eurostat_chp_exports_2020_2022.csv.gz"
TRAIN_WINDOW = ("2020-01", "2021-12")
SCORE_WINDOW = ("2022-01", "2022-11")


def demo_flows() -> pd.DataFrame:
    """The demo data as a canonical flows table (EUR).

    Examples
    --------
    >>> flows = demo_flows()
    >>> len(flows), flows.attrs["currency"]
    (22809, 'EUR')
    """
    from anomaly.io import read_flows

    with resources.as_file(resources.files("anomaly.demo") / "data" / DEMO_FILE) as path:
        return read_flows(path)


def demo_path() -> Path:
    """Path of the demo data file inside the installed package."""
    return Path(str(resources.files("anomaly.demo") / "data" / DEMO_FILE))
