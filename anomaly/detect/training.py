"""What the detectors learn from the training panel, gathered over its partitions.

Two of the default detectors read the training panel itself: the mirror detector
(each pair's normal ratio, :class:`~anomaly.detect.mirror.MirrorSums`) and the baseline
detector (placebo draws of its statistic, :class:`~anomaly.detect.baseline.PlaceboDraws`);
the others learn from the placebo window's evidence only. A partitioned fit
(:mod:`anomaly.batch.train`) has each partition compute its :class:`TrainingShare`,
gathers them into :class:`TrainingStatistics` and gives those to
:meth:`Ensemble.learned <anomaly.detect.ensemble.Ensemble.learned>` and
:meth:`Ensemble.fit <anomaly.detect.ensemble.Ensemble.fit>` in place of the panel:
the detectors learn exactly what they learn from the panel.

Other detectors (written elsewhere) may read the panel in ways a partition cannot
give: :func:`partitioned_detectors` names those a partitioned fit cannot train.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomaly.detect.base import Detector, PlaceboEvidence
from anomaly.detect.baseline import BaselineDetector, PlaceboDraws, PlaceboTails, placebo_draws
from anomaly.detect.config import DetectionConfig
from anomaly.detect.hub import HubDetector
from anomaly.detect.iforest import IsolationForestDetector
from anomaly.detect.mirror import MirrorDetector, MirrorRatios, MirrorSums, mirror_sums
from anomaly.detect.regularity import RegularityDetector
from anomaly.detect.rerouting import ReroutingDetector
from anomaly.detect.residual import ResidualDetector
from anomaly.panel import Panel, positions

#: Detectors that learn from the placebo evidence only, never from the training panel.
PLACEBO_ONLY: tuple[type[Detector], ...] = (
    ResidualDetector,
    IsolationForestDetector,
    ReroutingDetector,
    HubDetector,
    RegularityDetector,
)


@dataclass(frozen=True)
class TrainingShare:
    """One partition's share of what the detectors learn from the training panel.

    Attributes
    ----------
    mirror : MirrorSums
        Its export series' mirror sums.
    rows : numpy.ndarray
        The partition's row of each of those series.
    draws : PlaceboDraws
        Its series' baseline placebo draws.
    """

    mirror: MirrorSums
    rows: np.ndarray
    draws: PlaceboDraws


def training_share(train: Panel, published: pd.DataFrame, config: DetectionConfig) -> TrainingShare:
    """The share of ``train``, a partition of a training panel by unordered country
    pair, given which months each reporter published each direction over the whole
    panel (:func:`~anomaly.forecast.publication.published_directions` of it)."""
    sums = mirror_sums(train, published)
    onset = pd.Period(config.sanctions_onset, freq="M")
    return TrainingShare(sums, positions(train.keys, sums.keys), placebo_draws(train, onset))


@dataclass(frozen=True)
class TrainingStatistics:
    """What the detectors learn from a training panel: the mirror ratios of its export
    series (in its row order) and the baseline's placebo draws.

    Attributes
    ----------
    ratios : MirrorRatios
    tails : PlaceboTails
    """

    ratios: MirrorRatios
    tails: PlaceboTails

    @classmethod
    def gather(
        cls, shares: Sequence[TrainingShare], rows: Sequence[np.ndarray], config: DetectionConfig
    ) -> TrainingStatistics:
        """The statistics of a training panel from its partitions' shares.

        Parameters
        ----------
        shares : sequence of TrainingShare
        rows : sequence of numpy.ndarray
            For each share, the training panel's row of each of its partition's rows.
        config : DetectionConfig
            The detectors' settings.
        """
        found = np.concatenate(
            [panel_rows[share.rows] for share, panel_rows in zip(shares, rows, strict=True)]
        )
        sums = MirrorSums.concat([share.mirror for share in shares], np.argsort(found))
        draws = PlaceboDraws.concat([share.draws for share in shares])
        tails = PlaceboTails.from_draws(draws, config.min_placebo_values)
        return cls(MirrorRatios.from_sums(sums), tails)


def fit_detector(
    detector: Detector, train: Panel | TrainingStatistics, placebo: PlaceboEvidence | None
) -> Detector:
    """``detector`` fitted on a training panel, or on its :class:`TrainingStatistics`.

    Raises
    ------
    ValueError
        Statistics given for a detector that reads the panel otherwise
        (:func:`partitioned_detectors`).
    """
    if isinstance(train, Panel):
        return detector.fit(train, placebo)
    if type(detector) is MirrorDetector:
        return detector.fit_ratios(train.ratios, placebo)
    if type(detector) is BaselineDetector:
        return detector.fit_tails(train.tails)
    if type(detector) in PLACEBO_ONLY:
        return detector.fit(None, placebo)  # they read no training panel
    raise ValueError(
        f"the detector {detector.name!r} ({type(detector).__name__}) cannot be trained "
        "over partitions: only the default detectors can"
    )


def partitioned_detectors(detectors: Sequence[Detector]) -> list[str]:
    """Names of the ``detectors`` a partitioned fit cannot train (those it does not
    know to read the training panel only as :class:`TrainingShare` does)."""
    known = (MirrorDetector, BaselineDetector, *PLACEBO_ONLY)
    return [detector.name for detector in detectors if type(detector) not in known]
