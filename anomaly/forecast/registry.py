"""Every forecaster by name: the one registry that artifacts and the command line use.

An artifact names its forecaster's class, and loading rebuilds it from
:data:`FORECASTERS` only, never from a name imported at load time; ``anomaly train
--forecaster`` offers the short names of :data:`SHORT_NAMES`. A new forecaster is
added to :data:`_REGISTERED` and nowhere else.
"""

from __future__ import annotations

from anomaly.forecast.base import Forecaster
from anomaly.forecast.baselines import PrewarMeanForecaster, SeasonalNaiveForecaster
from anomaly.forecast.pooled import PooledForecaster
from anomaly.forecast.statsmodels_models import ETSForecaster, UnobservedComponentsForecaster

__all__ = ["FORECASTERS", "SHORT_NAMES"]

# (short name, class): the default first, then the statsmodels references, then the
# baselines of published analyses.
_REGISTERED: tuple[tuple[str, type[Forecaster]], ...] = (
    ("pooled", PooledForecaster),
    ("ets", ETSForecaster),
    ("unobserved-components", UnobservedComponentsForecaster),
    ("prewar-mean", PrewarMeanForecaster),
    ("seasonal-naive", SeasonalNaiveForecaster),
)

#: Forecaster classes by class name, as artifacts record them (``config.forecaster.class``).
#:
#: Examples
#: --------
#: >>> FORECASTERS["PooledForecaster"]
#: <class 'anomaly.forecast.pooled.PooledForecaster'>
FORECASTERS: dict[str, type[Forecaster]] = {cls.__name__: cls for _, cls in _REGISTERED}

#: Forecaster classes by the short name the command line takes (``--forecaster ets``).
#:
#: Examples
#: --------
#: >>> SHORT_NAMES["ets"].__name__
#: 'ETSForecaster'
SHORT_NAMES: dict[str, type[Forecaster]] = dict(_REGISTERED)
