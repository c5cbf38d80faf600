"""The what-if app: levers, a comparison on common random numbers, plots, keep and share.

``campaign-lab app [SCENARIO] [--posterior DIR] [--port N]`` serves it in the browser; in
JupyterLab, ``analysis.app.show("double11_beauty")`` (or ``App(...)`` as the cell's last
expression) displays the same page in the cell. Modules: ``levers`` (the controls and how
they make a variant), ``scenario_io`` (upload and save), ``runs`` (the paired runs on a
warm process pool), ``figures`` and ``export`` (plots, KPI table, report), ``state`` (one
session), ``views`` (the Solara components), ``page`` and ``cli`` (the server).
"""

from __future__ import annotations


def show(scenario="double11_beauty", *, posterior: str | None = None, workers: int = 1,
         population: int | None = None):
    """The app as a Solara element: the last expression of a notebook cell displays it.

    ``workers`` > 1 runs the replications in that many worker processes.
    """
    from .runs import shared_workers
    from .views import App

    return App(scenario=scenario, posterior=posterior, workers=shared_workers(workers),
               population=population)
