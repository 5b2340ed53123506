"""Stage 5: :class:`TradeAnomalyModel` ties forecaster and detectors; :class:`Scores` holds
the leads."""

from anomaly.model.scores import Scores
from anomaly.model.trade_model import TradeAnomalyModel

__all__ = ["Scores", "TradeAnomalyModel"]
