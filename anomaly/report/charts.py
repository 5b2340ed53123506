"""Chart one lead's monthly series against its counterfactual band, as PNG bytes.

matplotlib is an optional dependency (``pip install anomaly[plot]``), imported only
here and only when a chart is drawn. Figures are built with ``matplotlib.figure.Figure``
rather than pyplot, so no global backend or figure registry is touched, and under the
default style, so a user's ``matplotlibrc`` cannot change the bytes of a report.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from anomaly.report.formatting import format_money

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["PLOT_INSTALL", "figure_png", "matplotlib_available", "series_chart"]

#: What to run for charts when matplotlib is missing.
PLOT_INSTALL = "pip install anomaly[plot]"

FIGSIZE = (7.0, 2.6)
DPI = 90
_ACTUAL, _EXPECTED, _MIRROR = "#1f5fa8", "#d9761a", "#3a8f4b"


def matplotlib_available() -> bool:
    """Tell whether matplotlib can be imported.

    Examples
    --------
    >>> isinstance(matplotlib_available(), bool)
    True
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _scoring_start(monthly: pd.DataFrame, scoring_start: pd.Period | None) -> pd.Period | None:
    if scoring_start is not None:
        return scoring_start
    # Without a recorded window, the first month with a forecast interval is where
    # scoring began: training months carry no interval.
    forecast = monthly.index[monthly["lower"].notna() & monthly["upper"].notna()]
    return forecast.min() if len(forecast) else None


def series_chart(
    monthly: pd.DataFrame,
    *,
    title: str,
    subtitle: str,
    scoring_start: pd.Period | None = None,
    currency: str | None = None,
) -> Figure:
    """Draw actual, expected, the expected range and the mirror series of one lead.

    Parameters
    ----------
    monthly : pandas.DataFrame
        Indexed by a monthly ``PeriodIndex``, columns ``actual, expected, lower, upper``
        and optionally ``mirror_actual`` (as returned by
        :func:`~anomaly.report.monthly.read_monthly`).
    title, subtitle : str
        Drawn as plain text (``$`` does not start mathtext).
    scoring_start : pandas.Period, optional
        First scored month: a vertical line, and the range is shaded from there on.
        By default the first month with a ``lower``/``upper`` interval.
    currency : str, optional
        For the amounts on the y axis.

    Returns
    -------
    matplotlib.figure.Figure
        7 x 2.6 inches at 90 dpi.

    Raises
    ------
    ImportError
        If matplotlib is not installed.

    Examples
    --------
    >>> months = pd.period_range("2021-01", "2022-12", freq="M", name="period")
    >>> expected = np.where(months.year == 2022, 100.0, np.nan)
    >>> monthly = pd.DataFrame({"actual": 100.0 + np.arange(24) ** 2, "expected": expected,
    ...     "lower": expected * 0.8, "upper": expected * 1.2}, index=months)
    >>> figure = series_chart(monthly, title="DEU→KGZ 854231", subtitle="surge")
    >>> [line.get_label() for line in figure.axes[0].get_lines()]
    ['expected', 'actual', 'scoring start']
    """
    from matplotlib import dates, style, ticker
    from matplotlib.figure import Figure

    months = monthly.index
    x = months.to_timestamp().to_numpy()
    start = _scoring_start(monthly, scoring_start)
    with style.context("default"):
        figure = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
        axes = figure.subplots()
        band = monthly["lower"].notna() & monthly["upper"].notna()
        if start is not None:
            band &= months >= start
        if band.any():
            axes.fill_between(
                x[band.to_numpy()],
                monthly["lower"][band],
                monthly["upper"][band],
                color=_EXPECTED,
                alpha=0.18,
                linewidth=0,
                label="expected range",
            )
        axes.plot(x, monthly["expected"], color=_EXPECTED, linewidth=1.2, label="expected")
        if "mirror_actual" in monthly and monthly["mirror_actual"].notna().any():
            axes.plot(
                x,
                monthly["mirror_actual"],
                color=_MIRROR,
                linestyle="--",
                linewidth=1.1,
                label="mirror (partner's declaration)",
            )
        axes.plot(x, monthly["actual"], color=_ACTUAL, linewidth=1.6, label="actual")
        if start is not None:
            axes.axvline(
                start.to_timestamp().to_datetime64(),
                color="0.35",
                linestyle=":",
                linewidth=1.0,
                label="scoring start",
            )
        drawn = monthly.to_numpy(dtype=float)
        if np.isfinite(drawn).any():
            # From zero (or below, for a negative bound): a truncated axis makes any
            # wiggle look like a surge.
            axes.set_ylim(bottom=min(0.0, float(np.nanmin(drawn))))
        axes.yaxis.set_major_formatter(
            ticker.FuncFormatter(lambda value, _: format_money(value, currency))
        )
        locator = dates.AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator))
        axes.tick_params(labelsize=7)
        axes.grid(axis="y", color="0.9", linewidth=0.6)
        axes.spines[["top", "right"]].set_visible(False)
        axes.legend(loc="best", fontsize=7, frameon=False)
        figure.suptitle(title, x=0.01, ha="left", fontsize=10, weight="bold", parse_math=False)
        axes.set_title(subtitle, loc="left", fontsize=8, color="0.3", parse_math=False)
    return figure


def figure_png(figure: Figure) -> bytes:
    """Render a figure as PNG bytes without metadata, so equal charts give equal bytes.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> figure_png(Figure(figsize=(1, 1)))[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    from matplotlib import style

    buffer = io.BytesIO()
    with style.context("default"):
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
