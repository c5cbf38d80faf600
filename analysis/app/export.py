"""What the app hands out: the KPI table (for the page and as CSV) and the HTML report.

The table is the comparison's own (``analysis.experiments.compare.summarise``), one row per
KPI: baseline and variant means with their 90% intervals over replications, the paired
difference with its 90% interval, and P(better). The report is ``campaign-lab report``'s
page (``analysis.report.build``) for a folder holding the comparison (``Comparison.save``)
and the app's side-by-side plots.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from analysis import report
from simulation.io import write_atomic

from . import figures

LABELS = {"gmv": "GMV", "orders": "orders", "roas": "ROAS (GMV / spend)",
          "roi": "ROI (profit / spend)", "cac": "CAC", "new_customers": "new customers",
          "complaint_rate": "complaint rate", "spend": "spend", "profit": "profit"}


def kpi_table(outcome) -> pd.DataFrame:
    """One row per KPI: both plans' means and intervals, the paired difference, P(better)."""
    t = outcome.comparison.table.set_index(["plan", "kpi"])
    base, var = outcome.baseline, outcome.variant
    rows = []
    for kpi in dict.fromkeys(outcome.comparison.table["kpi"]):
        b, v = t.loc[(base, kpi)], t.loc[(var, kpi)]
        rows.append({"kpi": kpi, f"{base} mean": b["mean"], f"{base} 5%": b["lo"],
                     f"{base} 95%": b["hi"], f"{var} mean": v["mean"], f"{var} 5%": v["lo"],
                     f"{var} 95%": v["hi"], "difference": v["diff"],
                     "difference 5%": v["diff_lo"], "difference 95%": v["diff_hi"],
                     "P(better)": v["p_better"]})
    return pd.DataFrame(rows)


def kpi_csv(outcome) -> str:
    return kpi_table(outcome).to_csv(index=False)


def _number(kpi: str, value: float) -> str:
    if value != value:  # NaN
        return "-"
    if kpi == "complaint_rate":
        return f"{100 * value:.2f}%"
    if kpi in ("roas", "roi"):
        return f"{value:.2f}"
    if kpi == "cac":
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def kpi_rows(outcome) -> list[dict[str, str]]:
    """The KPI table as display strings: mean [5%, 95%] cells, signed differences."""
    out = []
    for row in kpi_table(outcome).to_dict("records"):
        k = row["kpi"]
        cells = {"KPI": LABELS.get(k, k)}
        for name in (outcome.baseline, outcome.variant):
            cells[name] = (f"{_number(k, row[f'{name} mean'])} "
                           f"[{_number(k, row[f'{name} 5%'])}, {_number(k, row[f'{name} 95%'])}]")
        sign = "+" if row["difference"] >= 0 else "-"
        cells["difference (paired)"] = (
            f"{sign}{_number(k, abs(row['difference']))} [{_number(k, row['difference 5%'])}, "
            f"{_number(k, row['difference 95%'])}]")
        cells["P(better)"] = f"{row['P(better)']:.2f}"
        out.append(cells)
    return out


def save(outcome, folder: str | Path) -> Path:
    """Write the comparison, the KPI table and the side-by-side plots into ``folder``."""
    folder = outcome.comparison.save(folder)
    write_atomic(folder / "kpis.csv", lambda p: p.write_text(kpi_csv(outcome)))
    for name, make in figures.FIGURES.items():
        fig = make(outcome)
        write_atomic(folder / f"{name}.png",
                     lambda p, fig=fig: fig.savefig(p, dpi=90, format="png"))
    return folder


def report_html(outcome) -> bytes:
    """The self-contained HTML report of the comparison (``campaign-lab report``'s page)."""
    with tempfile.TemporaryDirectory(prefix="campaign-lab-report-") as tmp:
        folder = Path(tmp) / f"{outcome.baseline}-vs-{outcome.variant}".replace(" ", "_")
        save(outcome, folder)
        return report.build(folder).read_bytes()
