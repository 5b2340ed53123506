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
>>> flows = anomaly.read_flows(anomaly.eurostat_chp_path())  # doctest: +SKIP
>>> model = anomaly.TradeAnomalyModel().fit(flows, "2020-01", "2021-12")  # doctest: +SKIP
>>> scores = model.score(flows, "2022-01", "2022-11")  # doctest: +SKIP
>>> model.save("models/my-model")  # doctest: +SKIP
>>> same = anomaly.load("models/my-model")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from anomaly import errors
from anomaly._version import __version__

if TYPE_CHECKING:
    from anomaly.demo import eurostat_chp_path, load_eurostat_chp
    from anomaly.io import read_flows, validate_flows
    from anomaly.model import Scores, TradeAnomalyModel
    from anomaly.model import load_model as load
    from anomaly.panel import Panel, build_panel

#: Where each public name lives. They are imported on first use (PEP 562), so that
#: ``import anomaly`` and the command line's ``--help`` do not pay for pandas,
#: scikit-learn and the model before a command needs them.
_LAZY: dict[str, tuple[str, str]] = {
    "Panel": ("anomaly.panel", "Panel"),
    "Scores": ("anomaly.model", "Scores"),
    "TradeAnomalyModel": ("anomaly.model", "TradeAnomalyModel"),
    "build_panel": ("anomaly.panel", "build_panel"),
    "eurostat_chp_path": ("anomaly.demo", "eurostat_chp_path"),
    "load": ("anomaly.model", "load_model"),
    "load_eurostat_chp": ("anomaly.demo", "load_eurostat_chp"),
    "read_flows": ("anomaly.io", "read_flows"),
    "validate_flows": ("anomaly.io", "validate_flows"),
}

__all__ = [
    "Panel",
    "Scores",
    "TradeAnomalyModel",
    "__version__",
    "build_panel",
    "errors",
    "eurostat_chp_path",
    "load",
    "load_eurostat_chp",
    "read_flows",
    "validate_flows",
]


def __getattr__(name: str) -> object:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value  # later lookups find it without this function
        return value
    if not name.startswith("_"):
        # A subpackage (``anomaly.demo``, ``anomaly.batch``): importing it makes it an
        # attribute, as the eager imports did for those they reached.
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise  # the subpackage exists but lacks something it imports
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
