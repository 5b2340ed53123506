"""The forecaster registry: every forecaster, once, by class name and by short name."""

from __future__ import annotations

import inspect

import anomaly.forecast as forecast
from anomaly.forecast import FORECASTERS, SHORT_NAMES, Forecaster


def test_every_public_forecaster_is_registered_once():
    public = {
        name
        for name, value in vars(forecast).items()
        if inspect.isclass(value)
        and issubclass(value, Forecaster)
        and not inspect.isabstract(value)
    }
    assert set(FORECASTERS) == public
    assert sorted(cls.__name__ for cls in SHORT_NAMES.values()) == sorted(FORECASTERS)


def test_names_lead_to_their_classes():
    assert all(FORECASTERS[name].__name__ == name for name in FORECASTERS)
    assert SHORT_NAMES["pooled"] is forecast.PooledForecaster
    assert SHORT_NAMES["seasonal-naive"] is forecast.SeasonalNaiveForecaster
