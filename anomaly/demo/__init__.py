"""The built-in demo: real Eurostat exports of Common High Priority goods, 2020–2022.

The data ship inside the package (see ``PROVENANCE.md`` beside this file): monthly EU27
exports (EUR) of the CHP list's goods to Russia, Belarus and five of their neighbours,
2020-01..2022-11. :func:`eurostat_chp_path` gives the file, for anything that reads
files (``anomaly.read_flows``, ``anomaly train --data``); :func:`load_eurostat_chp`
gives it read, as a canonical flows table. Both are also ``anomaly.eurostat_chp_path``
and ``anomaly.load_eurostat_chp``. ``anomaly demo`` trains on :data:`TRAIN_WINDOW`,
scores :data:`SCORE_WINDOW` and writes the leads, the series-month scores and the
HTML report.

Examples
--------
>>> from anomaly.demo import eurostat_chp_path, load_eurostat_chp
>>> eurostat_chp_path().name
'eurostat_chp_exports_2020_2022.csv.gz'
>>> flows = load_eurostat_chp()
>>> str(flows["period"].min()), str(flows["period"].max()), flows.attrs["currency"]
('2020-01', '2022-11', 'EUR')
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

DEMO_FILE = "eurostat_chp_exports_2020_2022.csv.gz"
TRAIN_WINDOW = ("2020-01", "2021-12")
SCORE_WINDOW = ("2022-01", "2022-11")


def eurostat_chp_path() -> Path:
    """Path of the built-in Eurostat data file (gzip-compressed Comext CSV).

    Monthly EU27 exports of CHP goods to RUS, BLR, KAZ, KGZ, ARM, GEO and UZB,
    2020-01..2022-11, in EUR (Eurostat Comext DS-045409; see ``PROVENANCE.md``). Any
    reader of files takes it: ``anomaly.read_flows(path)``, ``anomaly train --data``.

    Returns
    -------
    pathlib.Path
        Inside the installed package; read it, do not write to it.

    Examples
    --------
    >>> import anomaly
    >>> flows = anomaly.read_flows(eurostat_chp_path())
    >>> len(flows)
    22809
    """
    return demo_path()


def load_eurostat_chp() -> pd.DataFrame:
    """The built-in Eurostat data read as a canonical flows table (EUR).

    The same as ``anomaly.read_flows(eurostat_chp_path())``.

    Returns
    -------
    pandas.DataFrame
        Columns ``period, reporter, partner, flow, hs, value``; 22,809 rows.

    Examples
    --------
    >>> flows = load_eurostat_chp()
    >>> sorted(flows["partner"].unique())
    ['ARM', 'BLR', 'GEO', 'KAZ', 'KGZ', 'RUS', 'UZB']
    """
    return demo_flows()


def demo_flows() -> pd.DataFrame:
    """The demo data as a canonical flows table (EUR); see :func:`load_eurostat_chp`.

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
    """Path of the demo data file inside the installed package; see :func:`eurostat_chp_path`."""
    return Path(str(resources.files("anomaly.demo") / "data" / DEMO_FILE))
