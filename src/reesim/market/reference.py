"""Reference market clearing through HiGHS: one convex QP per batch row, slow but independent.

It exists to cross-check `reesim.market.fast` on small cases, so it follows the textbook route rather than
the fast path's: the spatial equilibrium without ad-valorem markups is the optimum of a welfare QP whose
node-balance duals are the prices. Each piece with slope > 0 becomes a quantity q in [lo, hi] with cost
(q^2/2 - a q)/slope (marginal cost (q - a)/slope = node price, i.e. q = a + slope * p); a piece with
slope 0 is the fixed quantity clip(a, lo, hi). Flows cost their transport, the buyer of last resort pays
the floor and the seller of last resort charges the ceiling. An ad-valorem markup m * p_o is not a
per-unit cost, so it is linearised at the previous iterate's origin price and the QP is solved again until
the prices stop moving (diagonalisation); each step contracts by about the largest markup.

Each row is solved in its own units, a typical price and the quantity a typical piece moves for it: engine
rows span 1 t to 1e5 t and 0.5 to 2,000 USD/kg, and unscaled, the QP solver cannot meet its absolute
tolerances and reports a solve error. A token quantity (the engine's 1e-6 t demand at every node) is below
the solver's tolerances in those units, and a right-hand side that small makes it fail, so a node whose
fixed net quantity is that small is solved as its token deserves: where nothing else moves at the node
(no flow through it, its pieces at their bounds), a token demand is bought at the top of the node's price
interval (its cheapest delivered price) and a token supply sold at the bottom (its best netback), and the
quantity is carried into the balance of the node that serves it, where it is no longer small; where
something moves, the token stays in the node's own balance. The QP is solved again until that settles.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

from reesim.market.problem import ClearingProblem, ClearingSolution

_RTOL = 1e-10  # relative price change that ends the markup iteration
_MAX_MARKUP_ITER = 300  # diagonalisation steps before a row is reported as not converged
_AT_CAP = 1e-9  # relative distance to a cap under which a route counts as capped (for rent)
_TOKEN = 1e-5  # model units of quantity under which a node's fixed net quantity is a token (the QP solver
# fails on smaller right-hand sides, and prices move by about this share over the number of pieces)
_QP_ITERATIONS = 5000  # QP iterations before a row is solved again regularised (a row takes about 100)
_REGULARIZE = 1e-7  # the QP solver's default regularisation, for rows it cannot solve without
_FEASIBLE = 1e-6  # primal feasibility tolerance in model units (tighter fails on rows with wide clips)
_TIE = 1e-7  # relative price difference under which two routes tie for a token
_ACTIVE = 1e-4  # model units of quantity above which a flow, take or interior piece pins a node's price
# (well above the solver's tolerance: flows that small are its noise)


@dataclass(frozen=True)
class _RowModel:
    """Column layout of one row's QP, kept to update the markup costs and to read the answer back."""

    model: highspy.HighsModel
    route_o: np.ndarray  # origin node of each flow column
    route_d: np.ndarray  # destination node of each flow column
    flow_col: int  # first flow column
    take_col: int  # first take column (one per node)
    fill_nodes: np.ndarray  # nodes with a finite ceiling, one fill column each after the takes
    quantity: float  # t/period per model unit of quantity
    price: float  # USD/kg per model unit of price
    piece_node: np.ndarray  # node of each free-piece column
    fixed: np.ndarray  # (R,) fixed net supply in the balances, t/period, tokens left out
    token: np.ndarray  # (R,) fixed net supply of token nodes, t/period (0 elsewhere)


def _new_highs() -> highspy.Highs:
    """A silent HiGHS instance with tight tolerances: the duals are compared to 1e-6 relative."""
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("qp_regularization_value", 0.0)  # regularisation biases the duals
    highs.setOptionValue("qp_iteration_limit", _QP_ITERATIONS)
    highs.setOptionValue("primal_feasibility_tolerance", _FEASIBLE)
    highs.setOptionValue("dual_feasibility_tolerance", 1e-10)
    return highs


def _run(highs: highspy.Highs) -> bool:
    """Solve; return whether the solve was exact. The QP solver sometimes cycles or ends just outside its
    feasibility tolerance on rows whose pieces differ in slope by orders of magnitude; those rows are
    solved again with the solver's default regularisation and a tolerance ten times looser, which gives
    prices to about 1e-7 of their level except at nodes whose only piece is almost flat in price."""
    highs.run()
    if highs.getModelStatus() not in (highspy.HighsModelStatus.kSolveError, highspy.HighsModelStatus.kIterationLimit):
        return True
    highs.setOptionValue("qp_regularization_value", _REGULARIZE)
    highs.setOptionValue("primal_feasibility_tolerance", 10 * _FEASIBLE)
    highs.clearSolver()
    highs.run()
    highs.setOptionValue("qp_regularization_value", 0.0)
    highs.setOptionValue("primal_feasibility_tolerance", _FEASIBLE)
    return False


