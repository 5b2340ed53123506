"""Stage 5: :class:`TradeAnomalyModel` ties forecaster and detectors; :class:`Scores` holds
the leads.

Scoring runs in two public passes, in memory (:meth:`TradeAnomalyModel.score`) and in
batch runs (:mod:`anomaly.batch`) alike: :meth:`~TradeAnomalyModel.context` per chunk
of series, merged (:class:`ScoringContext`), then :meth:`~TradeAnomalyModel.evidence`
per chunk (:class:`WindowEvidence`), ranked by :meth:`~TradeAnomalyModel.rank_leads`.
"""

from anomaly.model.context import DEMAND_KEYS, ScoringContext
from anomaly.model.evidence import WindowEvidence
from anomaly.model.memory import (
    MemoryEstimate,
    check_reading_memory,
    check_training_memory,
    estimate_training_memory,
)
from anomaly.model.outputs import RunOutputs, demand_record, run_record
from anomaly.model.scores import HISTORY_LEADS, HISTORY_MONTHS, Scores, with_goods
from anomaly.model.trade_model import TradeAnomalyModel, load_model, raise_after_data

__all__ = [
    "DEMAND_KEYS",
    "HISTORY_LEADS",
    "HISTORY_MONTHS",
    "MemoryEstimate",
    "RunOutputs",
    "Scores",
    "ScoringContext",
    "TradeAnomalyModel",
    "WindowEvidence",
    "check_reading_memory",
    "check_training_memory",
    "demand_record",
    "estimate_training_memory",
    "load_model",
    "raise_after_data",
    "run_record",
    "with_goods",
]
