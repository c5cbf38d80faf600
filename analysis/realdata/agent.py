r"""The agent model's forecast of a store's weekly log sales.

Each store's scenario (:mod:`.stores`) is simulated over all its weeks with the observed
price paths (the forecast weeks' prices are known, as they are to the regression); daily
units by brand are summed to weeks, :math:`z_{sbt} = \log(u_{sbt} + \tfrac12)`. Market size
is not in the data, so the statistics are made free of it: a store-brand offset
:math:`o_{sb}` (the store's base demand for the brand, with its share of shoppers and the
brand's constant) is the mean of :math:`\log q - z` over the training rows, and the forecast
is :math:`N(z + o_{sb}, s_b^2)` with :math:`s_b` the sd of the training residuals of brand
:math:`b` pooled over stores (the model's discrepancy, simulation noise included). The
behavioural parameters (:class:`~.stores.Pooled`) are shared by all stores.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

import simulation
from analysis.parallel import available_cores, ordered_map

from .metrics import Forecast
from .oj import OJPanel
from .stores import Pooled, product_name, store_scenario, weekly_sales


def simulate_store(panel: OJPanel, store: int, grid: Sequence[Pooled], *, population: int,
                   seed: int) -> list[pd.DataFrame]:
    """Simulated weekly units of every brand in ``store`` under each parameter set of
    ``grid`` (one batch of worlds, one world per set): per set, columns ``week, brand, z``."""
    rows = panel.table[panel.table.store == store]
    first, last = int(rows.week.min()), int(rows.week.max())
    worlds = [store_scenario(panel, store, pooled, population=population,
                             weeks=(first, last), seed=seed) for pooled in grid]
    # (worlds, products, days) orders; a store's products sell one unit per order
    daily = simulation.run_batch(worlds, [seed] * len(worlds)).daily_by_product("orders")
    brands = sorted(rows.brand.unique())
    names = [p.name for p in worlds[0].products]
    daily = daily[:, [names.index(product_name(b)) for b in brands], :]
    weekly = weekly_sales(np.moveaxis(daily, 2, 0))  # (weeks, worlds, brands)
    weeks = np.arange(first, first + len(weekly))
    return [pd.DataFrame({"week": np.repeat(weeks, len(brands)),
                          "brand": np.tile(brands, len(weeks)),
                          "z": np.log(weekly[:, w].ravel() + 0.5)})
            for w in range(len(grid))]


def simulate_grid(panel: OJPanel, stores, grid: Sequence[Pooled], *, population: int = 2000,
                  seed: int = 0, cores: int | None = None) -> list[pd.DataFrame]:
    """``simulate_store`` for each store (seed ``seed + store``), the stores on ``cores``
    processes (default: all available): per parameter set, ``store, week, brand, z``."""
    t = panel.table
    jobs = [(OJPanel(panel.source, t[t.store == s], panel.demographics), s, tuple(grid))
            for s in stores]
    runs = ordered_map(_store_job, [(*job, population, seed + job[1]) for job in jobs],
                       cores=cores or available_cores())
    per_store = [[frame.assign(store=s) for frame in frames]
                 for s, frames in zip(stores, runs, strict=True)]
    return [pd.concat(column, ignore_index=True) for column in zip(*per_store, strict=True)]


def _store_job(panel, store, grid, population, seed):
    return simulate_store(panel, store, grid, population=population, seed=seed)


def simulate(panel: OJPanel, stores, pooled: Pooled, *, population: int = 2000,
             seed: int = 0) -> pd.DataFrame:
    """One parameter set's simulated ``store, week, brand, z``."""
    return simulate_grid(panel, stores, [pooled], population=population, seed=seed)[0]


class AgentForecast:
    """Offsets and discrepancy sd from ``train`` rows; ``predict`` any rows of the stores
    simulated in ``simulated``."""

    def __init__(self, simulated: pd.DataFrame, train: pd.DataFrame) -> None:
        self.simulated = simulated.set_index(["store", "week", "brand"])["z"]
        resid = train.logmove.to_numpy() - self._z(train)
        keys = pd.MultiIndex.from_arrays([train.store.to_numpy(), train.brand.to_numpy()])
        frame = pd.DataFrame({"r": resid}, index=keys)
        self.offset = frame.groupby(level=[0, 1])["r"].mean()
        centred = resid - self.offset.reindex(keys).to_numpy()
        self.sd = pd.Series(centred).groupby(train.brand.to_numpy()).std(ddof=1)

    def _z(self, table: pd.DataFrame) -> np.ndarray:
        key = pd.MultiIndex.from_frame(table[["store", "week", "brand"]])
        return self.simulated.reindex(key).to_numpy()

    def predict(self, table: pd.DataFrame) -> Forecast:
        keys = pd.MultiIndex.from_arrays([table.store.to_numpy(), table.brand.to_numpy()])
        mean = self._z(table) + self.offset.reindex(keys).to_numpy()
        return Forecast(mean, self.sd.reindex(table.brand.to_numpy()).to_numpy())
