"""anomaly: find sanctions evasion in international trade statistics.

The data flow, one subpackage per stage::

    anomaly.io        read + validate files      → canonical flows table
    anomaly.panel     pivot / aggregate          → Panel (keys + monthly matrix)
    anomaly.forecast  fit on pre-war months      → counterfactual with intervals
    anomaly.detect    residual · mirror · re-routing · isolation forest → calibrated scores
    anomaly.model     TradeAnomalyModel: fit / score / save / load → ranked, explained leads
    anomaly.report    HTML report of the leads

Examples
--------
>>> import anomaly
>>> flows = anomaly.read_flows("eurostat_chp_exports_2020_2022.csv")  # doctest: +SKIP
>>> model = anomaly.TradeAnomalyModel().fit(flows, "2020-01", "2021-12")  # doctest: +SKIP
>>> scores = model.score(flows, "2022-01", "2022-11")  # doctest: +SKIP
>>> model.save("models/my-model")  # doctest: +SKIP
>>> same = anomaly.load("models/my-model")  # doctest: +SKIP
"""

from anomaly import errors
from anomaly._version import __version__
from anomaly.io import read_flows, validate_flows
from anomaly.model import Scores, TradeAnomalyModel
from anomaly.model import load_model as load
from anomaly.panel import Panel, build_panel

__all__ = [
    "Panel",
    "Scores",
    "TradeAnomalyModel",
    "__version__",
    "build_panel",
    "errors",
    "load",
    "read_flows",
    "validate_flows",
]
