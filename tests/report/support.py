"""A small scoring output directory like ``anomaly score`` writes, and an HTML checker.

The real scorer is written concurrently; this generator follows the contract in
DESIGN.md: 24 training months (2020-01..2021-12) with no forecast, then 12 scored
months (2022) with expected value and interval, and one lead row per series.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

TRAINING = pd.period_range("2020-01", "2021-12", freq="M")
SCORED = pd.period_range("2022-01", "2022-12", freq="M")
SURGE_FROM = pd.Period("2022-04", freq="M")
NOISE = 0.12  # log-scale sd of monthly values around their seasonal level

INJECTION = "<script>alert(1)</script>"


@dataclass(frozen=True)
class Series:
    reporter: str
    partner: str
    hs: str
    tier: str
    level: float  # typical monthly value before the war
    surge: float  # multiplier from SURGE_FROM on; 1 for an ordinary flow
    mirror_share: float | None  # what the partner declares, as a share; None: no mirror
    signals: str
    flow: str = "export"


SERIES = (
    Series("DEU", "KGZ", "854231", "1", 40e3, 12.0, 0.35, "surge;mirror_gap;rerouting"),
    Series("ITA", "ARM", "847150", "", 300e3, 4.0, 0.9, "surge;rerouting"),
    Series("POL", "KAZ", "852691", "2", 150e3, 2.2, None, "surge"),
    Series("FRA", "TUR", "880730", "3.A", 2e6, 1.0, 1.0, ""),
    Series("AUT", "GEO", "010121", "", 5e3, 1.0, None, ""),
)


def _months(series: Series, rng: np.random.Generator) -> pd.DataFrame:
    periods = TRAINING.append(SCORED)
    seasonal = series.level * (1 + 0.15 * np.sin(2 * np.pi * periods.month / 12))
    actual = seasonal * rng.lognormal(0.0, NOISE, len(periods))
    actual = np.where(periods >= SURGE_FROM, actual * series.surge, actual)
    scored = periods >= SCORED[0]
    expected = np.where(scored, seasonal, np.nan)
    mirror = actual * series.mirror_share if series.mirror_share is not None else np.nan
    return pd.DataFrame(
        {
            "period": periods.astype(str),
            "reporter": series.reporter,
            "partner": series.partner,
            "flow": series.flow,
            "hs": series.hs,
            "actual": actual,
            "expected": expected,
            "lower": expected * np.exp(-1.645 * NOISE),
            "upper": expected * np.exp(1.645 * NOISE),
            "z": np.log(actual / expected) / NOISE,
            "mirror_actual": mirror,
        }
    )


def _lead(series: Series, months: pd.DataFrame) -> dict[str, object]:
    scored = months.loc[months["expected"].notna()]
    actual, expected = scored["actual"].sum(), scored["expected"].sum()
    mirror = scored["mirror_actual"].sum(min_count=1)
    return {
        "reporter": series.reporter,
        "partner": series.partner,
        "flow": series.flow,
        "hs": series.hs,
        "chp_tier": series.tier,
        "score": scored["z"].mean(),
        "actual": actual,
        "expected": expected,
        "lower": scored["lower"].sum(),
        "upper": scored["upper"].sum(),
        "excess_value": actual - expected,
        "mirror_gap": actual - mirror,
        "signals": series.signals,
        "explanation": f"{actual / expected:.1f}x the expected value in 2022",
    }


def write_scoring_output(
    out_dir: Path,
    *,
    seed: int = 0,
    series: tuple[Series, ...] = SERIES,
    run: bool = True,
    scores: bool = True,
    tier: bool = True,
    periods: str = "text",
    inject: bool = False,
) -> Path:
    """Write ``leads.csv``, ``scores.parquet`` and ``run.json`` into ``out_dir``.

    ``periods`` is how ``scores.parquet`` stores months: ``"text"`` (``2022-01``),
    ``"period"`` (pandas monthly periods) or ``"timestamp"``. ``inject`` puts a script
    tag into an explanation, a signal, a product label and the currency.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    months = [_months(one, rng) for one in series]
    leads = pd.DataFrame([_lead(one, rows) for one, rows in zip(series, months, strict=True)])
    leads = leads.sort_values("score", ascending=False, ignore_index=True)
    leads.insert(0, "rank", np.arange(1, len(leads) + 1))
    leads.insert(6, "alert", leads["score"] > 2.0)
    leads["model_version"] = "0.1.0"  # an extra column the report must ignore
    if not tier:
        leads = leads.drop(columns="chp_tier")
    if inject:
        leads.loc[0, "explanation"] = f"rerouted {INJECTION} via Bishkek"
        leads.loc[0, "signals"] = f"surge;{INJECTION}"
        leads["description"] = ["Processors & controllers", INJECTION] + [""] * (len(leads) - 2)
    leads.to_csv(out_dir / "leads.csv", index=False)
    if scores:
        table = pd.concat(months, ignore_index=True)
        if periods == "period":
            table["period"] = pd.PeriodIndex(table["period"], freq="M")
        elif periods == "timestamp":
            table["period"] = pd.PeriodIndex(table["period"], freq="M").to_timestamp()
        table.to_parquet(out_dir / "scores.parquet", index=False)
    if run:
        record = {
            "currency": INJECTION if inject else "EUR",
            "model": "pooled-hurdle",
            "scored_window": [str(SCORED[0]), str(SCORED[-1])],
            "n_series": len(series),
        }
        (out_dir / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return out_dir


#: Elements without a closing tag.
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}
)


class Page(HTMLParser):
    """Parse a page, checking that every non-void tag is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.images: list[str] = []
        self.ids: list[str] = []
        self.text: list[str] = []
        self.open_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes.get("src") or "")
        if attributes.get("id"):
            self.ids.append(attributes["id"] or "")
        if tag not in VOID:
            self.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert tag not in VOID, f"closing tag for void element <{tag}>"
        assert self.open_tags, f"</{tag}> closes nothing"
        opened = self.open_tags.pop()
        assert opened == tag, f"</{tag}> closes <{opened}>"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_page(markup: str) -> Page:
    page = Page()
    page.feed(markup)
    page.close()
    assert not page.open_tags, f"unclosed tags: {page.open_tags}"
    return page
