"""Fast market clearing: exact component-merging Gauss-Seidel sweeps, compiled with numba, rows in threads.

`solve_fast` clears every row of a `ClearingProblem` exactly (the method is described in
`reesim.market.sweeps` and `reesim.market.component`). Each row is first gathered into compact arrays
(`reesim.market.row`), so callers may pass broadcast views (for example one transport cost per row as a
(B, R, R) view with zero strides) without copying the batch; the gather also checks the values, and only
when it finds a bad row does `ClearingProblem.validate` run to name the problem.

Note for developers: numba's on-disk cache tracks each compiled function's own file only; after editing a
kernel module, delete `src/reesim/market/__pycache__/*.nb*` so that callers in other modules recompile.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields, replace

import numba
import numpy as np
from numba import njit

from reesim.market.flows import settle_flows
from reesim.market.problem import ClearingProblem, ClearingSolution, tie_break
from reesim.market.row import ROW_OK, gather_row, new_row
from reesim.market.sweeps import COLD, FROM_FLOWS, FROM_PRICES, new_solver_work, solve_row

_MIN_CHUNK = 64  # rows below which a batch is not worth a thread


@njit(cache=True, nogil=True)
def _solve_rows(start, stop, a, s, lo, hi, t, m, cap, floor, ceil, warm_price, warm_flow, start_from, tol,
                max_iter, price, flow, rent, take, fill, iterations, converged, errors):
    """Rows start..stop-1 in place, without the GIL so that threads can share a batch; a row that fails
    its checks gets its error code and is left unsolved."""
    n_r, n_k = a.shape[1], a.shape[2]
    pieces, piece_start, nodes, routes, finite, info = new_row(n_r, n_k)
    work = new_solver_work(n_r, n_r * n_k)
    for b in range(start, stop):
        errors[b] = gather_row(b, a, s, lo, hi, t, m, cap, floor, ceil, pieces, piece_start, nodes, routes, finite,
                               info)
        if errors[b] != ROW_OK:
            continue
        iterations[b], converged[b] = solve_row(
            pieces, piece_start, nodes, routes, finite, info, warm_price[b if start_from != COLD else 0],
            warm_flow[b if start_from == FROM_FLOWS else 0], start_from, tol, max_iter, price[b], take[b], fill[b],
            flow[b], rent[b], work)


def solve_fast(problem: ClearingProblem, *, tol: float = 1e-10, max_iter: int = 100,
               warm_price: np.ndarray | None = None, warm_flow: np.ndarray | None = None) -> ClearingSolution:
    """Clear every batch row exactly, rows spread over numba's thread count.

    tol: relative tolerance of route status decisions (a tree flow below -tol x throughput splits the
    tree); max_iter: sweeps per row. warm_price (B, R), e.g. last period's prices, seeds prices and links
    the routes at zero reduced cost; adding warm_flow (B, R, R), last period's flows, seeds the routes that
    carried flow instead, which usually leaves one sweep to confirm. Either way the answer is the cold one.
    A row that runs to max_iter is solved again with its ties broken (`_break_ties`); one that still does
    not settle keeps its prices and gets flows that clear it at them, where there are such flows
    (`reesim.market.flows`: its sweeps can cycle between flow patterns at the equilibrium's prices).
    converged=False marks a row that still does not settle or whose demand cannot be met under an infinite
    ceiling (the shortfall then shows as ceiling_fill at its component's root node).
    """
    sol = _solve(problem, tol, max_iter, warm_price, warm_flow)
    stuck = np.flatnonzero(~sol.converged)
    if len(stuck):
        sol = _break_ties(problem, sol, stuck, tol, max_iter)
        settle_flows(problem, sol, np.flatnonzero(~sol.converged), tol)
    return sol


def _break_ties(problem: ClearingProblem, sol: ClearingSolution, stuck: np.ndarray, tol: float,
                max_iter: int) -> ClearingSolution:
    """Solve the `stuck` rows again with every route's cost raised by its own amount below TIE_BREAK
    (`reesim.market.problem.tie_break`). A row can cycle between route patterns that tie exactly (seen in
    the 2024 world on Sm and Eu oxides with some calibrated behaviours: the sweeps ran to max_iter and left
    a node 214 t out of balance). The engine breaks ties in every problem it builds; this catches other
    callers' rows. A row whose demand cannot be met under an infinite ceiling keeps its first answer.
    """
    rows = ClearingProblem(*(np.asarray(getattr(problem, f.name))[stuck] for f in fields(problem)))
    retry = _solve(replace(rows, transport=rows.transport + tie_break(problem.shape[1])), tol, max_iter, None, None)
    settled = stuck[retry.converged]
    out = {}
    for f in fields(sol):
        values = getattr(sol, f.name).copy()
        again = getattr(retry, f.name)[retry.converged]
        values[settled] = again + (values[settled] if f.name == "iterations" else 0)
        out[f.name] = values
    return ClearingSolution(**out)


def _solve(problem: ClearingProblem, tol: float, max_iter: int, warm_price: np.ndarray | None,
           warm_flow: np.ndarray | None) -> ClearingSolution:
    """One pass of the kernel over every row."""
    problem.check_shapes()  # the values are checked row by row as the kernel reads them
    n_b, n_r, _ = problem.shape
    start_from, warm_p, warm_f = _warm_start(n_b, n_r, warm_price, warm_flow)
    arrays = [x if isinstance(x, np.ndarray) and x.dtype == np.float64 else np.asarray(x, np.float64) for x in (
        problem.a, problem.slope, problem.lo, problem.hi, problem.transport, problem.markup, problem.cap,
        problem.floor, problem.ceiling)]
    price, take, fill = np.zeros((n_b, n_r)), np.zeros((n_b, n_r)), np.zeros((n_b, n_r))
    flow, rent = np.zeros((n_b, n_r, n_r)), np.zeros((n_b, n_r, n_r))  # the kernel writes only nonzeros
    iterations, converged = np.zeros(n_b, np.int64), np.zeros(n_b, np.bool_)
    errors = np.zeros(n_b, np.int64)
    args = (*arrays, warm_p, warm_f, start_from, tol, max_iter, price, flow, rent, take, fill, iterations,
            converged, errors)
    _run_chunks(n_b, lambda start, stop: _solve_rows(start, stop, *args))
    if errors.any():
        problem.validate()  # names the array and the fix
        raise ValueError(f"ClearingProblem row {int(np.argmax(errors != 0))} is invalid")
    return ClearingSolution(price, flow, rent, take, fill, iterations, converged)


def _warm_start(n_b: int, n_r: int, warm_price: np.ndarray | None,
                warm_flow: np.ndarray | None) -> tuple[int, np.ndarray, np.ndarray]:
    """How rows start, with the warm arrays checked (placeholders where absent)."""
    placeholder_p, placeholder_f = np.zeros((1, n_r)), np.zeros((1, n_r, n_r))
    if warm_price is None:
        if warm_flow is not None:
            raise ValueError("warm_flow needs warm_price: give last period's prices with its flows")
        return COLD, placeholder_p, placeholder_f
    warm_p = np.ascontiguousarray(warm_price, dtype=np.float64)
    if warm_p.shape != (n_b, n_r) or not np.isfinite(warm_p).all():
        raise ValueError(f"warm_price must be finite with shape {(n_b, n_r)}, got {warm_p.shape}")
    if warm_flow is None:
        return FROM_PRICES, warm_p, placeholder_f
    warm_f = np.ascontiguousarray(warm_flow, dtype=np.float64)
    if warm_f.shape != (n_b, n_r, n_r):
        raise ValueError(f"warm_flow must have shape {(n_b, n_r, n_r)}, got {warm_f.shape}")
    return FROM_FLOWS, warm_p, warm_f


def _run_chunks(n_rows: int, run: Callable[[int, int], None]) -> None:
    """Call run(start, stop) over chunks of the rows on numba's thread count (plain threads, since the
    kernel releases the GIL: a prange kernel would take longer to compile for the same speed)."""
    threads = min(numba.get_num_threads(), max(1, n_rows // _MIN_CHUNK))
    if threads == 1:
        run(0, n_rows)
        return
    bounds = np.linspace(0, n_rows, 4 * threads + 1).astype(int)  # a few chunks per thread, for balance
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, bounds[:-1], bounds[1:]))
