"""Policy wedges: the stable interface through which instruments act on the market each month.

An instrument (see `reesim.policy`) compiles to a schedule: a callable that receives the month index and
what the engine observed in the previous month (`StepResult`, or None in the first month) and returns
`MonthWedges`. Seeing the last month lets rules react (a stockpile released when prices spike, a price
floor paid on the gap, a licence cap set from the flows it replaces). Every array broadcasts against the
engine's shapes, with an optional leading member axis, so a strategic actor can set different wedges in
different members. Defaults change nothing: a scenario without policies reproduces the baseline exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from reesim.engine.core import StepResult


POOLS = 3  # pools of tradable export licences a month can hold, each with its own price (e.g. light and heavy)


def per_member(value: np.ndarray | float, shape: tuple[int, ...]) -> np.ndarray:
    """A wedge (one number, or an array with or without the leading member axis) as a read-only view of
    `shape`, whose first axis is the members."""
    return np.broadcast_to(np.asarray(value, dtype=float), shape)


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
    quota: (2,) China's mining and separation quotas in t REO/yr (nan: the engine's own quota path).
    quota_scale: (2,) multiplier on the mining and separation quotas (consolidation steering output).
    line_limit: (N,) t/month a line may process under its part of a quota split among groups of holders
        (China's published light and medium-heavy mining quotas; inf: none).
    yield_factor: (N,) multiplier on a line's output per unit of throughput (a process without the know-how).
    start_delay: (N,) months added to a line's start (for a line not yet running: a project slips).
    lead_delay: (N,) months added to the lead time of expansions decided this month.
    hurdle_factor: (N,) multiplier on the margin a line must earn before its owner expands (capital grants).
    demand_factor: (R, S, P) multiplier on final demand by region, sector and product (demand shocks).
    tension: (R, P) perceived supply risk that a policy signals to holders (0: none; adds to the risk that
        price surprises build), so precautionary stocks rise when controls are announced.
    pool_route: (R, R, P) the pool of tradable export licences (a pooled quota) that a route and good
        belong to, numbered 1 to POOLS; 0 for none.
    pool_allowance: (POOLS,) t/month each pool's routes may carry in total this month (inf: no pool).
        The engine prices each pool's licences within the month: one price per tonne on every route of the
        pool, the lowest at which its exports do not exceed its allowance
        (`reesim.engine.licence_pool.clear_pool`).
    informal_cap: (R, R, P) t/month an informal channel (smuggling) can carry on a route (0: none). Goods
        on it pay no export tax, tariff or licence and escape the customs record (`trade`); the engine
        decides each month how much of the capacity is used from last month's margin (`Engine._smuggle`).
    informal_cost: (R, R, P) cost of evading the controls (mislabelling, bribes, seizures) as a share of
        the origin price.
    """

    route_cap: np.ndarray | float = np.inf
    markup: np.ndarray | float = 0.0
    unit_wedge: np.ndarray | float = 0.0
    price_floor: np.ndarray | float = 0.0
    price_ceiling: np.ndarray | float = np.nan
    cost_offset: np.ndarray | float = 0.0
    stock_flow: np.ndarray | float = 0.0
    capacity_factor: np.ndarray | float = 1.0
    quota: np.ndarray | float = np.nan
    quota_scale: np.ndarray | float = 1.0
    line_limit: np.ndarray | float = np.inf
    yield_factor: np.ndarray | float = 1.0
    start_delay: np.ndarray | float = 0.0
    lead_delay: np.ndarray | float = 0.0
    hurdle_factor: np.ndarray | float = 1.0
    demand_factor: np.ndarray | float = 1.0
    tension: np.ndarray | float = 0.0
    pool_route: np.ndarray | float = 0.0
    pool_allowance: np.ndarray | float = np.inf
    informal_cap: np.ndarray | float = 0.0
    informal_cost: np.ndarray | float = 0.0


NO_WEDGES = MonthWedges()


class WedgeSchedule(Protocol):
    """Month index (0 = the base month) and last month's step (None at first) -> wedges in force."""

    def __call__(self, month: int, last: StepResult | None) -> MonthWedges: ...  # pragma: no cover


@dataclass(frozen=True)
class ConstantWedges:
    """A schedule that applies the same wedges in every month (the zero policy by default)."""

    wedges: MonthWedges = field(default_factory=MonthWedges)

    def __call__(self, month: int, last: StepResult | None = None) -> MonthWedges:
        return self.wedges
