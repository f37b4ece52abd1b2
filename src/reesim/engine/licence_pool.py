"""The month's price of each pool of tradable export licences (a pooled export quota), found within the month.

One price per tonne L, added to the cost of every route of a pool, is the lowest at which the pool's exports
fit the month's allowance (docs/engine.md). Each trial price is a clearing of the pool goods' rows of the
members whose exports exceed it; where exports jump at the answer (a cheap good reaching its price
ceiling abroad), the clearings on either side are mixed so the allowance is met exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields

import numpy as np

from reesim.engine.wedges import POOLS, MonthWedges, per_member
from reesim.market.problem import ClearingProblem, ClearingSolution

Solver = Callable[..., ClearingSolution]  # a clearing function such as reesim.market.fast.solve_fast

# Regula falsi stalls where exports jump at the answer (a step function: Illinois then needed up to 66
# steps where 50 were allowed), so a step bisects when the one before it did not halve the bracket. The
# bracket then halves at least every second step: from the widest start (a ratio of 1e12 to the closing
# width, 40 halvings) that is at most 80 steps.
_MAX_STEPS = 200


def clear_pools(problem: ClearingProblem, sol: ClearingSolution, w: MonthWedges, solver: Solver,
                previous: np.ndarray) -> tuple[ClearingSolution, np.ndarray]:
    """Price every pool of tradable export licences in force (`w.pool_route` numbers them): (M, POOLS)
    prices per tonne, 0 where a pool is slack or not in force. Pools cover distinct goods (a route and
    good belongs to one pool), and each good's market is its own clearing row, so the pools are priced
    one after the other, each on its own rows."""
    m, n_r = len(previous), problem.shape[1]
    n_p = problem.shape[0] // m
    licence = np.zeros((m, POOLS))
    allowance = per_member(w.pool_allowance, (m, POOLS))
    numbers = per_member(w.pool_route, (m, n_r, n_r, n_p))
    for k in np.flatnonzero(np.isfinite(allowance).any(axis=0)):
        sol, licence[:, k] = clear_pool(problem, sol, numbers == k + 1, allowance[:, k], solver, previous[:, k])
    return sol, licence


def clear_pool(problem: ClearingProblem, sol: ClearingSolution, route: np.ndarray, allowance: np.ndarray,
               solver: Solver, previous: np.ndarray) -> tuple[ClearingSolution, np.ndarray]:
    """Price one pool of tradable export licences within the month: one price per tonne L on every pool
    route (`route`, (M, R, R, P) true on the pool's routes and goods), the lowest at which the pool's
    exports do not exceed the month's `allowance` (M,). `sol` is the clearing without a licence price;
    members whose exports fit the allowance keep it (L = 0). For the others exports fall as L rises (each
    route's cost rises by L), so L is bracketed from last month's price and found by regula falsi
    (Illinois), every member at once, each trial a clearing of the pool goods' rows of those members only;
    the answer is the feasible end of the bracket."""
    m, n_r = len(previous), problem.shape[1]
    n_p = problem.shape[0] // m
    licence = np.zeros(m)
    mask = route.transpose(0, 3, 1, 2).reshape(m * n_p, n_r, n_r).astype(float)
    goods = np.flatnonzero(mask.reshape(m, n_p, -1).any(axis=(0, 2)))
    if not len(goods):  # a pool without routes: nothing to price
        return sol, licence

    def exports(flow: np.ndarray, rows: np.ndarray, count: int) -> np.ndarray:
        return (flow * mask[rows]).sum(axis=(1, 2)).reshape(count, -1).sum(axis=1)

    every = (np.arange(m)[:, None] * n_p + goods[None, :]).ravel()
    excess = exports(sol.flow[every], every, m) - allowance
    bind = np.flatnonzero(np.isfinite(allowance) & (excess > 1e-9 * np.maximum(allowance, 1.0)))
    if not len(bind):
        return sol, licence
    rows = (bind[:, None] * n_p + goods[None, :]).ravel()
    base = ClearingProblem(*(getattr(problem, f.name)[rows] for f in fields(problem)))
    route = mask[rows]
    per_row = np.repeat(np.arange(len(bind)), len(goods))
    target = allowance[bind]

    def clear(price: np.ndarray, start: ClearingSolution) -> tuple[ClearingSolution, np.ndarray]:
        trial = ClearingProblem(base.a, base.slope, base.lo, base.hi, base.transport + price[per_row, None, None]
                                * route, base.markup, base.cap, base.floor, base.ceiling)
        out = solver(trial, warm_price=start.price, warm_flow=start.flow)
        return out, exports(out.flow, rows, len(bind)) - target

    start = ClearingSolution(*(getattr(sol, f.name)[rows] for f in fields(sol)))
    lo, f_lo = np.zeros(len(bind)), excess[bind]
    hi = np.maximum(previous[bind], 1.0)  # last month's price, a good first guess
    best, f_hi = clear(hi, start)
    above, e_above = start, f_lo.copy()  # the clearing at the bracket's lower end and its true excess
    for _ in range(60):  # widen until every member's exports fit (prices beyond any good's value stop trade)
        over = f_hi > 0
        if not over.any():
            break
        lo, f_lo = np.where(over, hi, lo), np.where(over, f_hi, f_lo)
        above, e_above = _take_rows(above, best, np.repeat(over, len(goods))), np.where(over, f_hi, e_above)
        hi = np.where(over, hi * 4.0, hi)
        trial, f_trial = clear(hi, best)
        best = _take_rows(best, trial, np.repeat(over, len(goods)))
        f_hi = np.where(over, f_trial, f_hi)
    e_best = f_hi.copy()  # the true excess of `best` (Illinois halves f_hi, not the clearing)
    side = np.zeros(len(bind), dtype=int)  # Illinois: halve the stale end's value after two same-side steps
    tol = 1e-10 * np.maximum(target, 1.0)
    mark, slow = hi - lo, np.zeros(len(bind), dtype=int)  # the width last halved, and steps since
    for _ in range(_MAX_STEPS):
        open_ = (f_hi < -tol) & (hi - lo > 1e-12 * (1.0 + hi))
        if not open_.any():
            break
        guess = np.clip(hi - f_hi * (hi - lo) / np.where(f_hi != f_lo, f_hi - f_lo, -1.0), lo, hi)
        guess = np.where((guess <= lo) | (guess >= hi) | (slow >= 1), 0.5 * (lo + hi), guess)
        trial, f = clear(np.where(open_, guess, hi), best)
        feasible = open_ & (f <= 0)
        raised = open_ & (f > 0)
        best, e_best = _take_rows(best, trial, np.repeat(feasible, len(goods))), np.where(feasible, f, e_best)
        above, e_above = _take_rows(above, trial, np.repeat(raised, len(goods))), np.where(raised, f, e_above)
        f_lo = np.where(raised, f, np.where(feasible & (side == 1), 0.5 * f_lo, f_lo))
        f_hi = np.where(feasible, f, np.where(raised & (side == -1), 0.5 * f_hi, f_hi))
        lo, hi = np.where(raised, guess, lo), np.where(feasible, guess, hi)
        side = np.where(feasible, 1, np.where(raised, -1, side))
        halved = hi - lo <= 0.5 * mark
        mark, slow = np.where(halved, hi - lo, mark), np.where(halved, 0, slow + 1)
    else:
        raise RuntimeError(f"the licence price did not close within {_MAX_STEPS} steps; this is a bug, please report it")
    best = _fill_allowance(best, above, e_best, e_above, closed=(e_best < -tol) & (hi - lo <= 1e-12 * (1.0 + hi)),
                           goods=len(goods))
    licence[bind] = hi
    merged = {f.name: getattr(sol, f.name).copy() for f in fields(sol)}
    for name, values in merged.items():
        values[rows] = getattr(best, name)
    return ClearingSolution(**merged), licence


def _take_rows(kept: ClearingSolution, trial: ClearingSolution, rows: np.ndarray) -> ClearingSolution:
    """`kept` with the rows where `rows` is true replaced by `trial`'s."""
    return ClearingSolution(**{f.name: np.where(rows.reshape((-1,) + (1,) * (getattr(kept, f.name).ndim - 1)),
                                                getattr(trial, f.name), getattr(kept, f.name)) for f in fields(kept)})


def _fill_allowance(below: ClearingSolution, above: ClearingSolution, f_below: np.ndarray, f_above: np.ndarray,
                    closed: np.ndarray, goods: int) -> ClearingSolution:
    """Where exports jump at the licence price (the bracket closed on a price with exports under the
    allowance just above it and over it just below), mix the two clearings so exports meet the allowance.

    A jump comes from a flat piece: at a price ceiling buyers take any quantity up to their demand, so at
    the licence price that brings a cheap good's foreign price to its ceiling its exports may be anything
    from none to all. Both ends clear the same problem (their licence prices differ by 1e-12), whose
    solutions form a convex set, so the mix is a clearing too, and the only one that uses the quota it
    prices: without it a positive licence price would leave part of the quota unused.
    """
    if not closed.any():
        return below
    weight = np.where(closed, -f_below / np.where(closed, f_above - f_below, 1.0), 0.0)  # share of `above`
    w = np.repeat(weight, goods)
    mixed = {}
    for f in fields(below):
        low, high = getattr(below, f.name), getattr(above, f.name)
        if f.name == "converged":
            mixed[f.name] = low & high
        elif f.name == "iterations":
            mixed[f.name] = np.maximum(low, high)
        else:
            shape = (-1,) + (1,) * (low.ndim - 1)
            mixed[f.name] = (1.0 - w.reshape(shape)) * low + w.reshape(shape) * high
    return ClearingSolution(**mixed)
