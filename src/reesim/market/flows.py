"""Flows at fixed prices: settling a row whose prices are right but whose route statuses cycle.

The sweeps of `reesim.market.sweeps` change one route status at a time along trees of routes at zero
reduced cost. Where many routes tie, the prices can be the equilibrium's while the statuses still cycle:
in a magnet:NdFeB row of `2025-controls` (tests/data/clearing_flow_cycle.npz) two exporters sit at one
price and sixteen importers one freight rate above them, linked by many capped routes at zero reduced
cost; the sweeps merge 0->17, split 7->14, merge 7->14, split 0->17 over its cap, and so on, and never
give route 7->17 the partial flow that settles the row.

At fixed prices p the rest of the equilibrium is linear. Each node's net supply E_r(p_r) is known; a
route with negative reduced cost carries its cap, one with positive reduced cost nothing, one at zero
anything in [0, cap]; a node at its floor may hand any quantity to the buyer of last resort and a node at
its ceiling take any from the seller of last resort; every node must balance. Whether such flows exist is
a transshipment feasibility problem, solved here as a small LP through HiGHS (`reesim._lp`): its basic
solution on this network matrix is exact up to rounding. Any solution, with the prices, is an equilibrium
by construction (each condition is a constraint of the LP, and the prices are checked against their
floors and ceilings), so nothing about how the sweeps found the prices needs to hold; where the LP is
infeasible the prices were not the equilibrium's and the row stays unsettled.

highspy is an optional dependency (`reesim[solver]`): without it the rows stay reported unsettled, as
they were before this step existed.
"""

from __future__ import annotations

import numpy as np

from reesim._lp import maximise
from reesim.market.problem import ClearingProblem, ClearingSolution


def settle_flows(problem: ClearingProblem, sol: ClearingSolution, rows: np.ndarray, tol: float) -> None:
    """Give each of `rows` (unsettled rows of `sol`) flows, take and fill that clear it at its prices where
    such flows exist, and mark it converged; in place. tol is the solver's relative tolerance on reduced
    costs and on a price's distance to its floor or ceiling (as in the sweeps)."""
    for b in rows:
        try:
            settled = _flows_at_prices(problem, b, sol.price[b], tol)
        except ImportError:  # no highspy: the rows stay unsettled (module docstring)
            return
        if settled is None:
            continue
        sol.flow[b], sol.floor_take[b], sol.ceiling_fill[b] = settled
        gap = sol.price[b][None, :] - (1.0 + problem.markup[b]) * sol.price[b][:, None] - problem.transport[b]
        at_cap = (sol.flow[b] >= problem.cap[b]) & ~np.eye(len(sol.price[b]), dtype=bool)
        sol.rent[b] = np.where(at_cap, np.maximum(gap, 0.0), 0.0)  # as the sweeps set it: where capped
        sol.converged[b] = True


def _flows_at_prices(problem: ClearingProblem, b: int, price: np.ndarray,
                     tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(flow (R, R), floor_take (R,), ceiling_fill (R,)) that clear row b at `price`, or None if there are
    none (module docstring)."""
    n_r = len(price)
    floor, ceiling, cap = problem.floor[b], problem.ceiling[b], problem.cap[b]
    if (price < floor - tol * (1.0 + floor)).any() or (price > ceiling + tol * (1.0 + ceiling)).any():
        return None
    reduced = ((1.0 + problem.markup[b]) * price[:, None] + problem.transport[b] - price[None, :]) / (
        1.0 + np.abs(price[None, :]))
    route = ~np.eye(n_r, dtype=bool) & (cap > 0.0)
    full = route & (reduced < -tol)
    if np.isinf(cap[full]).any():  # a profitable uncapped route: no flow is enough
        return None
    fixed = np.where(full, cap, 0.0)
    net = np.clip(problem.a[b] + problem.slope[b] * price[:, None], problem.lo[b], problem.hi[b]).sum(axis=1)
    net += fixed.sum(axis=0) - fixed.sum(axis=1)
    tied_o, tied_d = np.nonzero(route & (np.abs(reduced) <= tol))
    takes = np.flatnonzero(price <= floor + tol * (1.0 + floor))
    fills = np.flatnonzero(price >= ceiling * (1.0 - tol) - tol)  # ceiling - tol (1 + ceiling), no inf - inf
    n_t = len(tied_o)
    n_col = n_t + len(takes) + len(fills)
    # Balance of node r: net_r + inflow - outflow - take_r + fill_r = 0.
    rows = np.zeros((n_r, n_col))
    rows[tied_o, np.arange(n_t)], rows[tied_d, np.arange(n_t)] = -1.0, 1.0
    rows[takes, n_t + np.arange(len(takes))] = -1.0
    rows[fills, n_t + len(takes) + np.arange(len(fills))] = 1.0
    upper = np.concatenate([cap[tied_o, tied_d], np.full(n_col - n_t, np.inf)])
    try:
        solved = maximise(np.zeros(n_col), rows, -net, -net, np.zeros(n_col), upper)
    except RuntimeError:  # HiGHS failed on the LP: the row stays as the sweeps left it
        return None
    if solved is None:
        return None
    x = np.clip(solved[0], 0.0, upper)  # inside the bounds HiGHS met to its tolerance
    flow, take, fill = fixed, np.zeros(n_r), np.zeros(n_r)
    flow[tied_o, tied_d] = x[:n_t]
    take[takes], fill[fills] = x[n_t:n_t + len(takes)], x[n_t + len(takes):]
    return flow, take, fill
