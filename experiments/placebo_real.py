"""A real placebo: the broad pre-war extract of every sanctioned good, scored on months
before the war, where every alert is a false alarm (issues 11 and 12).

``../shared/data/eurostat_sanctioned_exports_2020_2021_dev.csv.gz``: 13 EU members'
monthly exports of every CN8 code under EU sanctions to Russia, Belarus and five
neighbours, 2020-01..2021-12, with mixed HS4/CN8 rows and names instead of codes. The
model trains on 2020-01..2021-06 and scores 2021-07..2021-12. No setting of the
package was chosen on this file. Run from the repository root::

    python experiments/placebo_real.py
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import pandas as pd
from markdown_table import markdown

import anomaly

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "eurostat_sanctioned_exports_2020_2021_dev.csv.gz"
RESULTS = ROOT / "experiments" / "results" / "placebo_real.md"
TRAIN, SCORE = ("2020-01", "2021-06"), ("2021-07", "2021-12")
SHOWN = ["rank", "reporter", "partner", "hs", "chp_tier", "score", "alert", "signals"]


def main() -> None:
    warnings.simplefilter("ignore")
    started = time.perf_counter()
    flows = anomaly.read_flows(DATA)
    model = anomaly.TradeAnomalyModel().fit(flows, *TRAIN)
    leads = model.score(flows, *SCORE).leads
    seconds = time.perf_counter() - started
    in_scope, alerts = int(leads["in_scope"].sum()), int(leads["alert"].sum())
    top = leads.head(20).copy()
    top["explanation"] = top["explanation"].str.slice(0, 140)
    RESULTS.write_text(
        "# Real placebo: the broad pre-war extract, scored before the war\n\n"
        "Command: `python experiments/placebo_real.py`; data "
        f"`{DATA.name}` ({len(flows):,} rows as read); train {TRAIN[0]}..{TRAIN[1]}, "
        f"score {SCORE[0]}..{SCORE[1]}; {seconds:.0f} s.\n\n"
        f"{len(leads):,} series scored, {in_scope:,} in scope, **{alerts} alerts "
        f"({alerts / max(in_scope, 1):.2%} of in-scope series; the model's false-alarm "
        "rate is set to 1%)**. Every alert here is a false alarm or a pre-war surge.\n\n"
        "## Top 20 leads\n\n" + markdown(top[[*SHOWN, "explanation"]]) + "\n",
        encoding="utf-8",
    )
    print(RESULTS.read_text(encoding="utf-8"))


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main()
