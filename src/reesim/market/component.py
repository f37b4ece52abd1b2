"""Solving one component of the LINK forest for its root price x, the other components' prices fixed.

The component's excess supply g(x) is its nodes' clipped linear pieces plus cap jumps where its finite
cross routes (non-LINK routes with one end inside) switch between OFF and CAP. x is bounded by the
nodes' floors and ceilings and by uncapped routes: a cross route that would turn profitable, or, with
markups, a route inside the component whose reduced cost would turn negative. Walking g's breakpoints in
order finds the root exactly. The outcome tells the sweep what to change: a root on a cap jump or on an
uncapped-route bound MERGEs the two components through that route (or PIVOTs an inside route into the
tree), a floor tied to an incompatible ceiling CUTs the tree, and a demand nobody can meet with no
ceiling is INFEASIBLE.

Workspace arrays: bounds (2,) the lower and upper bound of x with bound_kind (2, 3) [kind, o, d] each;
events (2, n) rows POS, VAL and event_ids (3, n) rows ORIGIN, DEST (-1 for a piece's slope change),
HEAP; cross (R * R, 2) the component's finite cross routes, with kink[o, d] the x at which each switches.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from reesim.market.forest import ALPHA, BETA, CAP, COMP, FILL, FIRST, LINK, OFF, ORDER, PRICE, SIZE, TAKE
from reesim.market.row import CAPACITY, CEIL, FLOOR, HI, LO, MARKUP, SLOPE, TRANSPORT, A, net_supply

NONE, MERGE, PIVOT, CUT, INFEASIBLE = 0, 1, 2, 3, 4  # outcome of a component solve
BOUND_FLOOR, BOUND_CEIL, BOUND_ROUTE, BOUND_INTRA = 1, 2, 3, 4  # kind of a bound on the root price
POS, VAL = 0, 1
ORIGIN, DEST, HEAP = 0, 1, 2
TIE = 1e-12  # relative margin by which a route bound must beat a floor or ceiling (else merge/split loops)


@njit(cache=True)
def new_component_work(n_r, n_pieces):
    """Workspace (bounds, bound_kind, events, event_ids, cross) for the component solves of a row."""
    n_ev = 2 * n_pieces + n_r * n_r
    return (np.empty(2), np.zeros((2, 3), np.int64), np.empty((2, n_ev)), np.empty((3, n_ev), np.int64),
            np.empty((n_r * n_r, 2), np.int64))


@njit(cache=True)
def excess(x, root, pieces, start, nodes, routes, tree, affine, kink, cross, n_cross):
    """Component excess at root price x (cross routes with kink <= x switched) and its slope."""
    g = slope = 0.0
    for i in range(tree[FIRST, root], tree[FIRST, root] + tree[SIZE, root]):
        r = tree[ORDER, i]
        e, de, _ = net_supply(pieces, start, nodes, r, affine[ALPHA, r] * x + affine[BETA, r])
        g, slope = g + e, slope + de * affine[ALPHA, r]
    for i in range(n_cross):
        o, d = cross[i, 0], cross[i, 1]
        if tree[COMP, o] == root:
            if kink[o, d] > x:  # still flowing out at cap
                g -= routes[CAPACITY, o, d]
        elif kink[o, d] <= x:  # already flowing in at cap
            g += routes[CAPACITY, o, d]
    return g, slope


@njit(cache=True, inline="always")
def _tighten(bounds, bound_kind, side, v, kind, o, d, tie):
    """Keep the tighter bound; v must win by tie x (1 + |v|), so a node bound wins a rounding tie."""
    margin = tie * (1.0 + abs(v))
    if (side == 0 and v > bounds[0] + margin) or (side == 1 and v < bounds[1] - margin):
        bounds[side], bound_kind[side, 0], bound_kind[side, 1], bound_kind[side, 2] = v, kind, o, d


@njit(cache=True)
def _bounds(root, nodes, routes, has_markup, st, tree, affine, sol, bounds, bound_kind):
    """Lower and upper bounds on x: floors and ceilings first, then uncapped routes."""
    n_r = st.shape[0]
    bounds[0], bounds[1] = -np.inf, np.inf
    lo, hi = tree[FIRST, root], tree[FIRST, root] + tree[SIZE, root]
    for i in range(lo, hi):
        r = tree[ORDER, i]
        al, be = affine[ALPHA, r], affine[BETA, r]
        _tighten(bounds, bound_kind, 0, (nodes[FLOOR, r] - be) / al, BOUND_FLOOR, r, r, 0.0)
        _tighten(bounds, bound_kind, 1, (nodes[CEIL, r] - be) / al, BOUND_CEIL, r, r, 0.0)
    if tree[SIZE, root] == n_r and not has_markup:  # no cross routes, and all alphas are 1: no inside bounds
        return
    for i in range(lo, hi):
        u = tree[ORDER, i]
        for v in range(n_r):
            if v == u:
                continue
            inside = tree[COMP, v] == root
            if inside and not has_markup:
                continue
            for o, d in ((u, v), (v, u)):
                if routes[CAPACITY, o, d] != np.inf or st[o, d] == LINK or (inside and o == v):
                    continue  # an inside pair is visited once from each end: take it from its origin
                g, t = 1.0 + routes[MARKUP, o, d], routes[TRANSPORT, o, d]
                if inside:
                    gam = g * affine[ALPHA, o] - affine[ALPHA, d]  # reduced cost gam x + dlt stays >= 0
                    if gam != 0.0:
                        w = -(g * affine[BETA, o] + t - affine[BETA, d]) / gam
                        _tighten(bounds, bound_kind, 0 if gam > 0 else 1, w, BOUND_INTRA, o, d, TIE)
                elif o == u:
                    w = ((sol[PRICE, d] - t) / g - affine[BETA, o]) / affine[ALPHA, o]
                    _tighten(bounds, bound_kind, 0, w, BOUND_ROUTE, o, d, TIE)
                else:
                    w = (g * sol[PRICE, o] + t - affine[BETA, d]) / affine[ALPHA, d]
                    _tighten(bounds, bound_kind, 1, w, BOUND_ROUTE, o, d, TIE)


@njit(cache=True)
def _events(root, xlo, pieces, start, nodes, routes, finite, n_fin, st, tree, affine, sol, kink, events,
            event_ids, cross, tie):
    """Breakpoints of g beyond xlo (slope changes; cap jumps with their route) and the component's finite
    cross routes; returns (n events, n cross routes, g(xlo), slope just right of xlo). With tie > 0 a cap
    jump within tie x (1 + |xlo|) of xlo is a tie, which keeps the route's status unless the balance needs
    it changed: a route already switched stays switched (kink -inf), the others are jumps exactly at xlo,
    left out of g(xlo), that the walk takes only as far as it needs them (a tied route then carries a
    partial flow instead of the component exporting a cap it does not need through its bound route). The
    two ends of a tied route otherwise read the tie differently and flip it on every sweep."""
    n, nc, s0 = 0, 0, 0.0  # s0: slope just right of xlo, classified like the events so that they add up
    held = 0.0  # caps of the tied jumps at xlo that excess(xlo) counts as made
    for i in range(tree[FIRST, root], tree[FIRST, root] + tree[SIZE, root]):
        r = tree[ORDER, i]
        al, be = affine[ALPHA, r], affine[BETA, r]
        for j in range(start[r], start[r + 1]):
            s = pieces[SLOPE, j]
            ds = s * al
            x_on = ((pieces[LO, j] - pieces[A, j]) / s - be) / al
            x_off = ((pieces[HI, j] - pieces[A, j]) / s - be) / al
            s0 += ds if x_on <= xlo < x_off else 0.0
            if x_on > xlo:
                events[POS, n], events[VAL, n], event_ids[ORIGIN, n], event_ids[DEST, n], n = x_on, ds, -1, -1, n + 1
            if x_off > xlo:
                events[POS, n], events[VAL, n], event_ids[ORIGIN, n], event_ids[DEST, n], n = x_off, -ds, -1, -1, n + 1
    for i in range(n_fin):
        o, d = finite[i, 0], finite[i, 1]
        out = tree[COMP, o] == root
        if st[o, d] == LINK or out == (tree[COMP, d] == root):
            continue
        g, t = 1.0 + routes[MARKUP, o, d], routes[TRANSPORT, o, d]
        if out:
            kink[o, d] = ((sol[PRICE, d] - t) / g - affine[BETA, o]) / affine[ALPHA, o]
        else:
            kink[o, d] = (g * sol[PRICE, o] + t - affine[BETA, d]) / affine[ALPHA, d]
        cross[nc, 0], cross[nc, 1], nc = o, d, nc + 1
        if abs(kink[o, d] - xlo) <= tie * (1.0 + abs(xlo)):  # tied: a route already switched stays so, the
            # others are jumps at xlo that the walk takes only where the balance needs them
            if st[o, d] == (OFF if out else CAP):
                kink[o, d] = -np.inf
            else:
                kink[o, d], held = xlo, held + routes[CAPACITY, o, d]
        if kink[o, d] >= xlo if tie > 0.0 else kink[o, d] > xlo:
            events[POS, n], events[VAL, n] = kink[o, d], routes[CAPACITY, o, d]
            event_ids[ORIGIN, n], event_ids[DEST, n], n = o, d, n + 1
    g0 = excess(xlo, root, pieces, start, nodes, routes, tree, affine, kink, cross, nc)[0] - held
    return n, nc, g0, s0


@njit(cache=True, inline="always")
def _sift_down(events, event_ids, i, n):
    """Restore the min-heap order (by position) of the heap's first n slots below slot i."""
    while 2 * i + 1 < n:
        c = 2 * i + 1
        if c + 1 < n and events[POS, event_ids[HEAP, c + 1]] < events[POS, event_ids[HEAP, c]]:
            c += 1
        if events[POS, event_ids[HEAP, c]] >= events[POS, event_ids[HEAP, i]]:
            return
        event_ids[HEAP, i], event_ids[HEAP, c], i = event_ids[HEAP, c], event_ids[HEAP, i], c


