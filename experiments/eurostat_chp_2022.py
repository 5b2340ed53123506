"""Real-data case study: EU exports of Common High Priority goods, trained 2020–2021, scored 2022.

Run from the repository root::

    python experiments/eurostat_chp_2022.py

It trains ``TradeAnomalyModel`` on the built-in Eurostat data (monthly exports of the
EU27 to Russia, Belarus and five neighbours, CN8 codes of the CHP list, 2020-01..2021-12),
scores 2022-01..2022-11, and writes ``experiments/results/eurostat_chp_2022.md``:
the top leads; where the EU→Kyrgyzstan and EU→Armenia chip and electronics surges
rank; how Russia's collapse is reported; and two checks against independent data in
``../shared/data``: the partners' own import statistics (annual mirror ratios) and
Comext totals of all goods (is the CHP surge more than general demand?).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from markdown_table import markdown

from anomaly.demo import SCORE_WINDOW, TRAIN_WINDOW, demo_flows
from anomaly.io import read_flows
from anomaly.model import TradeAnomalyModel
from anomaly.report import format_money

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ELECTRONICS = ("8542", "8517", "8525", "8526", "8529", "8541", "8471")
NAMES = {"Armenia": "ARM", "Kazakhstan": "KAZ", "Kyrgyzstan": "KGZ", "Uzbekistan": "UZB"}


def jan_nov(flows: pd.DataFrame, year: int) -> pd.DataFrame:
    months = flows["period"].dt.month <= 11
    return flows[months & (flows["period"].dt.year == year)]


def demand_check(chp: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """CHP growth against all-goods growth per partner, January–November 2021 → 2022."""
    rows = []
    for partner in ["KGZ", "ARM", "KAZ", "GEO", "UZB", "RUS", "BLR"]:

        def total(table: pd.DataFrame, year: int, partner: str = partner) -> float:
            part = jan_nov(table, year)
            return float(
                part.loc[(part["partner"] == partner) & (part["flow"] == "export"), "value"].sum()
            )

        chp_growth = total(chp, 2022) / max(total(chp, 2021), 1.0)
        all_growth = (
            total(totals, 2022) / max(total(totals, 2021), 1.0)
            if (totals["partner"] == partner).any()
            else np.nan
        )
        rows.append(
            {
                "partner": partner,
                "CHP Jan–Nov 2021": format_money(total(chp, 2021), "EUR"),
                "CHP Jan–Nov 2022": format_money(total(chp, 2022), "EUR"),
                "CHP growth": chp_growth,
                "all goods growth": all_growth,
                "CHP over all goods": chp_growth / all_growth
                if np.isfinite(all_growth)
                else np.nan,
            }
        )
    return pd.DataFrame(rows)


def mirror_check() -> pd.DataFrame:
    """EU-declared exports over partner-declared imports, all goods, per partner and year."""
    mirror = pd.read_csv(SHARED / "mirror_eu_exports_vs_partner_imports_2019_2023.csv")
    sums = mirror.groupby(["partner", "year"])[
        ["eu_reported_export_eur", "partner_reported_import_eur"]
    ].sum()
    ratio = (sums["eu_reported_export_eur"] / sums["partner_reported_import_eur"]).unstack()
    ratio.index = [NAMES.get(p, p) for p in ratio.index]
    return ratio.reset_index(names="partner").rename(columns=str)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", default=str(ROOT / "experiments" / "results" / "eurostat_chp_2022.md")
    )
    args = parser.parse_args()
    flows = demo_flows()
    model = TradeAnomalyModel().fit(flows, *TRAIN_WINDOW)
    leads = model.score(flows, *SCORE_WINDOW).leads

    top = leads.head(20)[
        ["rank", "reporter", "partner", "hs", "score", "alert", "signals", "explanation"]
    ]
    alerts = leads[leads["alert"]]
    by_partner = (
        alerts.groupby("partner")
        .agg(alerts=("rank", "size"), excess=("excess_value", "sum"), best_rank=("rank", "min"))
        .reset_index()
        .sort_values("excess", ascending=False)
    )
    by_partner["excess"] = [format_money(v, "EUR") for v in by_partner["excess"]]

    electronics = leads["hs"].str[:4].isin(ELECTRONICS)
    surges = leads[leads["partner"].isin(["KGZ", "ARM"]) & electronics & leads["alert"]]
    kgz_arm = surges.head(15)[
        ["rank", "reporter", "partner", "hs", "score", "actual", "expected"]
    ].copy()
    kgz_arm["actual"] = [format_money(v, "EUR") for v in kgz_arm["actual"]]
    kgz_arm["expected"] = [format_money(v, "EUR") for v in kgz_arm["expected"]]

    russia = leads[(leads["partner"] == "RUS") & (leads["flow"] == "export")]
    compliance = russia["signals"].str.contains("compliance_drop")
    russia_alerts = int(russia["alert"].sum())
    russia_drop = float((russia["expected"] - russia["actual"]).clip(lower=0).sum())

    totals = read_flows(SHARED / "comext_member_exports_totals_2019_2024.csv")
    demand = demand_check(flows, totals)
    mirror = mirror_check()

    n_top50 = leads.head(50)
    share_kgz_arm = int(n_top50["partner"].isin(["KGZ", "ARM"]).sum())
    kgz = demand.set_index("partner").loc["KGZ"]
    arm = demand.set_index("partner").loc["ARM"]
    reading = (
        f"Of {len(leads):,} series scored, {len(alerts)} alert ({len(alerts) / len(leads):.1%}); "
        f"{share_kgz_arm} of the top 50 leads are exports to Kyrgyzstan or Armenia, "
        f"{int(n_top50['partner'].eq('KAZ').sum())} to Kazakhstan. The alerts are surges far "
        f"above each flow's 2020–2021 path (most several tens of times their counterfactual) "
        f"and new flows, nearly all with the `rerouting` signal: the same exporter's direct "
        f"exports of the same good to Russia or Belarus fell at the same time. "
        f"{len(surges)} alerts are chips and electronics (HS {', '.join(ELECTRONICS)}) to "
        f"Kyrgyzstan or Armenia. Russia: {int(compliance.sum())} direct export series carry "
        f"`compliance_drop` and {russia_alerts} alert; the direct CHP exports to Russia fell "
        f"{format_money(russia_drop, 'EUR')} short of their counterfactual over the window. "
        f"Independent checks agree: Kyrgyzstan's CHP imports from the EU grew "
        f"{kgz['CHP growth']:.1f}× from January–November 2021 to 2022 against "
        f"{kgz['all goods growth']:.1f}× for all goods (Armenia {arm['CHP growth']:.1f}× against "
        f"{arm['all goods growth']:.1f}×), so the surge is not general demand alone; and the EU "
        f"declared {mirror.set_index('partner').loc['KGZ', '2022']:.2f}× what Kyrgyzstan declared "
        f"receiving in 2022 (1.0–1.2 before the war), the mirror gap of phantom or "
        f"re-exported trade. The demo data hold EU exports only, so the model's own mirror and "
        f"onward-flow detectors have nothing to read here; the mirror ratios above come from "
        f"the partners' national statistics (annual, all goods)."
    )

    sections = [
        "# Case study: EU exports of CHP goods, 2022\n",
        f"Command: `python experiments/eurostat_chp_2022.py`. Data: the built-in Eurostat "
        f"extract (DS-045409), trained {TRAIN_WINDOW[0]}..{TRAIN_WINDOW[1]}, scored "
        f"{SCORE_WINDOW[0]}..{SCORE_WINDOW[1]}, HS6, EUR.\n",
        "## Reading\n",
        reading + "\n",
        "## Top 20 leads\n",
        markdown(top, 2) + "\n",
        "## Alerts by destination\n",
        markdown(by_partner, 2) + "\n",
        "## Chips and electronics to Kyrgyzstan and Armenia (alerts)\n",
        markdown(kgz_arm, 2) + "\n",
        "## General demand: CHP growth against all goods (Comext totals)\n",
        markdown(demand, 2) + "\n",
        "## Mirror: EU-declared exports over partner-declared imports (all goods)\n",
        "Ratios above 1: the EU declared more shipped than the partner declared received. "
        "Armenia's 2023 partner figures look incomplete (see the data's provenance).\n",
        markdown(mirror, 2) + "\n",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(sections))
    print(out.read_text())


if __name__ == "__main__":
    main()
