"""The detectors a model can be built with, by name: the one list artifacts are read by.

A model artifact names its detectors; loading one rebuilds each from this registry,
never from a class named in the file. A detector written elsewhere is made loadable
with :func:`register_detector` (in the process that loads the model), or, for every
process — batch workers too — by an installed package that declares it as an entry
point of the group ``anomaly.detectors``::

    [project.entry-points."anomaly.detectors"]
    months_above_band = "my_package.detectors:MonthsAboveBand"
"""

from __future__ import annotations

from importlib.metadata import entry_points

from anomaly.detect.base import Detector
from anomaly.detect.baseline import BaselineDetector
from anomaly.detect.config import DetectionConfig
from anomaly.detect.hub import HubDetector
from anomaly.detect.iforest import IsolationForestDetector
from anomaly.detect.mirror import MirrorDetector
from anomaly.detect.regularity import RegularityDetector
from anomaly.detect.rerouting import ReroutingDetector
from anomaly.detect.residual import ResidualDetector

#: Entry-point group of detectors that installed packages provide.
ENTRY_POINT_GROUP = "anomaly.detectors"
#: Detector classes by :attr:`~anomaly.detect.base.Detector.name`.
DETECTORS: dict[str, type[Detector]] = {
    cls.name: cls
    for cls in (
        ResidualDetector,
        MirrorDetector,
        IsolationForestDetector,
        ReroutingDetector,
        HubDetector,
        BaselineDetector,
        RegularityDetector,
    )
}


def register_detector(cls: type[Detector]) -> type[Detector]:
    """Make a detector class loadable from artifacts by its ``name`` (usable as a
    class decorator).

    Examples
    --------
    >>> from anomaly.detect.base import BaseDetector
    >>> @register_detector
    ... class Quiet(BaseDetector):
    ...     name = "quiet"
    >>> DETECTORS.pop("quiet").__name__
    'Quiet'
    """
    known = DETECTORS.get(cls.name)
    if known is not None and known is not cls:
        raise ValueError(f"a detector named {cls.name!r} is registered already: {known}")
    DETECTORS[cls.name] = cls
    return cls


def detector_class(name: str) -> type[Detector] | None:
    """The class registered as ``name``, else the installed entry point of that name
    (``None`` if neither)."""
    if name not in DETECTORS:
        for entry in entry_points(group=ENTRY_POINT_GROUP, name=name):
            register_detector(entry.load())
    return DETECTORS.get(name)


def default_detectors(
    config: DetectionConfig, *, n_estimators: int = 200, random_state: int = 0
) -> list[Detector]:
    """The model's detectors, in the order their p-values and signals are listed."""
    return [
        ResidualDetector(config),
        MirrorDetector(config),
        IsolationForestDetector(config, n_estimators=n_estimators, random_state=random_state),
        ReroutingDetector(config),
        HubDetector(config),
        BaselineDetector(config),
        RegularityDetector(config),
    ]
