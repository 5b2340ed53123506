"""The detector protocol: what every detector does, and what it is given to do it.

A detector's life has four steps, each called by the model (in memory and in batch
runs alike):

1. ``fit(train, placebo)``: learn what it needs from the training window (``train``)
   and calibrate its statistic on the placebo window's evidence (``placebo``: the
   last months of the training window, forecast from the months before them, where
   no evasion is assumed). ``placebo`` is ``None`` for the detectors that *produce*
   the placebo evidence: they only learn from ``train``.
2. ``summarise(window)``: per-series raw statistics of one chunk of series over the
   scoring window (:class:`ScoringWindow`), for the columns no other detector
   computes. It runs where the data are (a batch worker's partition), so it may only
   read its own chunk.
3. ``statistics(table)``: calibrated statistics, added to the table of every scored
   series (one row per series, all chunks gathered).
4. ``log_pvalue(table)`` and ``signals(table)``: the evidence it contributes to the
   ensemble (natural log of a one-sided p-value: **lower = more anomalous**; ``NaN``
   where the detector does not apply) and the named signals it fires.

``to_state()`` and ``from_state()`` give and take the fitted detector as plain
arrays, tables and JSON (:class:`DetectorState`), which the model's artifact stores.

Two class attributes tell the ensemble in which order to run detectors:
``provides`` (the columns :meth:`Detector.statistics` adds) and ``requires`` (the
columns of *other* detectors' statistics it reads, in ``fit`` or later).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from anomaly.detect.config import DetectionConfig
from anomaly.panel import Panel


@dataclass(frozen=True)
class ScoringWindow:
    """One chunk of series over the scoring window, as :meth:`Detector.summarise` reads it.

    Attributes
    ----------
    panel : Panel
        The chunk's panel over the window and the month after it (read for shipping
        lags), including series that are not scored.
    window : Panel
        The scored series over the window; row ``i`` is row ``i`` of the summary.
    published : numpy.ndarray
        ``(series, months)``: whether each scored series' reporter published each month.
    z_months : numpy.ndarray
        ``(series, months)``: each month's standardised residual against the
        counterfactual (``NaN`` where the reporter did not publish).
    publishers : pandas.Index
        Reporters that published in at least one month of the window or the month
        after (over all chunks, not only this one).
    published_mask : callable
        ``published_mask(reporters, flows=None, hs=None)`` gives ``(len(reporters),
        window months + 1)``: whether each reporter published each month of the window
        and the month after (given ``flows``, per row or one for all: that direction of
        its trade; given also ``hs`` per row: that code's chapter of that direction).
    history_known : numpy.ndarray, optional
        Per scored series: whether its history before the window is in the data (false
        for a code new in HS2022 whose predecessors the input lacks); ``None``: all.
    """

    panel: Panel
    window: Panel
    published: np.ndarray
    z_months: np.ndarray
    publishers: pd.Index
    published_mask: Callable[..., np.ndarray]
    history_known: np.ndarray | None = None


@dataclass(frozen=True)
class PlaceboEvidence:
    """The placebo window's evidence, as :meth:`Detector.fit` calibrates on it.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per placebo series: the summary columns and the statistics of the
        detectors calibrated before this one (see ``requires``).
    z_months : numpy.ndarray
        ``(series, months)`` standardised residual of each month (``NaN`` where the
        reporter did not publish).
    """

    table: pd.DataFrame
    z_months: np.ndarray


@dataclass(frozen=True)
class DetectorState:
    """A fitted detector as plain data: JSON parameters, numeric arrays, tables.

    Array and table names are the detector's own; the model stores them under
    ``detector.<name>.``.
    """

    params: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


@runtime_checkable
class Detector(Protocol):
    """What the model and the ensemble ask of every detector (see the module docstring).

    Attributes
    ----------
    name : str
        Stable short name: the detector's key in artifacts and in the registry.
    pvalue_column : str or None
        Leads column of its p-value (``None``: it contributes no evidence of its own).
    signal_names : tuple of str
        Signals it can fire, in the order leads list them.
    provides, requires : tuple of str
        Statistics columns it adds, and other detectors' columns it reads.
    config : DetectionConfig
        The model's shared settings.
    """

    name: ClassVar[str]
    pvalue_column: ClassVar[str | None]
    signal_names: ClassVar[tuple[str, ...]]
    provides: ClassVar[tuple[str, ...]]
    requires: ClassVar[tuple[str, ...]]
    config: DetectionConfig

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters other than ``config``, as JSON values."""

    def clone(self, config: DetectionConfig | None = None) -> Self:
        """An unfitted copy with the same parameters (and ``config`` if given)."""

    def fit(self, train: Panel, placebo: PlaceboEvidence | None) -> Self:
        """Learn from the training window; calibrate on the placebo (if given)."""

    def summarise(self, window: ScoringWindow) -> dict[str, np.ndarray]:
        """Per-series raw statistics of a chunk, one array per summary column."""

    def statistics(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """Calibrated statistics of every scored series (the ``provides`` columns)."""

    def log_pvalue(self, table: pd.DataFrame) -> np.ndarray | None:
        """Natural log of each series' one-sided p-value (``NaN``: not applicable)."""

    def signals(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """Boolean flags, one per name in ``signal_names``."""

    def to_state(self) -> DetectorState:
        """The fitted detector as plain data."""

    @classmethod
    def from_state(cls, state: DetectorState, config: DetectionConfig) -> Self:
        """Rebuild a fitted detector from :meth:`to_state`'s output."""


class BaseDetector:
    """Defaults for the optional steps: no summary columns, statistics, evidence or state.

    A detector subclasses it and overrides what it does; ``__init__`` takes the shared
    :class:`DetectionConfig` and stores parameters unmodified (learned state ends in
    ``_``, as in scikit-learn).
    """

    name: ClassVar[str]
    pvalue_column: ClassVar[str | None] = None
    signal_names: ClassVar[tuple[str, ...]] = ()
    provides: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: DetectionConfig | None = None) -> None:
        self.config = config if config is not None else DetectionConfig()

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters other than the shared config (JSON values)."""
        return {}

    def clone(self, config: DetectionConfig | None = None) -> Self:
        """An unfitted copy with the same parameters (and ``config`` if given)."""
        return type(self)(config if config is not None else self.config, **self.get_params())

    def fit(self, train: Panel, placebo: PlaceboEvidence | None) -> Self:
        return self

    def summarise(self, window: ScoringWindow) -> dict[str, np.ndarray]:
        return {}

    def statistics(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        return {}

    def log_pvalue(self, table: pd.DataFrame) -> np.ndarray | None:
        return None

    def signals(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        return {}

    def to_state(self) -> DetectorState:
        return DetectorState(params=self.get_params())

    @classmethod
    def from_state(cls, state: DetectorState, config: DetectionConfig) -> Self:
        return cls(config, **state.params)
