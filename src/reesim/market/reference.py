"""Reference market clearing through HiGHS: one convex QP per batch row, slow but independent.

It exists to cross-check `reesim.market.fast` on small cases, so it follows the textbook route rather than
the fast path's: the spatial equilibrium without ad-valorem markups is the optimum of a welfare QP whose
node-balance duals are the prices. Each piece with slope > 0 becomes a quantity q in [lo, hi] with cost
(q^2/2 - a q)/slope (marginal cost (q - a)/slope = node price, i.e. q = a + slope * p); a piece with
slope 0 is the fixed quantity clip(a, lo, hi). Flows cost their transport, the buyer of last resort pays
the floor and the seller of last resort charges the ceiling. An ad-valorem markup m * p_o is not a
per-unit cost, so it is linearised at the previous iterate's origin price and the QP is solved again until
the prices stop moving (diagonalisation); each step contracts by about the largest markup.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

from reesim.market.problem import ClearingProblem, ClearingSolution

_RTOL = 1e-10  # relative price change that ends the markup iteration
_MAX_MARKUP_ITER = 300  # diagonalisation steps before a row is reported as not converged
_AT_CAP = 1e-9  # relative distance to a cap under which a route counts as capped (for rent)


@dataclass(frozen=True)
class _RowModel:
    """Column layout of one row's QP, kept to update the markup costs and to read the answer back."""

    model: highspy.HighsModel
    route_o: np.ndarray  # origin node of each flow column
    route_d: np.ndarray  # destination node of each flow column
    flow_col: int  # first flow column
    take_col: int  # first take column (one per node)
    fill_nodes: np.ndarray  # nodes with a finite ceiling, one fill column each after the takes


def _new_highs() -> highspy.Highs:
    """A silent HiGHS instance with tight tolerances: the duals are compared to 1e-6 relative."""
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("qp_regularization_value", 0.0)  # the default 1e-7 biases the duals
    highs.setOptionValue("primal_feasibility_tolerance", 1e-8)  # tighter fails on wide clips
    highs.setOptionValue("dual_feasibility_tolerance", 1e-10)
    return highs


def _build_row(problem: ClearingProblem, b: int) -> _RowModel:
    """Columns: free pieces, flows on open routes, takes, fills; rows: node balances."""
    _, r_count, _ = problem.shape
    slope, a, lo, hi = problem.slope[b], problem.a[b], problem.lo[b], problem.hi[b]
    free_r, free_k = np.nonzero(slope > 0)
    fixed = np.where(slope > 0, 0.0, np.clip(a, lo, hi)).sum(axis=1)
    cap = problem.cap[b]
    route_o, route_d = np.nonzero((cap > 0) & ~np.eye(r_count, dtype=bool))
    fill_nodes = np.flatnonzero(np.isfinite(problem.ceiling[b]))
    n_q, n_f = len(free_r), len(route_o)
    n_col = n_q + n_f + r_count + len(fill_nodes)

    # Each column has at most two nonzeros: +1 on its node (q, fill), -1 (take), or -1/+1 (flow).
    rows = [free_r, route_o, route_d, np.arange(r_count), fill_nodes]
    cols = [np.arange(n_q), n_q + np.arange(n_f), n_q + np.arange(n_f),
            n_q + n_f + np.arange(r_count), n_q + n_f + r_count + np.arange(len(fill_nodes))]
    vals = [np.ones(n_q), -np.ones(n_f), np.ones(n_f), -np.ones(r_count), np.ones(len(fill_nodes))]
    col_of, row_of, val_of = (np.concatenate(x) for x in (cols, rows, vals))
    order = np.lexsort((row_of, col_of))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, r_count
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(col_of[order], np.arange(n_col + 1)).astype(np.int32)
    lp.a_matrix_.index_ = row_of[order].astype(np.int32)
    lp.a_matrix_.value_ = val_of[order]
    lp.col_lower_ = np.concatenate([lo[free_r, free_k], np.zeros(n_f + r_count + len(fill_nodes))])
    lp.col_upper_ = np.concatenate([hi[free_r, free_k], cap[route_o, route_d],
                                    np.full(r_count + len(fill_nodes), highspy.kHighsInf)])
    lp.col_cost_ = np.concatenate([-a[free_r, free_k] / slope[free_r, free_k],
                                   problem.transport[b][route_o, route_d],
                                   -problem.floor[b], problem.ceiling[b][fill_nodes]])
    lp.row_lower_ = lp.row_upper_ = -fixed
    hessian = highspy.HighsHessian()
    hessian.dim_ = n_col
    hessian.format_ = highspy.HessianFormat.kTriangular
    hessian.start_ = np.concatenate([np.arange(n_q + 1), np.full(n_col - n_q, n_q)]).astype(np.int32)
    hessian.index_ = np.arange(n_q, dtype=np.int32)
    hessian.value_ = 1.0 / slope[free_r, free_k]
    model = highspy.HighsModel()
    model.lp_, model.hessian_ = lp, hessian
    return _RowModel(model, route_o, route_d, n_q, n_q + n_f, fill_nodes)