@njit(cache=True)
def _segment_root(x0, x1, root, pieces, start, nodes, routes, tree, affine, kink, cross, n_cross):
    """Exact root of g on [x0, x1], where g is linear: value at x0, slope at the midpoint."""
    g0 = excess(x0, root, pieces, start, nodes, routes, tree, affine, kink, cross, n_cross)[0]
    xm = 0.5 * (x0 + x1) if x1 < np.inf else x0 + 1.0 + abs(x0)
    sm = excess(xm, root, pieces, start, nodes, routes, tree, affine, kink, cross, n_cross)[1]
    if g0 >= 0.0 or sm <= 0.0:
        return x0 if g0 >= 0.0 else x1
    return min(max(x0 - g0 / sm, x0), x1)


@njit(cache=True)
def _walk(root, pieces, start, nodes, routes, st, tree, affine, kink, cross, n_cross, bounds, events, event_ids, n,
          g, slope, ceil_tie):
    """Root from the breakpoints in order; returns (x, where, o, d): where -1/1 at the lower/upper bound,
    0 inside, 2 on the cap jump of route o -> d, 3 unbounded above (no ceiling). A root on a jump within
    ceil_tie of a ceiling (-1 if the upper bound is none) that would switch its route stays at the
    ceiling instead: the route is tied there, `_hold_ties` keeps its status and the seller of last resort
    covers the rest (merging through it, the merged tree can need the seller at another node at its
    ceiling, beyond the route's cap, and splits again on every sweep)."""
    if g >= 0.0:
        return bounds[0], -1, -1, -1
    x, scale = bounds[0], 0.0
    for i in range(n):
        event_ids[HEAP, i] = i
        scale += abs(events[VAL, i]) if event_ids[ORIGIN, i] < 0 else 0.0
    for i in range(n // 2 - 1, -1, -1):
        _sift_down(events, event_ids, i, n)
    for size in range(n - 1, -1, -1):  # pop breakpoints only as far as the root
        i = event_ids[HEAP, 0]
        event_ids[HEAP, 0] = event_ids[HEAP, size]
        _sift_down(events, event_ids, 0, size)
        pos = events[POS, i]
        if pos > bounds[1]:
            break
        if slope > 1e-12 * scale and g + slope * (pos - x) >= 0.0:
            x = _segment_root(x, pos, root, pieces, start, nodes, routes, tree, affine, kink, cross, n_cross)
            return x, 0, -1, -1
        g, x = g + slope * (pos - x), pos
        if event_ids[ORIGIN, i] < 0:
            slope += events[VAL, i]
        elif g + events[VAL, i] >= 0.0:
            o, d = event_ids[ORIGIN, i], event_ids[DEST, i]
            if pos >= bounds[1] - ceil_tie and st[o, d] == (CAP if tree[COMP, o] == root else OFF):
                return bounds[1], 1, -1, -1
            return x, 2, o, d
        else:
            g += events[VAL, i]
            kink[event_ids[ORIGIN, i], event_ids[DEST, i]] = -np.inf  # passed: switched (even where x ties)
    if slope > 1e-12 * scale and (bounds[1] == np.inf or g + slope * (bounds[1] - x) >= 0.0):
        x = _segment_root(x, bounds[1], root, pieces, start, nodes, routes, tree, affine, kink, cross, n_cross)
        return x, 0, -1, -1
    return (x, 3, -1, -1) if bounds[1] == np.inf else (bounds[1], 1, -1, -1)


@njit(cache=True)
def solve_component(root, pieces, start, nodes, routes, finite, n_fin, has_markup, st, tree, affine, sol, kink,
                    bounds, bound_kind, events, event_ids, cross, tol):
    """Solve one component for its root price; update prices, statuses, take and fill. Returns (outcome,
    o, d, direction, flips): MERGE/PIVOT name the route o -> d that now carries an interior flow and the way
    x was pushing, CUT the two nodes whose floor and ceiling conflict; flips counts status changes."""
    o, d = _unprofitable_route(root, routes, st, tree, sol, tol)
    if o >= 0:
        return PIVOT, o, d, 0, 1
    _bounds(root, nodes, routes, has_markup, st, tree, affine, sol, bounds, bound_kind)
    tie = tol if bounds[0] > -np.inf else 0.0
    n, nc, g0, s0 = _events(root, bounds[0], pieces, start, nodes, routes, finite, n_fin, st, tree, affine, sol,
                            kink, events, event_ids, cross, tie)
    if bounds[0] > bounds[1] and bound_kind[0, 0] < BOUND_ROUTE and bound_kind[1, 0] < BOUND_ROUTE:
        return CUT, bound_kind[0, 1], bound_kind[1, 1], 0, 0
    if bounds[0] > bounds[1]:  # a route bound contradicts the other one: merge through the route (through the
        # one serving the component's imbalance if both are), staying at a node bound if there is one
        g_hi = excess(bounds[1], root, pieces, start, nodes, routes, tree, affine, kink, cross, nc)[0]
        both = bound_kind[0, 0] >= BOUND_ROUTE and bound_kind[1, 0] >= BOUND_ROUTE
        side = (1 if g_hi < 0.0 else -1) if both else (1 if bound_kind[1, 0] >= BOUND_ROUTE else -1)
        other = (1 - side) // 2
        x, o, d = bounds[1 - other] if bound_kind[other, 0] >= BOUND_ROUTE else bounds[other], -1, -1
    else:
        ceil_tie = tol * (1.0 + abs(bounds[1])) if bound_kind[1, 0] == BOUND_CEIL else -1.0
        x, side, o, d = _walk(root, pieces, start, nodes, routes, st, tree, affine, kink, cross, nc, bounds, events,
                              event_ids, n, g0, s0, ceil_tie)
        if tie > 0.0 or x > bounds[0]:  # jumps at x the walk did not pass keep their route unswitched: a tie
            # switches a route only where the balance needs it (else several routes tied at one kink switch
            # together and the one merged gets the wrong flow)
            for i in range(nc):
                u, v = cross[i, 0], cross[i, 1]
                if kink[u, v] == x and (u != o or v != d):
                    kink[u, v] = np.inf
    outcome, direction, b = NONE, side, (side + 1) // 2
    if side == 2:
        outcome, direction = MERGE, 1
    elif side == 3:
        outcome = INFEASIBLE
    elif side != 0 and bound_kind[b, 0] >= BOUND_ROUTE:
        outcome, o, d = MERGE if bound_kind[b, 0] == BOUND_ROUTE else PIVOT, bound_kind[b, 1], bound_kind[b, 2]
    for i in range(tree[FIRST, root], tree[FIRST, root] + tree[SIZE, root]):
        r = tree[ORDER, i]
        sol[PRICE, r], sol[TAKE, r], sol[FILL, r] = affine[ALPHA, r] * x + affine[BETA, r], 0.0, 0.0
    g = excess(x, root, pieces, start, nodes, routes, tree, affine, kink, cross, nc)[0]
    if (side == -1 and bound_kind[0, 0] == BOUND_FLOOR) or (side == 1 and bound_kind[1, 0] == BOUND_CEIL):
        g = _hold_ties(x, side, g, root, routes, finite, n_fin, st, tree, sol, kink, tol)
    if side == -1 and bound_kind[0, 0] == BOUND_FLOOR:
        sol[TAKE, bound_kind[0, 1]] = max(g, 0.0)
    elif (side == 1 and bound_kind[1, 0] == BOUND_CEIL) or side == 3:
        sol[FILL, bound_kind[1, 1] if side == 1 else root] = max(-g, 0.0)
    return outcome, o, d, direction, _update_status(x, root, routes, finite, n_fin, st, tree, sol, kink, tol)


@njit(cache=True)
def _hold_ties(x, side, g, root, routes, finite, n_fin, st, tree, sol, kink, tol):
    """At a ceiling (ties at a floor are settled in `_events`), keep the status of the cross routes at zero
    reduced cost (so either status is an equilibrium) where the take or fill stays of the right sign;
    return the excess with the statuses kept. Without this the two ends of a tied route read the tie
    differently (the excess counts a route's switch at its kink as already made, from either side) and flip
    it back and forth on every sweep: a floor-bound exporter and a floor-bound importer 0.5 USD/kg above
    it, say, or a ceiling-bound exporter and an importer at the same ceiling. The tie is read from the
    solved prices, as `_update_status` reads it, not from the kink: the walk sets a kink it passes to -inf,
    and it passes one a rounding below the ceiling. A kept route gets an infinite kink of the sign that
    gives its status."""
    for i in range(n_fin):
        o, d = finite[i, 0], finite[i, 1]
        inside_o = tree[COMP, o] == root
        if st[o, d] == LINK or inside_o == (tree[COMP, d] == root):
            continue
        pd = sol[PRICE, d]
        if abs((1.0 + routes[MARKUP, o, d]) * sol[PRICE, o] + routes[TRANSPORT, o, d] - pd) > tol * (1.0 + abs(pd)):
            continue
        rule = CAP if (kink[o, d] > x) == inside_o else OFF
        if st[o, d] == rule:
            continue
        c = routes[CAPACITY, o, d]
        delta = (c if st[o, d] == CAP else -c) * (-1.0 if inside_o else 1.0)  # kept minus rule contribution
        if (side == -1 and g + delta >= 0.0) or (side == 1 and g + delta <= 0.0):
            g += delta
            kink[o, d] = np.inf if (st[o, d] == CAP) == inside_o else -np.inf
    return g


@njit(cache=True)
def _unprofitable_route(root, routes, st, tree, sol, tol):
    """An uncapped non-tree route inside the component that is strictly profitable (its tree path costs
    more), or (-1, -1): the tree must pivot it in."""
    lo, hi = tree[FIRST, root], tree[FIRST, root] + tree[SIZE, root]
    for i in range(lo, hi):
        o = tree[ORDER, i]
        po = sol[PRICE, o]
        for j in range(lo, hi):
            d = tree[ORDER, j]
            pd = sol[PRICE, d]
            if ((1.0 + routes[MARKUP, o, d]) * po + routes[TRANSPORT, o, d] - pd < -tol * (1.0 + abs(pd))
                    and o != d and routes[CAPACITY, o, d] == np.inf and st[o, d] != LINK):
                return o, d
    return -1, -1


@njit(cache=True)
def _update_status(x, root, routes, finite, n_fin, st, tree, sol, kink, tol):
    """OFF/CAP on finite routes touching the component, from the solved price; count changes."""
    flips = 0
    for i in range(n_fin):
        o, d = finite[i, 0], finite[i, 1]
        inside_o, inside_d = tree[COMP, o] == root, tree[COMP, d] == root
        if st[o, d] == LINK or not (inside_o or inside_d):
            continue
        if inside_o != inside_d:  # a cross route: which side of its kink x fell
            new = CAP if (kink[o, d] > x) == inside_o else OFF
        else:
            pd = sol[PRICE, d]
            c = ((1.0 + routes[MARKUP, o, d]) * sol[PRICE, o] + routes[TRANSPORT, o, d] - pd) / (1.0 + abs(pd))
            new = CAP if c < -tol else (OFF if c > tol else st[o, d])
        flips += new != st[o, d]
        st[o, d] = new
    return flips


@njit(cache=True)
def partner_ready(o, d, root, pieces, start, nodes, routes, finite, n_fin, st, tree, sol, tol):
    """Whether the component across o -> d can serve the route: a surplus (or a node at its ceiling) if it
    exports through it, a deficit (or a node at its floor) if it imports. Then the merged tree gives the
    route a flow of the right sign; merging with a component off balance the other way (e.g. just split
    off) would undo itself."""
    other = tree[COMP, d] if tree[COMP, o] == root else tree[COMP, o]
    g = scale = 0.0
    at_floor = at_ceil = False
    for i in range(tree[FIRST, other], tree[FIRST, other] + tree[SIZE, other]):
        r = tree[ORDER, i]
        p = sol[PRICE, r]
        e, _, gross = net_supply(pieces, start, nodes, r, p)
        g, scale = g + e, scale + gross
        at_floor = at_floor or p <= nodes[FLOOR, r] + tol * (1.0 + nodes[FLOOR, r])
        at_ceil = at_ceil or p >= nodes[CEIL, r] - tol * (1.0 + nodes[CEIL, r])
    up = down = 0.0  # what the partner's cross routes at zero reduced cost may add or take: a tie lets them
    # carry anything from nothing to their cap, so they commit the partner neither way (counted at one end,
    # two partners tied on several routes at once wait for each other forever)
    for i in range(n_fin):
        u, v = finite[i, 0], finite[i, 1]
        if (u != o or v != d) and (tree[COMP, u] == other) != (tree[COMP, v] == other):
            c, pv = routes[CAPACITY, u, v], sol[PRICE, v]
            if abs((1.0 + routes[MARKUP, u, v]) * sol[PRICE, u] + routes[TRANSPORT, u, v] - pv) <= tol * (1.0 + abs(pv)):
                if tree[COMP, v] == other:
                    up += c
                else:
                    down += c
            elif st[u, v] == CAP:
                g += c if tree[COMP, v] == other else -c
            scale += c if st[u, v] == CAP else 0.0
    return (g + up >= -tol * scale or at_ceil) if tree[COMP, o] == other else (g - down <= tol * scale or at_floor)
