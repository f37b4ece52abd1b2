"""Policy wedges: the stable interface through which instruments act on the market each month.

An instrument (the policy issue) compiles to a function of the month that returns `MonthWedges`. Every
array broadcasts against the engine's shapes, with an optional leading member axis, so a strategic actor
can set different wedges in different members. Defaults change nothing: a scenario without policies
reproduces the baseline exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class MonthWedges:
    """Wedges in force in one month. Shapes: R regions, P products, N lines; a leading member axis is optional.

    route_cap: (R, R, P) t/month that may move origin -> destination (inf: no cap, 0: blocked).
    markup: (R, R, P) ad-valorem wedge on the origin price (export tax plus destination tariff), e.g. 0.25.
    unit_wedge: (R, R, P) per-unit wedge on a route in USD/kg, added to transport cost.
    price_floor: (R, P) lowest price in USD/kg at which a buyer of last resort takes any quantity (0: none).
    price_ceiling: (R, P) USD/kg above which demand goes unserved (nan: the engine's default ceiling).
    cost_offset: (N,) USD/kg added to a line's unit cost (negative for a production subsidy).
    stock_flow: (R, P) t/month bought (+) into or released (-) from strategic stockpiles.
    capacity_factor: (N,) multiplier on a line's available capacity (0 closes it, e.g. an enforcement campaign).
    """

    route_cap: np.ndarray | float = np.inf
    markup: np.ndarray | float = 0.0
    unit_wedge: np.ndarray | float = 0.0
    price_floor: np.ndarray | float = 0.0
    price_ceiling: np.ndarray | float = np.nan
    cost_offset: np.ndarray | float = 0.0
    stock_flow: np.ndarray | float = 0.0
    capacity_factor: np.ndarray | float = 1.0


NO_WEDGES = MonthWedges()

WedgeSchedule = Callable[[int], MonthWedges]
"""Month index (0 = January 2024) -> wedges in force that month."""


@dataclass(frozen=True)
class ConstantWedges:
    """A schedule that applies the same wedges in every month (the zero policy by default)."""

    wedges: MonthWedges = field(default_factory=MonthWedges)

    def __call__(self, month: int) -> MonthWedges:
        return self.wedges
