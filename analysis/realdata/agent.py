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

import numpy as np
import pandas as pd

import simulation

from .metrics import Forecast
from .oj import OJPanel
from .stores import Pooled, product_name, store_scenario, weekly_sales


def simulate_store(panel: OJPanel, store: int, pooled: Pooled, *, population: int,
                   seed: int) -> pd.DataFrame:
    """Simulated weekly units of every brand in ``store``: columns ``week, brand, z``."""
    rows = panel.table[panel.table.store == store]
    first, last = int(rows.week.min()), int(rows.week.max())
    scenario = store_scenario(panel, store, pooled, population=population,
                              weeks=(first, last), seed=seed)
    result = simulation.run(scenario, seed=seed)
    orders = result.orders
    day = (orders.hour.to_numpy() // 24).astype(np.int64)
    brands = sorted(rows.brand.unique())
    names = {product_name(b): j for j, b in enumerate(brands)}
    daily = np.zeros((scenario.calendar.days, len(brands)))
    np.add.at(daily, (day, orders["product"].map(names).to_numpy()), orders.units.to_numpy())
    weekly = weekly_sales(daily)
    weeks = np.arange(first, first + len(weekly))
    return pd.DataFrame({"week": np.repeat(weeks, len(brands)),
                         "brand": np.tile(brands, len(weeks)),
                         "z": np.log(weekly.ravel() + 0.5)})


def simulate(panel: OJPanel, stores, pooled: Pooled, *, population: int = 2000,
             seed: int = 0) -> pd.DataFrame:
    """``simulate_store`` for each store (seed ``seed + store``): ``store, week, brand, z``."""
    return pd.concat([simulate_store(panel, s, pooled, population=population, seed=seed + s)
                      .assign(store=s) for s in stores], ignore_index=True)


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