def _scales(problem: ClearingProblem, b: int, free: np.ndarray, fixed: np.ndarray) -> tuple[float, float]:
    """Units of the row's QP: a typical price P (the median zero-crossing price |a| / slope of the free
    pieces, else of the route costs) and the quantity Q a typical piece moves per P (P x median slope), so
    that the Hessian (Q / P) / slope and the costs are near 1. Without free pieces, the largest quantity."""
    slope, a = problem.slope[b][free], problem.a[b][free]
    prices = np.abs(a) / slope
    if not (prices > 0).any():
        prices = problem.transport[b][~np.eye(problem.shape[1], dtype=bool)]
    prices = prices[np.isfinite(prices) & (prices > 0)]
    p_scale = float(np.median(prices)) if prices.size else 1.0
    if slope.size:
        return p_scale * float(np.median(slope)), p_scale
    quantities = np.abs(np.concatenate([fixed, problem.cap[b].ravel()]))
    quantities = quantities[np.isfinite(quantities) & (quantities > 0)]
    return (float(quantities.max()) if quantities.size else 1.0), p_scale


def _build_row(problem: ClearingProblem, b: int) -> _RowModel:
    """Columns: free pieces, flows on open routes, takes, fills; rows: node balances (scaled units)."""
    _, r_count, _ = problem.shape
    slope, a, lo, hi = problem.slope[b], problem.a[b], problem.lo[b], problem.hi[b]
    free = slope > 0
    free_r, free_k = np.nonzero(free)
    net = np.where(free, 0.0, np.clip(a, lo, hi)).sum(axis=1)  # fixed net supply of each node
    q_scale, p_scale = _scales(problem, b, free, net)
    token = np.where(np.abs(net) <= _TOKEN * q_scale, net, 0.0)
    fixed = net - token
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
    # In model units q' = q / Q and objective / (Q P): piece cost (Q / P) q'^2 / (2 s) - a q' / (s P), so the
    # balance duals are prices / P.
    s_free = slope[free_r, free_k]
    lp.col_lower_ = np.concatenate([lo[free_r, free_k] / q_scale, np.zeros(n_f + r_count + len(fill_nodes))])
    lp.col_upper_ = np.concatenate([hi[free_r, free_k] / q_scale, cap[route_o, route_d] / q_scale,
                                    np.full(r_count + len(fill_nodes), highspy.kHighsInf)])
    lp.col_cost_ = np.concatenate([-a[free_r, free_k] / s_free, problem.transport[b][route_o, route_d],
                                   -problem.floor[b], problem.ceiling[b][fill_nodes]]) / p_scale
    lp.row_lower_ = lp.row_upper_ = -fixed / q_scale
    hessian = highspy.HighsHessian()
    hessian.dim_ = n_col
    hessian.format_ = highspy.HessianFormat.kTriangular
    hessian.start_ = np.concatenate([np.arange(n_q + 1), np.full(n_col - n_q, n_q)]).astype(np.int32)
    hessian.index_ = np.arange(n_q, dtype=np.int32)
    hessian.value_ = q_scale / (p_scale * s_free)
    model = highspy.HighsModel()
    model.lp_, model.hessian_ = lp, hessian
    return _RowModel(model, route_o, route_d, n_q, n_q + n_f, fill_nodes, q_scale, p_scale, free_r, fixed, token)


def _solve_row(highs: highspy.Highs, problem: ClearingProblem, b: int,
               row: _RowModel) -> tuple[np.ndarray, np.ndarray, bool]:
    """Diagonalise the markups and place the tokens; return (prices, column values in t/period, converged:
    settled and solved exactly)."""
    highs.passModel(row.model)
    transport = problem.transport[b][row.route_o, row.route_d]
    markup = problem.markup[b][row.route_o, row.route_d]
    cols = np.arange(row.flow_col, row.flow_col + len(row.route_o), dtype=np.int32)
    nodes = np.arange(problem.shape[1], dtype=np.int32)
    price, carried, via = np.zeros(problem.shape[1]), np.zeros(problem.shape[1]), np.full(problem.shape[1], -1)
    exact = True
    for step in range(_MAX_MARKUP_ITER):
        exact = _run(highs) and exact
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return np.full_like(price, np.nan), np.full(row.model.lp_.num_col_, np.nan), False
        solution = highs.getSolution()
        values = np.asarray(solution.col_value)
        new_price = np.asarray(solution.row_dual) * row.price  # HiGHS: +1 per unit of row activity
        new_carried = _place_tokens(problem, b, row, new_price, values, via)
        settled = (np.abs(new_price - price).max(initial=0.0) <= _RTOL * max(1.0, np.abs(new_price).max())
                   and np.array_equal(new_carried, carried))
        price = new_price
        if settled and (step > 0 or not (markup.any() or row.token.any())):
            return price, values * row.quantity, exact
        if not np.array_equal(new_carried, carried):
            carried = new_carried
            rhs = -(row.fixed + carried) / row.quantity
            highs.changeRowsBounds(len(nodes), nodes, rhs, rhs)
        highs.changeColsCost(len(cols), cols, (transport + markup * price[row.route_o]) / row.price)
    return price, values * row.quantity, False


