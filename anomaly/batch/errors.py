"""The error a batch run raises for what is neither bad data nor a bad artifact."""

from __future__ import annotations

from anomaly.errors import AnomalyError


class BatchError(AnomalyError):
    """A batch run that cannot go on: a work directory of another job, an engine that
    is not installed or cannot be reached, a worker that cannot see the work directory.
    """
