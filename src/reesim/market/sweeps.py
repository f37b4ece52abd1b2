"""Clearing one batch row: a starting forest, then Gauss-Seidel sweeps over its components.

Node excess supply rises with the node's own price and falls with the others' (gross substitutes), and
all of it is piecewise linear, so exact prices come from a finite number of one-dimensional solves
(`reesim.market.component`). A sweep solves every component with the others' prices fixed and applies
what each solve found: a root on a cap jump or an uncapped-route bound merges the two components (once
the partner can serve the route), an inside route that turns profitable pivots into the tree, a tree tying
a floor to an incompatible ceiling is cut, and tree flows outside [0, cap] split the tree. A row has
converged when a sweep changes no route status and no tree.

The start decides the work: last period's flows give last period's forest (a month later it usually
still holds, and one sweep confirms it); last period's prices alone link the routes at zero reduced cost;
without either, the solve starts from the price of one integrated market without transport costs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from reesim.market.component import (
    CUT,
    INFEASIBLE,
    NONE,
    PIVOT,
    new_component_work,
    partner_ready,
    solve_component,
)
from reesim.market.forest import (
    CAP,
    COMP,
    FIRST,
    LINK,
    OFF,
    ORDER,
    PRICE,
    SIZE,
    build_forest,
    cut_path,
    pivot,
    split_tree,
    tree_flows,
)
from reesim.market.row import CAPACITY, CEIL, FLOOR, MARKUP, TRANSPORT

LINK_TOL = 1e-9  # relative reduced cost under which a route is linked when starting from prices alone
COLD, FROM_PRICES, FROM_FLOWS = 0, 1, 2  # how a row starts


@njit(cache=True)
def new_solver_work(n_r, n_pieces):
    """Workspace for the solves of a chunk of rows: (statuses, kink, tree, affine, sol, balance, tree flows,
    stack, waits, path, ratio, inside, blocked routes) and the component workspace."""
    return ((np.zeros((n_r, n_r), np.int8), np.zeros((n_r, n_r)), np.empty((6, n_r), np.int64),
             np.empty((2, n_r)), np.zeros((3, n_r)), np.empty((2, n_r)), np.zeros((n_r, n_r)),
             np.empty(4 * n_r, np.int64), np.zeros(4 * n_r, np.bool_), np.empty((n_r, 2), np.int64), np.empty(n_r),
             np.zeros(n_r, np.bool_), np.zeros((3, n_r, n_r))), new_component_work(n_r, n_pieces))


@njit(cache=True, inline="always")
def _join(tree, keep, drop):
    """Relabel component `drop` as `keep` (labels only; the forest is rebuilt afterwards)."""
    for r in range(tree.shape[1]):
        if tree[COMP, r] == drop:
            tree[COMP, r] = keep


@njit(cache=True)
def _start(pieces, start, nodes, routes, finite, n_fin, has_markup, blocked, warm_price, warm_flow, start_from,
           st, sol, tree, affine, kink, bounds, bound_kind, events, event_ids, cross):
    """Starting statuses and prices (module docstring)."""
    n_r = st.shape[0]
    st[:, :] = OFF
    use_warm = start_from != COLD
    if not use_warm:  # one component of every node with every route closed: the integrated market
        blocked[TRANSPORT], blocked[MARKUP], blocked[CAPACITY] = routes[TRANSPORT], routes[MARKUP], 0.0
        for r in range(n_r):
            tree[COMP, r], tree[ORDER, r], affine[0, r], affine[1, r] = 0, r, 1.0, 0.0
        tree[FIRST, 0], tree[SIZE, 0] = 0, n_r
        if solve_component(0, pieces, start, nodes, blocked, finite, 0, has_markup, st, tree, affine, sol, kink,
                           bounds, bound_kind, events, event_ids, cross, 0.0)[0] != CUT:
            use_warm = True
            warm_price = sol[PRICE].copy()
        else:  # floors above ceilings elsewhere: autarky, each node alone
            build_forest(st, blocked, sol, tree, affine)
            for r in range(n_r):
                solve_component(r, pieces, start, nodes, blocked, finite, 0, has_markup, st, tree, affine, sol,
                                kink, bounds, bound_kind, events, event_ids, cross, 0.0)
    for r in range(n_r):
        tree[COMP, r] = r
        if use_warm:
            sol[PRICE, r] = min(max(warm_price[r], nodes[FLOOR, r]), nodes[CEIL, r])
    links = 0
    if start_from == FROM_FLOWS:  # the routes that carried flow inside their caps at zero reduced cost (a
        # route at last period's cap may be inside this period's), as far as they form a forest
        for o in range(n_r):
            for d in range(n_r):
                f, c, p = warm_flow[o, d], routes[CAPACITY, o, d], sol[PRICE, d]
                gap = (1.0 + routes[MARKUP, o, d]) * sol[PRICE, o] + routes[TRANSPORT, o, d] - p
                if (o != d and 0.0 < f < c and abs(gap) <= LINK_TOL * (1.0 + abs(p))
                        and tree[COMP, o] != tree[COMP, d]):
                    st[o, d], links = LINK, links + 1
                    _join(tree, tree[COMP, o], tree[COMP, d])
    if use_warm and links < n_r - 1:  # then the routes at zero reduced cost
        for o in range(n_r):
            for d in range(n_r):
                p = sol[PRICE, d]
                gap = (1.0 + routes[MARKUP, o, d]) * sol[PRICE, o] + routes[TRANSPORT, o, d] - p
                if (o != d and routes[CAPACITY, o, d] > 0.0 and st[o, d] == OFF and tree[COMP, o] != tree[COMP, d]
                        and abs(gap) <= LINK_TOL * (1.0 + abs(p))):
                    st[o, d] = LINK
                    _join(tree, tree[COMP, o], tree[COMP, d])
    for i in range(n_fin):  # and finite routes that are profitable at the starting prices run at their cap
        o, d = finite[i, 0], finite[i, 1]
        if st[o, d] == OFF and (1.0 + routes[MARKUP, o, d]) * sol[PRICE, o] + routes[TRANSPORT, o, d] < sol[PRICE, d]:
            st[o, d] = CAP
    build_forest(st, routes, sol, tree, affine)


@njit(cache=True, inline="always")
def _wait_cycle(stack, waits, sp, partner):
    """Stack index of `partner` if it heads an unbroken chain of waits up to the top, else -1."""
    for j in range(sp - 2, -1, -1):
        if not waits[j]:
            return -1
        if stack[j] == partner:
            return j
    return -1


@njit(cache=True)
def _sweep(pieces, start, nodes, routes, finite, n_fin, has_markup, st, sol, tree, affine, kink, bounds,
           bound_kind, events, event_ids, cross, flow, balance, stack, waits, path, ratio, inside, tol):
    """One Gauss-Seidel pass over the components; returns (changes, feasible). A partner that cannot serve
    a merge is solved first (stack of waiting components), then the waiting one again; a cycle of waits
    means the components block each other, and they merge. Split pieces are solved before their root."""
    n_r = st.shape[0]
    changes, feasible = 0, True
    for r in range(n_r):
        stack[0], waits[0], sp = r, False, 1 if tree[COMP, r] == r else 0
        for _ in range(10 * n_r * sp):
            if sp == 0:
                break
            root = stack[sp - 1]
            if tree[COMP, root] != root:  # merged into another component meanwhile
                sp -= 1
                continue
            outcome, o, d, direction, flips = solve_component(
                root, pieces, start, nodes, routes, finite, n_fin, has_markup, st, tree, affine, sol, kink, bounds,
                bound_kind, events, event_ids, cross, tol)
            changes, feasible = changes + flips, feasible and outcome != INFEASIBLE
            if outcome == NONE or outcome == INFEASIBLE:
                if split_tree(pieces, start, nodes, routes, finite, n_fin, st, sol, tree, flow, balance, tol,
                              root) == 0:
                    sp -= 1  # done; whoever waited for it is solved again
                    waits[max(sp - 1, 0)] = False
                    continue
                changes += 1
                inside[:] = False
                for i in range(tree[FIRST, root], tree[FIRST, root] + tree[SIZE, root]):
                    inside[tree[ORDER, i]] = True
                build_forest(st, routes, sol, tree, affine)
                for v in range(n_r):
                    if inside[v] and tree[COMP, v] == v != root and sp < stack.shape[0]:
                        stack[sp], waits[sp], sp = v, False, sp + 1
                continue
            changes += 1
            if outcome == PIVOT:
                pivot(o, d, direction, pieces, start, nodes, routes, finite, n_fin, st, sol, tree, affine, flow,
                      balance, path, ratio)
            elif outcome == CUT:
                cut_path(o, d, st, tree)
            else:
                partner = tree[COMP, d] if tree[COMP, o] == root else tree[COMP, o]
                j = _wait_cycle(stack, waits, sp, partner)
                if j < 0 and sp < stack.shape[0] and not partner_ready(o, d, root, pieces, start, nodes, routes,
                                                                      finite, n_fin, st, tree, sol, tol):
                    waits[sp - 1], stack[sp], waits[sp], sp = True, partner, False, sp + 1
                    continue
                st[o, d] = LINK
                sp = j + 1 if j >= 0 else sp
            build_forest(st, routes, sol, tree, affine)
            stack[sp - 1], waits[sp - 1] = tree[COMP, o], False
    return changes, feasible


@njit(cache=True)
def solve_row(pieces, start, nodes, routes, finite, info, warm_price, warm_flow, start_from, tol, max_iter, price,
              take, fill, flow, rent, work):
    """Clear one gathered row; write price, take, fill (R,) and the nonzero entries of flow and rent (R, R),
    which must hold zeros (untouched zero pages of a large batch then cost nothing); return (sweeps,
    converged)."""
    (st, kink, tree, affine, sol, balance, tree_flow, stack, waits, path, ratio, inside, blocked), component_work = work
    bounds, bound_kind, events, event_ids, cross = component_work
    n_r = st.shape[0]
    n_fin, has_markup = info[0], info[1] != 0
    _start(pieces, start, nodes, routes, finite, n_fin, has_markup, blocked, warm_price, warm_flow, start_from, st,
           sol, tree, affine, kink, bounds, bound_kind, events, event_ids, cross)
    sweeps, done, feasible = 0, False, True
    while sweeps < max_iter and not done:
        changes, feasible = _sweep(pieces, start, nodes, routes, finite, n_fin, has_markup, st, sol, tree, affine,
                                   kink, bounds, bound_kind, events, event_ids, cross, tree_flow, balance, stack,
                                   waits, path, ratio, inside, tol)
        sweeps, done = sweeps + 1, changes == 0
    if not done:  # a sweep without changes ends on the tree flows of the final prices
        tree_flows(pieces, start, nodes, routes, finite, n_fin, st, sol, tree, tree_flow, balance)
    for r in range(n_r):
        price[r], take[r], fill[r] = sol[0, r], sol[1, r], sol[2, r]
    for o in range(n_r):
        for d in range(n_r):  # flows by status (tree flows clipped into [0, cap]); rent where capped
            c = routes[CAPACITY, o, d]
            f = min(max(tree_flow[o, d], 0.0), c) if st[o, d] == LINK else (c if st[o, d] == CAP else 0.0)
            if f != 0.0:
                flow[o, d] = f
            if o != d and f >= c:
                gap = price[d] - (1.0 + routes[MARKUP, o, d]) * price[o] - routes[TRANSPORT, o, d]
                if gap > 0.0:
                    rent[o, d] = gap
    return sweeps, done and feasible
