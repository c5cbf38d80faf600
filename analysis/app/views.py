"""The page: Solara components over a ``Session`` (``analysis.app.state``).

Left, the levers; right, the run bar, the KPI table, the plots, the downloads and the
history. The same ``App`` component is the page of ``campaign-lab app`` and displays in a
JupyterLab cell. The comparison runs in a Solara task (a thread), so the page stays live
while the worker processes simulate; the run bar shows progress and a cancel button.
Class names starting with ``cl-`` mark what the browser tests look for.
"""

from __future__ import annotations

import html

import solara
import solara.lab

import scenarios
from scenarios.budget import POLICIES

from . import export
from . import levers as lv
from .scenario_io import file_name, to_toml
from .state import Session, Setup


def _table(rows: list[dict[str, str]], cls: str) -> None:
    if not rows:
        return
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values())
                   + "</tr>" for r in rows)
    solara.HTML(tag="div", classes=[cls], unsafe_innerHTML=(
        f"<table class='cl-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        "</table>"))


def _text(markup: str, cls: str) -> None:
    solara.HTML(tag="div", classes=[cls], unsafe_innerHTML=markup)


STYLE = """
.cl-table{border-collapse:collapse;font-size:13px;margin:4px 0}
.cl-table td,.cl-table th{border:1px solid #ddd;padding:3px 8px;text-align:right}
.cl-table th{background:#f3f3f3}.cl-table td:first-child{text-align:left}
"""


@solara.component
def ScenarioBar(session: Session):
    with solara.Card("Scenario"):
        s = session.baseline.value
        about = html.escape((s.description or "").rstrip("."))
        _text(f"<b>{html.escape(s.name)}</b> ({html.escape(session.source.value)}): {about}. "
              f"{s.market.population:,} consumers in the file, {s.calendar.days} days, "
              f"{len(s.channels)} channels.", "cl-scenario")
        with solara.Row():
            solara.Select("Preset", values=scenarios.preset_names(),
                          value=session.source.value if session.source.value in
                          scenarios.preset_names() else None,
                          on_value=session.open_preset)
        solara.FileDrop(label="Drop a scenario .toml here to open it", on_file=session.upload,
                        lazy=False)
        if session.error.value:
            solara.Error(session.error.value, classes=["cl-error"])
        elif session.notice.value:
            solara.Info(session.notice.value, classes=["cl-notice"], dense=True)


@solara.component
def BudgetLevers(session: Session):
    levers = session.levers.value
    with solara.Card("Channel budgets"):
        solara.Checkbox(label="Keep the total fixed", value=session.keep_total)
        for channel, budget in levers.budgets.items():
            solara.InputFloat(f"{channel} budget", value=round(budget, 2),
                              on_value=lambda v, c=channel: session.set_budget(c, v))
        _text(f"Total: <b>{levers.total_budget:,.0f}</b>", "cl-total")


@solara.component
def OfferLevers(session: Session):
    levers = session.levers.value
    if not levers.discounts and not levers.livestreams:
        return
    with solara.Card("Offers and livestreams"):
        for offer, discount in levers.discounts.items():
            solara.SliderFloat(f"{offer} discount", value=discount, min=0.0, max=0.9,
                               step=0.01, thumb_label="always",
                               on_value=lambda v, o=offer: session.set_item("discounts", o, v))
            solara.Select(f"{offer} frame", values=list(lv.FRAMES),
                          value=levers.frames[offer],
                          on_value=lambda v, o=offer: session.set_item("frames", o, v))
        for event, on in levers.livestreams.items():
            solara.Switch(label=f"livestream {event}", value=on,
                          on_value=lambda v, e=event: session.set_item("livestreams", e, v))


@solara.component
def SocialLevers(session: Session):
    levers = session.levers.value
    if not levers.kol_spend and not levers.koc_spend:
        return
    with solara.Card("KOL and KOC spend"):
        for event, spend in levers.kol_spend.items():
            solara.InputFloat(f"KOL {event} budget", value=spend,
                              on_value=lambda v, e=event: session.set_item("kol_spend", e, v))
        for event, spend in levers.koc_spend.items():
            solara.InputFloat(f"KOC {event} spend", value=spend,
                              on_value=lambda v, e=event: session.set_item("koc_spend", e, v))


@solara.component
def RunLevers(session: Session):
    levers = session.levers.value
    with solara.Card("Control and size"):
        solara.Select("Budget control", values=list(POLICIES), value=levers.policy,
                      on_value=lambda v: session.set_levers(policy=v))
        solara.InputInt("Population", value=levers.population,
                        on_value=lambda v: v and v > 0 and session.set_levers(population=v))
        solara.SliderInt("Replications", value=levers.replications, min=2, max=40,
                         thumb_label="always",
                         on_value=lambda v: session.set_levers(replications=v))
        with solara.Details("Advanced: any field by its dotted path"):
            solara.InputTextArea(
                "dotted.path=value, one per line", value="\n".join(levers.advanced),
                on_value=lambda v: session.set_levers(
                    advanced=tuple(x for x in v.splitlines() if x.strip())))
        solara.Button("Reset levers", on_click=session.reset_levers, text=True)


@solara.component
def RunBar(session: Session, task):
    busy = task.pending
    with solara.Row(style="align-items:center"):
        solara.Button("Run comparison", on_click=lambda: task(None), disabled=busy,
                      color="primary", classes=["cl-run"])
        solara.Button("Cancel", on_click=session.cancel, disabled=not busy,
                      classes=["cl-cancel"])
        levers = session.levers.value
        solara.Text(f"variant vs baseline, {levers.replications} paired replications of "
                    f"{levers.population:,} consumers"
                    + (f", posterior draws from {session.posterior}" if session.posterior
                       else ""))
    solara.ProgressLinear(session.progress.value if busy else False, classes=["cl-progress"])
    if task.error:
        solara.Error(f"the run failed: {task.exception}", classes=["cl-error"])


@solara.component
def Results(session: Session):
    shown = session.shown.value
    if shown is None:
        solara.Info("Set the levers and press Run comparison.")
        return
    outcome = shown.outcome
    _text(f"<h3>{html.escape(outcome.variant)} vs {html.escape(outcome.baseline)}</h3>",
          "cl-title")
    _table(export.kpi_rows(outcome), "cl-kpi-table")
    if shown.images is None:
        solara.Text("drawing the plots...")
    else:
        with solara.Column(classes=["cl-plots"]):
            for png in shown.images.values():
                solara.Image(png, width="100%")
    stem = f"{outcome.baseline}-vs-{outcome.variant}".replace(" ", "_")
    with solara.Row():
        solara.FileDownload(lambda: export.kpi_csv(outcome), filename=f"{stem}.csv",
                            label="KPI table (CSV)")
        solara.FileDownload(lambda: export.report_html(outcome), filename=f"{stem}.html",
                            label="Report (HTML)", mime_type="text/html")


@solara.component
def SaveVariant(session: Session):
    with solara.Card("Save the variant"):
        solara.InputText("Scenario name", value=session.save_name)
        variant, problem = session.try_variant()
        if variant is None:
            solara.Error(problem, classes=["cl-lever-error"])
        else:
            name = session.save_name.value or f"{variant.name}_variant"
            solara.FileDownload(lambda: to_toml(variant, name), filename=file_name(name),
                                label="Scenario (TOML)", mime_type="application/toml")


def _gmv_difference(trial) -> str:
    if trial.outcome is None:
        return ""
    table = trial.outcome.comparison.table
    return f"{table.loc[table['kpi'] == 'gmv', 'diff'].iloc[-1]:+,.0f}"


@solara.component
def History(session: Session, task):
    trials = session.history.value
    first, set_first = solara.use_state("baseline")
    second, set_second = solara.use_state(None)  # None: the latest variant
    with solara.Card("History"):
        _table([{"plan": t.name, "changes": "; ".join(t.changes) or "-",
                 "GMV vs baseline": _gmv_difference(t)} for t in trials], "cl-history")
        if len(trials) > 2:
            names = [t.name for t in trials]
            second = second if second in names else names[-1]
            with solara.Row():
                solara.Select("Reference", values=names, value=first, on_value=set_first)
                solara.Select("Compared", values=names, value=second, on_value=set_second)
                solara.Button("Compare these two", classes=["cl-compare-two"],
                              disabled=task.pending,
                              on_click=lambda: task((first, second)))


@solara.component
def App(scenario="double11_beauty", posterior: str | None = None, workers=None,
        population: int | None = None):
    """The what-if app: levers, run and compare, keep and share."""
    session = solara.use_memo(lambda: Session(Setup(scenario, posterior, workers,
                                                    population)), [])

    def work(pair):
        """The page's one background job: the levers' variant, or two history entries."""
        if pair is None:
            session.run_levers()
        else:
            session.compare_trials(*pair)

    task = solara.lab.use_task(work, dependencies=None)
    solara.Style(STYLE)
    with solara.Column(style="max-width:1500px"):
        solara.Title("Campaign Lab: what if?")
        ScenarioBar(session)
        with solara.Columns([1, 3]):
            with solara.Column():
                BudgetLevers(session)
                OfferLevers(session)
                SocialLevers(session)
                RunLevers(session)
            with solara.Column():
                RunBar(session, task)
                Results(session)
                SaveVariant(session)
                History(session, task)
