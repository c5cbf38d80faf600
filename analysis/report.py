"""``campaign-lab report DIR``: one self-contained HTML page for a results folder.

Reads what the folder holds (a run's ``summary.json``, a comparison's ``comparison.json``,
an optimization's ``optimization.json``, an attribution's ``attribution.json``) and writes
``DIR/report.html`` with its tables and every PNG plot of the folder embedded (base64), so
the page can be mailed or archived on its own.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
from pathlib import Path

import pandas as pd

from scenarios import ScenarioError
from simulation.io import write_atomic

KINDS = {"summary.json": "Campaign run", "comparison.json": "Plan comparison",
         "optimization.json": "Budget optimization", "attribution.json": "Attribution"}
STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}td,th{border:1px solid #ccc;
padding:3px 8px;text-align:right}th{background:#f3f3f3}img{max-width:100%;margin:.5em 0}
h2{border-bottom:1px solid #ddd}"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="a results folder (run, compare, optimize)")


def main(args) -> int:
    path = build(args.folder)
    print(f"wrote {path}")
    return 0


def build(folder: Path) -> Path:
    folder = Path(folder)
    found = [name for name in KINDS if (folder / name).is_file()]
    if not folder.is_dir() or not found:
        raise ScenarioError(str(folder), "", "not a results folder: expected one of "
                            + ", ".join(KINDS))
    parts = [f"<h1>{html.escape(folder.name)}</h1>"]
    for name in found:
        try:
            content = json.loads((folder / name).read_text())
        except json.JSONDecodeError as exc:
            raise ScenarioError(str(folder / name), "", f"not valid JSON: {exc}") from None
        parts.append(f"<h2>{KINDS[name]}</h2>")
        parts.append(SECTIONS[name](content))
    for png in sorted(folder.glob("*.png")):
        data = base64.b64encode(png.read_bytes()).decode()
        parts.append(f"<h3>{html.escape(png.stem)}</h3>"
                     f'<img alt="{html.escape(png.stem)}" src="data:image/png;base64,{data}">')
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(folder.name)}"
            f"</title><style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
    out = folder / "report.html"
    write_atomic(out, lambda p: p.write_text(page, encoding="utf-8"))
    return out


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(float_format=lambda v: f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}",
                         na_rep="-", border=0)


def _run(s: dict) -> str:
    head = {k: v for k, v in s.items() if not isinstance(v, dict | list)}
    parts = [_table(pd.DataFrame([head]).T.rename(columns={0: "value"}))]
    for key in ("by_channel", "by_source", "by_segment"):
        if key in s:
            rows = {k: {m: v for m, v in row.items() if not isinstance(v, dict)}
                    for k, row in s[key].items()}
            parts.append(f"<h3>{key.replace('_', ' ')}</h3>" + _table(pd.DataFrame(rows).T))
    return "".join(parts)


def _comparison(c: dict) -> str:
    rows = [{"plan": s, "kpi": k, **v} for s, kpis in c["plans"].items()
            for k, v in kpis.items()]
    return (f"<p>Baseline <b>{html.escape(c['baseline'])}</b>, {c['replications']} paired "
            f"replications, {int(100 * c['level'])}% intervals.</p>"
            + _table(pd.DataFrame(rows).set_index(["plan", "kpi"])))


def _optimization(o: dict) -> str:
    alloc = pd.DataFrame({"recommended": o["recommended"], "input plan": o["input_plan"]})
    gain = o["gain_over_input"]
    return (f"<p>Objective <b>{o['objective']}</b>, budget {o['budget']:,.0f}, "
            f"{o['evaluations']} allocations evaluated. Gain over the input plan "
            f"{gain['diff']:+,.1f} [{gain['diff_lo']:+,.1f}, {gain['diff_hi']:+,.1f}], "
            f"P(better) {gain['p_better']:.2f}.</p>" + _table(alloc)
            + _table(pd.DataFrame(o["comparison"]).set_index(["plan", "kpi"])))


def _attribution(a: dict) -> str:
    table = a.get("table") or a.get("channels") or a
    try:
        frame = pd.DataFrame(table)
    except ValueError:
        frame = pd.DataFrame([table])
    return _table(frame)


SECTIONS = {"summary.json": _run, "comparison.json": _comparison,
            "optimization.json": _optimization, "attribution.json": _attribution}