def _pick(values: np.ndarray, best: float, nodes: np.ndarray, previous: int) -> int:
    """Index of the route for a token: the previous server while it stays within _TIE of the best (a token
    moves the price of the node that carries it a little, and switching would undo itself), else the
    first within _TIE; -1 if there is none."""
    close = np.flatnonzero(np.abs(values - best) <= _TIE * (1.0 + abs(best)))
    kept = close[nodes[close] == previous]
    return int(kept[0]) if kept.size else (int(close[0]) if close.size else -1)


def _place_tokens(problem: ClearingProblem, b: int, row: _RowModel, price: np.ndarray, values: np.ndarray,
                  via: np.ndarray) -> np.ndarray:
    """Price the token nodes where nothing else moves, in place (module docstring), sweeping until prices
    settle (a token node may buy from another); return the token quantity each node's balance carries.
    values are the QP's columns in model units; via (R,), updated in place, is the node that serves (or
    buys from) each token node, -1 where its own bound sets its price."""
    n_r = problem.shape[1]
    free = problem.slope[b] > 0  # the piece columns, in the order of row.piece_node
    slope, a, lo, hi = problem.slope[b][free], problem.a[b][free], problem.lo[b][free], problem.hi[b][free]
    q = values[:row.flow_col] * row.quantity
    interior = (q > lo + _ACTIVE * row.quantity) & (q < hi - _ACTIVE * row.quantity)
    at_lo = ~interior & (q - lo <= hi - q)
    pinned = np.zeros(n_r, dtype=bool)
    pinned[row.piece_node[interior]] = True
    moving = values[row.flow_col:row.take_col] > _ACTIVE
    pinned[row.route_o[moving]] = pinned[row.route_d[moving]] = True
    pinned |= values[row.take_col:row.take_col + n_r] > _ACTIVE
    pinned[row.fill_nodes[values[row.take_col + n_r:] > _ACTIVE]] = True
    loose = np.flatnonzero((row.token != 0) & ~pinned)
    carried = np.where(pinned, row.token, 0.0)
    t, m = problem.transport[b][row.route_o, row.route_d], problem.markup[b][row.route_o, row.route_d]
    for _ in range(n_r):
        before = price[loose].copy()
        for r in loose:
            own = row.piece_node == r
            if row.token[r] < 0:  # a token demand: the cheapest delivered price, unless its own bound is lower
                delivered = ((1.0 + m) * price[row.route_o] + t)[row.route_d == r]
                bound = np.concatenate([[problem.ceiling[b][r]], ((lo - a) / slope)[own & at_lo]]).min()
                sellers = row.route_o[row.route_d == r]
                best = _pick(delivered, delivered.min(initial=np.inf), sellers, via[r])
                use = best >= 0 and delivered[best] < bound
                price[r], via[r] = (delivered[best], sellers[best]) if use else (bound, -1)
            else:  # a token supply: the best netback, unless its own bound is higher
                netback = ((price[row.route_d] - t) / (1.0 + m))[row.route_o == r]
                bound = np.concatenate([[problem.floor[b][r]], ((hi - a) / slope)[own & ~interior & ~at_lo]]).max()
                buyers = row.route_d[row.route_o == r]
                best = _pick(netback, netback.max(initial=-np.inf), buyers, via[r])
                use = best >= 0 and netback[best] > bound
                price[r], via[r] = (netback[best], buyers[best]) if use else (bound, -1)
        if np.array_equal(before, price[loose]):
            break
    is_loose = np.zeros(n_r, dtype=bool)
    is_loose[loose] = True
    for r in loose:  # follow the chain of servers to a node where something moves (none: absorbed at a bound)
        node = via[r]
        for _ in range(n_r):
            if node < 0 or not is_loose[node]:
                break
            node = via[node]
        if node >= 0 and not is_loose[node]:
            carried[node] += row.token[r]
    return carried


def solve_reference(problem: ClearingProblem, *, warm_price: np.ndarray | None = None,
                    warm_flow: np.ndarray | None = None) -> ClearingSolution:
    """Solve every batch row with HiGHS (prices are the balance duals); see the module docstring.

    warm_price and warm_flow are accepted for the engine's solver interface and not used: the reference
    solves each row from scratch.

    A row whose QP is infeasible (demand that cannot be met under an infinite ceiling) gets NaN prices
    and converged=False; a row whose markup iteration does not settle, or that the QP solver could only
    solve regularised (see `_run`), gets its last iterate and converged=False.
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