def _solve_row(highs: highspy.Highs, problem: ClearingProblem, b: int,
               row: _RowModel) -> tuple[np.ndarray, np.ndarray, bool]:
    """Diagonalise the markups; return (prices, column values, converged)."""
    highs.passModel(row.model)
    transport = problem.transport[b][row.route_o, row.route_d]
    markup = problem.markup[b][row.route_o, row.route_d]
    cols = np.arange(row.flow_col, row.flow_col + len(row.route_o), dtype=np.int32)
    price = np.zeros(problem.shape[1])
    for step in range(_MAX_MARKUP_ITER):
        if step > 0:
            highs.changeColsCost(len(cols), cols, transport + markup * price[row.route_o])
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return np.full_like(price, np.nan), np.full(row.model.lp_.num_col_, np.nan), False
        solution = highs.getSolution()
        new_price = np.asarray(solution.row_dual)  # HiGHS: +1 per unit of row activity, i.e. the price
        settled = np.abs(new_price - price).max(initial=0.0) <= _RTOL * max(1.0, np.abs(new_price).max())
        price = new_price
        if settled and (step > 0 or not markup.any()):
            return price, np.asarray(solution.col_value), True
    return price, np.asarray(solution.col_value), False


def solve_reference(problem: ClearingProblem) -> ClearingSolution:
    """Solve every batch row with HiGHS (prices are the balance duals); see the module docstring.

    A row whose QP is infeasible (demand that cannot be met under an infinite ceiling) gets NaN prices
    and converged=False; a row whose markup iteration does not settle gets its last iterate and
    converged=False.
    """
    problem.validate()
    n_b, n_r, _ = problem.shape
    price = np.zeros((n_b, n_r))
    flow = np.zeros((n_b, n_r, n_r))
    take = np.zeros((n_b, n_r))
    fill = np.zeros((n_b, n_r))
    converged = np.zeros(n_b, dtype=bool)
    highs = _new_highs()
    for b in range(n_b):
        row = _build_row(problem, b)
        price[b], values, converged[b] = _solve_row(highs, problem, b, row)
        n_f = len(row.route_o)
        flow[b][row.route_o, row.route_d] = np.clip(values[row.flow_col:row.flow_col + n_f], 0.0,
                                                    problem.cap[b][row.route_o, row.route_d])
        take[b] = np.maximum(values[row.take_col:row.take_col + n_r], 0.0)
        fill[b][row.fill_nodes] = np.maximum(values[row.take_col + n_r:], 0.0)
    rent = _rent(problem, price, flow)
    return ClearingSolution(price, flow, rent, take, fill, np.zeros(n_b, dtype=np.int64), converged)


def _rent(problem: ClearingProblem, price: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Rent p_d - (1+m) p_o - t where positive, on routes at their cap (a blocked route is at cap 0)."""
    gap = price[:, None, :] - (1.0 + problem.markup) * price[:, :, None] - problem.transport
    at_cap = flow >= problem.cap * (1.0 - _AT_CAP)
    n_r = price.shape[1]
    at_cap &= ~np.eye(n_r, dtype=bool)[None]
    return np.where(at_cap, np.maximum(gap, 0.0), 0.0)
