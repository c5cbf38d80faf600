"""The page the Solara server serves: ``App`` with what ``campaign-lab app`` was given.

The server imports this module by name (``SOLARA_APP``); the command puts its arguments in
``SETUP`` first, in the same process.
"""

from __future__ import annotations

import solara

from .state import Setup
from .views import App

SETUP = Setup()


@solara.component
def Page():
    App(scenario=SETUP.scenario, posterior=SETUP.posterior, workers=SETUP.workers,
        population=SETUP.population)
