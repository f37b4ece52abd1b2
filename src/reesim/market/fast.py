"""Fast market clearing: an exact component-merging Gauss-Seidel method, compiled with numba.

Node excess supply rises with the node's own price and falls with the others' (gross substitutes), and
all of it is piecewise linear, so exact prices come from a finite number of one-dimensional solves. A
route with zero reduced cost (1+m) p_o + t - p_d and a flow inside [0, cap] ties p_d linearly to p_o:
such LINK routes form a forest whose components share one unknown, the root price x (p_r = alpha_r x +
beta_r, exact with markups too); other routes are OFF (no flow) or CAP (flow = cap).

A component is solved for x with the other prices fixed: its excess is clipped linear pieces plus cap
jumps where cross routes switch, bounded by floors, ceilings and uncapped cross routes. Walking the
breakpoints in order finds the root exactly. A root on a jump or an uncapped-route bound merges the two
components (once the partner can serve the route); tree flows outside [0, cap] split the tree. A row has
converged when a sweep changes no route status and no tree. Inside a component, an uncapped route that
turns profitable (markups) is pivoted into the tree; a tree tying a floor to an incompatible ceiling is
cut along that path.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

from reesim.market.problem import ClearingProblem, ClearingSolution

OFF, CAP, LINK = 0, 1, 2  # route status
NONE, MERGE, PIVOT, CUT, INFEASIBLE = 0, 1, 2, 3, 4  # outcome of a component solve
FLOOR, CEIL, ROUTE, INTRA = 1, 2, 3, 4  # kind of a bound on a component's root price
_LINK_TOL = 1e-9  # relative reduced cost under which a warm-start route is linked
_TIE = 1e-12  # relative margin by which a route bound must beat a floor or ceiling (else merge/split loops)
_MIN_CHUNK = 64  # rows below which a batch is not worth a thread

# Row data travels as tuples: pc = (a, slope, lo, hi) (R, K); net = (transport, markup, cap) (R, R);
# nb = (floor, ceiling) (R,). Solver state: tree = (comp, alpha, beta, parent, depth, order) over nodes;
# sol = (price, take, fill); bound = (values (2,), [kind, o, d] (2, 3)) for the lower and upper bound.


@njit(cache=True, inline="always")
def _net_supply(pc, r, p):
    """E_r(p), its slope, and the scale of its rounding error (cancelling pieces still have one)."""
    a, s, lo, hi = pc
    e = slope = gross = 0.0
    for k in range(a.shape[1]):
        v = a[r, k] + s[r, k] * p
        if lo[r, k] < v < hi[r, k]:
            slope += s[r, k]
            gross += abs(a[r, k]) + abs(s[r, k] * p)
        else:
            v = lo[r, k] if v <= lo[r, k] else hi[r, k]
            gross += abs(v)
        e += v
    return e, slope, gross


@njit(cache=True)
def _cross(o, d, root, comp_o, comp_d, status, cap):
    """+1 if o -> d is a finite non-LINK route leaving the component, -1 entering it, else 0. Scalars on
    purpose: it runs in O(R^2) loops, where passing arrays (reference counting) costs more than the test."""
    if o == d or cap <= 0.0 or cap == np.inf or status == LINK or (comp_o == root) == (comp_d == root):
        return 0
    return 1 if comp_o == root else -1


@njit(cache=True)
def _build(st, net, price, tree):
    """Label the LINK forest (root = lowest node) and express prices through the root's: BFS order."""
    t, m, _ = net
    comp, alpha, beta, parent, depth, order = tree
    comp[:] = -1
    n = 0
    for r0 in range(price.shape[0]):
        if comp[r0] >= 0:
            continue
        comp[r0], alpha[r0], beta[r0], parent[r0], depth[r0], order[n] = r0, 1.0, 0.0, -1, 0, r0
        head, n = n, n + 1
        while head < n:
            u, head = order[head], head + 1
            for v in range(price.shape[0]):
                if comp[v] >= 0 or (st[u, v] != LINK and st[v, u] != LINK):
                    continue
                if st[u, v] == LINK:
                    alpha[v], beta[v] = (1.0 + m[u, v]) * alpha[u], (1.0 + m[u, v]) * beta[u] + t[u, v]
                else:
                    alpha[v], beta[v] = alpha[u] / (1.0 + m[v, u]), (beta[u] - t[v, u]) / (1.0 + m[v, u])
                comp[v], parent[v], depth[v], order[n] = r0, u, depth[u] + 1, v
                n += 1
                price[v] = alpha[v] * price[r0] + beta[v]


@njit(cache=True)
def _excess(x, root, pc, net, st, tree, kink):
    """Component excess at root price x (cross routes with kink <= x switched) and its slope."""
    cap = net[2]
    comp, alpha, beta = tree[0], tree[1], tree[2]
    g = slope = 0.0
    for r in range(comp.shape[0]):
        if comp[r] == root:
            e, de, _ = _net_supply(pc, r, alpha[r] * x + beta[r])
            g, slope = g + e, slope + de * alpha[r]
    for o in range(comp.shape[0]):
        for d in range(comp.shape[0]):
            side = _cross(o, d, root, comp[o], comp[d], st[o, d], cap[o, d])
            if side == 1 and kink[o, d] > x:  # still flowing out at cap
                g -= cap[o, d]
            elif side == -1 and kink[o, d] <= x:  # already flowing in at cap
                g += cap[o, d]
    return g, slope


@njit(cache=True)
def _bounds(root, net, nb, st, tree, price, bound):
    """Lower and upper bounds on x: floors and ceilings first, then uncapped routes."""
    t, m, cap = net
    comp, alpha, beta = tree[0], tree[1], tree[2]
    bound[0][0], bound[0][1] = -np.inf, np.inf
    for r in range(comp.shape[0]):
        if comp[r] == root:
            _tighten(bound, 0, (nb[0][r] - beta[r]) / alpha[r], FLOOR, r, r, 0.0)
            _tighten(bound, 1, (nb[1][r] - beta[r]) / alpha[r], CEIL, r, r, 0.0)
    for o in range(comp.shape[0]):
        for d in range(comp.shape[0]):
            if o == d or cap[o, d] != np.inf or st[o, d] == LINK:
                continue
            g = 1.0 + m[o, d]
            if comp[o] == root and comp[d] == root:
                gam = g * alpha[o] - alpha[d]  # reduced cost = gam * x + dlt must stay >= 0
                if gam != 0.0:
                    v = -(g * beta[o] + t[o, d] - beta[d]) / gam
                    _tighten(bound, 0 if gam > 0 else 1, v, INTRA, o, d, _TIE)
            elif comp[o] == root:
                _tighten(bound, 0, ((price[d] - t[o, d]) / g - beta[o]) / alpha[o], ROUTE, o, d, _TIE)
            elif comp[d] == root:
                _tighten(bound, 1, (g * price[o] + t[o, d] - beta[d]) / alpha[d], ROUTE, o, d, _TIE)


@njit(cache=True, inline="always")
def _tighten(bound, side, v, kind, o, d, tie):
    """Keep the tighter bound; v must win by tie x (1 + |v|), so a node bound wins a rounding tie."""
    margin = tie * (1.0 + abs(v))
    if (side == 0 and v > bound[0][0] + margin) or (side == 1 and v < bound[0][1] - margin):
        bound[0][side], bound[1][side, 0], bound[1][side, 1], bound[1][side, 2] = v, kind, o, d


@njit(cache=True)
def _events(root, xlo, pc, net, st, tree, price, kink, work):
    """Breakpoints of g beyond xlo (slope changes; cap jumps with their route); returns n, g, slope."""
    a, s, lo, hi = pc
    t, m, cap = net
    comp, alpha, beta = tree[0], tree[1], tree[2]
    pos, val, eo, ed, _ = work
    n, s0 = 0, 0.0  # s0: slope just right of xlo, classified like the events so that they add up
    for r in range(comp.shape[0]):
        for k in range(a.shape[1]):
            if comp[r] != root or s[r, k] <= 0.0:
                continue
            ds = s[r, k] * alpha[r]
            x_on = ((lo[r, k] - a[r, k]) / s[r, k] - beta[r]) / alpha[r]
            x_off = ((hi[r, k] - a[r, k]) / s[r, k] - beta[r]) / alpha[r]
            s0 += ds if x_on <= xlo < x_off else 0.0
            for xb, dv in ((x_on, ds), (x_off, -ds)):
                if xb > xlo:
                    pos[n], val[n], eo[n], ed[n], n = xb, dv, -1, -1, n + 1
    for o in range(comp.shape[0]):
        for d in range(comp.shape[0]):
            side = _cross(o, d, root, comp[o], comp[d], st[o, d], cap[o, d])
            if side == 1:
                kink[o, d] = ((price[d] - t[o, d]) / (1.0 + m[o, d]) - beta[o]) / alpha[o]
            elif side == -1:
                kink[o, d] = ((1.0 + m[o, d]) * price[o] + t[o, d] - beta[d]) / alpha[d]
            if side != 0 and kink[o, d] > xlo:
                pos[n], val[n], eo[n], ed[n], n = kink[o, d], cap[o, d], o, d, n + 1
    return n, _excess(xlo, root, pc, net, st, tree, kink)[0], s0


@njit(cache=True)
def _sift_down(pos, heap, i, n):
    """Restore the min-heap order (by pos) of heap[:n] below slot i."""
    while 2 * i + 1 < n:
        c = 2 * i + 1
        c += 1 if c + 1 < n and pos[heap[c + 1]] < pos[heap[c]] else 0
        if pos[heap[c]] >= pos[heap[i]]:
            return
        heap[i], heap[c], i = heap[c], heap[i], c


@njit(cache=True)
def _segment_root(x0, x1, root, pc, net, st, tree, kink):
    """Exact root of g on [x0, x1], where g is linear: value at x0, slope at the midpoint."""
    g0 = _excess(x0, root, pc, net, st, tree, kink)[0]
    sm = _excess(0.5 * (x0 + x1) if x1 < np.inf else x0 + 1.0 + abs(x0), root, pc, net, st, tree, kink)[1]
    if g0 >= 0.0 or sm <= 0.0:
        return x0 if g0 >= 0.0 else x1
    return min(max(x0 - g0 / sm, x0), x1)


@njit(cache=True)
def _walk(root, pc, net, st, tree, kink, bnd, work, n, g, slope):
    """Root from the breakpoints in order; returns (x, where, o, d): where -1/1 at the lower/upper bound,
    0 inside, 2 on the cap jump of route o -> d, 3 unbounded above (no ceiling)."""
    pos, val, eo, ed, heap = work
    if g >= 0.0:
        return bnd[0], -1, -1, -1
    x, scale = bnd[0], 0.0
    for i in range(n):
        heap[i], scale = i, scale + (abs(val[i]) if eo[i] < 0 else 0.0)
    for i in range(n // 2 - 1, -1, -1):
        _sift_down(pos, heap, i, n)
    for size in range(n - 1, -1, -1):  # pop breakpoints only as far as the root
        i, heap[0] = heap[0], heap[size]
        _sift_down(pos, heap, 0, size)
        if pos[i] > bnd[1]:
            break
        if slope > 1e-12 * scale and g + slope * (pos[i] - x) >= 0.0:
            return _segment_root(x, pos[i], root, pc, net, st, tree, kink), 0, -1, -1
        g, x = g + slope * (pos[i] - x), pos[i]
        if eo[i] < 0:
            slope += val[i]
        elif g + val[i] >= 0.0:
            return x, 2, eo[i], ed[i]
        else:
            g += val[i]
    if slope > 1e-12 * scale and (bnd[1] == np.inf or g + slope * (bnd[1] - x) >= 0.0):
        return _segment_root(x, bnd[1], root, pc, net, st, tree, kink), 0, -1, -1
    return (x, 3, -1, -1) if bnd[1] == np.inf else (bnd[1], 1, -1, -1)


@njit(cache=True)
def _solve_component(root, pc, net, nb, st, tree, sol, kink, bound, work, tol):
    """Solve one component for its root price; update prices, statuses, take and fill. Returns (outcome,
    o, d, direction, flips): MERGE/PIVOT name the route o -> d that now carries an interior flow and the way
    x was pushing, CUT the two nodes whose floor and ceiling conflict; flips counts status changes."""
    price, take, fill = sol
    bnd, bki = bound
    o, d = _unprofitable_route(root, net, st, tree[0], price, tol)
    if o >= 0:
        return PIVOT, o, d, 0, 1
    _bounds(root, net, nb, st, tree, price, bound)
    n, g0, s0 = _events(root, bnd[0], pc, net, st, tree, price, kink, work)
    if bnd[0] > bnd[1] and bki[0, 0] < ROUTE and bki[1, 0] < ROUTE:
        return CUT, bki[0, 1], bki[1, 1], 0, 0
    if bnd[0] > bnd[1]:  # a route bound contradicts the other one: merge through the route (through the
        # one serving the component's imbalance if both are), staying at a node bound if there is one
        g_hi = _excess(bnd[1], root, pc, net, st, tree, kink)[0]
        both = bki[0, 0] >= ROUTE and bki[1, 0] >= ROUTE
        side = (1 if g_hi < 0.0 else -1) if both else (1 if bki[1, 0] >= ROUTE else -1)
        other = (1 - side) // 2
        x, o, d = bnd[1 - other] if bki[other, 0] >= ROUTE else bnd[other], -1, -1
    else:
        x, side, o, d = _walk(root, pc, net, st, tree, kink, bnd, work, n, g0, s0)
    outcome, direction, b = NONE, side, (side + 1) // 2
    if side == 2:
        outcome, direction = MERGE, 1
    elif side == 3:
        outcome = INFEASIBLE
    elif side != 0 and bki[b, 0] >= ROUTE:
        outcome, o, d = MERGE if bki[b, 0] == ROUTE else PIVOT, bki[b, 1], bki[b, 2]
    comp, alpha, beta = tree[0], tree[1], tree[2]
    for r in range(comp.shape[0]):
        if comp[r] == root:
            price[r], take[r], fill[r] = alpha[r] * x + beta[r], 0.0, 0.0
    g = _excess(x, root, pc, net, st, tree, kink)[0]
    if side == -1 and bki[0, 0] == FLOOR:
        take[bki[0, 1]] = max(g, 0.0)
    elif (side == 1 and bki[1, 0] == CEIL) or side == 3:
        fill[bki[1, 1] if side == 1 else root] = max(-g, 0.0)
    return outcome, o, d, direction, _update_status(x, root, net, st, comp, price, kink, tol)


@njit(cache=True)
def _unprofitable_route(root, net, st, comp, price, tol):
    """An uncapped non-tree route inside the component that is strictly profitable (its tree path costs
    more), or (-1, -1): the tree must pivot it in."""
    t, m, cap = net
    for o in range(comp.shape[0]):
        for d in range(comp.shape[0]):
            if (o != d and cap[o, d] == np.inf and st[o, d] != LINK and comp[o] == root and comp[d] == root
                    and (1.0 + m[o, d]) * price[o] + t[o, d] - price[d] < -tol * (1.0 + abs(price[d]))):
                return o, d
    return -1, -1


@njit(cache=True)
def _update_status(x, root, net, st, comp, price, kink, tol):
    """OFF/CAP on finite routes touching the component, from the solved price; count changes."""
    t, m, cap = net
    flips = 0
    for o in range(comp.shape[0]):
        for d in range(comp.shape[0]):
            side, new = _cross(o, d, root, comp[o], comp[d], st[o, d], cap[o, d]), st[o, d]
            if side != 0:
                new = CAP if (kink[o, d] > x) == (side == 1) else OFF
            elif o != d and comp[o] == root == comp[d] and st[o, d] != LINK and 0.0 < cap[o, d] < np.inf:
                c = ((1.0 + m[o, d]) * price[o] + t[o, d] - price[d]) / (1.0 + abs(price[d]))
                new = CAP if c < -tol else (OFF if c > tol else new)
            flips += new != st[o, d]
            st[o, d] = new
    return flips


@njit(cache=True)
def _partner_ready(o, d, root, pc, net, nb, st, comp, price, tol):
    """Whether the component across o -> d can serve the route: a surplus (or a node at its ceiling) if it
    exports through it, a deficit (or a node at its floor) if it imports. Then the merged tree gives the
    route a flow of the right sign; merging with a component off balance the other way (e.g. just split
    off) would undo itself."""
    cap = net[2]
    other = comp[d] if comp[o] == root else comp[o]
    g = scale = 0.0
    at_floor = at_ceil = False
    for r in range(comp.shape[0]):
        if comp[r] == other:
            e, _, gross = _net_supply(pc, r, price[r])
            g, scale = g + e, scale + gross
            at_floor = at_floor or price[r] <= nb[0][r] + tol * (1.0 + nb[0][r])
            at_ceil = at_ceil or price[r] >= nb[1][r] - tol * (1.0 + nb[1][r])
    for u in range(comp.shape[0]):
        for v in range(comp.shape[0]):
            if st[u, v] == CAP and (u != o or v != d) and (comp[u] == other) != (comp[v] == other):
                g, scale = g + (cap[u, v] if comp[v] == other else -cap[u, v]), scale + cap[u, v]
    return (g >= -tol * scale or at_ceil) if comp[o] == other else (g <= tol * scale or at_floor)


@njit(cache=True)
def _pivot(o, d, direction, pc, net, st, sol, tree, flow, thr):
    """Swap uncapped route o -> d into its tree; the path route that leaves is picked by a network-simplex
    ratio test (first to reach 0 or its cap as flow circulates along o -> d) among those whose reduced
    cost stays >= 0 while x keeps moving in `direction` (any, if none does)."""
    comp, alpha, beta, parent, depth, order = tree
    m, cap = net[1], net[2]
    _tree_flows(pc, net, st, sol, tree, flow, thr)
    path, ratio, n, u, v = np.empty((comp.shape[0], 2), np.int64), np.empty(comp.shape[0]), 0, o, d
    while u != v:
        from_d = depth[v] > depth[u]  # the cycle runs o -> d, up from d, then down to o
        w = v if from_d else u
        eo, ed = (parent[w], w) if st[parent[w], w] == LINK else (w, parent[w])
        ratio[n] = cap[eo, ed] - flow[eo, ed] if (eo == w) == from_d else flow[eo, ed]
        path[n, 0], path[n, 1], n = eo, ed, n + 1
        u, v = (u, parent[w]) if from_d else (parent[w], v)
    best, best_ok = -1, False
    for i in range(n):
        eo, ed = path[i, 0], path[i, 1]
        ok = direction == 0
        if not ok:
            st[eo, ed], st[o, d] = OFF, LINK
            _build(st, net, sol[0], tree)
            ok = ((1.0 + m[eo, ed]) * alpha[eo] - alpha[ed]) * direction >= 0.0
            st[eo, ed], st[o, d] = LINK, OFF
        if best < 0 or (ok and not best_ok) or (ok == best_ok and ratio[i] < ratio[best]):
            best, best_ok = i, ok
    eo, ed = path[best, 0], path[best, 1]
    st[eo, ed] = CAP if cap[eo, ed] < np.inf and ratio[best] == cap[eo, ed] - flow[eo, ed] else OFF
    st[o, d] = LINK


@njit(cache=True)
def _cut_path(u, v, st, parent, depth):
    """Unlink the tree path between u and v: it ties a floor to a ceiling that cannot both hold, and which
    link is wrong shows only once the pieces are solved apart."""
    while u != v:
        w = u if depth[u] >= depth[v] else v
        for i, j in ((parent[w], w), (w, parent[w])):
            st[i, j] = OFF if st[i, j] == LINK else st[i, j]
        u, v = (parent[w], v) if w == u else (u, parent[w])


@njit(cache=True)
def _tree_flows(pc, net, st, sol, tree, flow, thr):
    """Flows on LINK routes from the node balances, leaves first; thr gets each node's throughput."""
    cap = net[2]
    price, take, fill = sol
    parent, order = tree[3], tree[5]
    n_r = price.shape[0]
    excess = np.empty(n_r)
    for r in range(n_r):
        e, _, gross = _net_supply(pc, r, price[r])
        excess[r], thr[r] = e - take[r] + fill[r], gross + take[r] + fill[r]
    for o in range(n_r):
        for d in range(n_r):
            if st[o, d] == CAP:
                excess[o], excess[d] = excess[o] - cap[o, d], excess[d] + cap[o, d]
    for i in range(n_r - 1, 0, -1):
        v, u = order[i], parent[order[i]]
        if u >= 0:
            if st[u, v] == LINK:
                flow[u, v] = -excess[v]
            else:
                flow[v, u] = excess[v]
            excess[u] += excess[v]
    for o in range(n_r):
        for d in range(n_r):
            f = abs(flow[o, d]) if st[o, d] == LINK else (cap[o, d] if st[o, d] == CAP else 0.0)
            thr[o], thr[d] = thr[o] + f, thr[d] + f


@njit(cache=True)
def _split(pc, net, st, sol, tree, flow, thr, tol, root):
    """Unlink the component's routes whose tree flow leaves [0, cap] by more than tol x throughput."""
    comp, parent = tree[0], tree[3]
    _tree_flows(pc, net, st, sol, tree, flow, thr)
    n = 0
    for v in range(comp.shape[0]):
        if parent[v] >= 0 and comp[v] == root:
            o, d = (parent[v], v) if st[parent[v], v] == LINK else (v, parent[v])
            ftol = tol * max(thr[o], thr[d])
            if flow[o, d] < -ftol or flow[o, d] > net[2][o, d] + ftol:
                st[o, d], n = OFF if flow[o, d] < 0.0 else CAP, n + 1
    return n


@njit(cache=True)
def _init(pc, net, nb, warm, use_warm, st, sol, tree, kink, bound, work):
    """Start from the warm prices (linking routes at zero reduced cost), else from the price of one
    integrated world market without transport costs (about half the work of starting from autarky),
    else (floors above ceilings elsewhere) from autarky."""
    t, m, cap = net
    comp, alpha, beta = tree[0], tree[1], tree[2]
    price = sol[0]
    st[:, :] = OFF
    blocked = (t, m, np.zeros_like(cap))  # the component solve with every route blocked
    comp[:], alpha[:], beta[:] = 0, 1.0, 0.0
    if not use_warm:  # comp[0], not a literal 0: a literal root would compile a second specialization
        if _solve_component(comp[0], pc, blocked, nb, st, tree, sol, kink, bound, work, 0.0)[0] != CUT:
            warm, use_warm = price.copy(), True
    for r in range(price.shape[0]):
        comp[r] = r
        if use_warm:
            price[r] = min(max(warm[r], nb[0][r]), nb[1][r])
    for r in range(price.shape[0]):
        if not use_warm:
            _solve_component(r, pc, blocked, nb, st, tree, sol, kink, bound, work, 0.0)
    for o in range(price.shape[0]):
        for d in range(price.shape[0]):
            c = (1.0 + m[o, d]) * price[o] + t[o, d] - price[d]
            if o == d or cap[o, d] <= 0.0:
                continue
            if use_warm and abs(c) <= _LINK_TOL * (1.0 + abs(price[d])) and comp[o] != comp[d]:
                st[o, d] = LINK
                comp[comp == comp[d]] = comp[o]
            elif c < 0.0 and cap[o, d] < np.inf:
                st[o, d] = CAP
    _build(st, net, price, tree)


@njit(cache=True)
def _sweep(pc, net, nb, st, sol, tree, kink, bound, work, flow, thr, stack, waits, tol):
    """One Gauss-Seidel pass over the components; returns (changes, feasible). A partner that cannot serve
    a merge is solved first (stack of waiting components), then the waiting one again; a cycle of waits
    means the components block each other, and they merge. Split pieces are solved before their root."""
    comp, parent, depth = tree[0], tree[3], tree[4]
    changes, feasible = 0, True
    for r in range(comp.shape[0]):
        stack[0], waits[0], sp = r, False, 1 if comp[r] == r else 0
        for _ in range(10 * comp.shape[0] * sp):
            if sp == 0:
                break
            root = stack[sp - 1]
            if comp[root] != root:  # merged into another component meanwhile
                sp -= 1
                continue
            outcome, o, d, direction, flips = _solve_component(root, pc, net, nb, st, tree, sol, kink, bound,
                                                               work, tol)
            changes, feasible = changes + flips, feasible and outcome != INFEASIBLE
            if outcome == NONE or outcome == INFEASIBLE:
                member = comp == root
                if _split(pc, net, st, sol, tree, flow, thr, tol, root) == 0:
                    sp -= 1  # done; whoever waited for it is solved again
                    waits[max(sp - 1, 0)] = False
                    continue
                changes += 1
                _build(st, net, sol[0], tree)
                for v in range(comp.shape[0]):
                    if member[v] and comp[v] == v != root and sp < stack.shape[0]:
                        stack[sp], waits[sp], sp = v, False, sp + 1
                continue
            changes += 1
            if outcome == PIVOT:
                _pivot(o, d, direction, pc, net, st, sol, tree, flow, thr)
            elif outcome == CUT:
                _cut_path(o, d, st, parent, depth)
            else:
                partner = comp[d] if comp[o] == root else comp[o]
                j = _wait_cycle(stack, waits, sp, partner)
                if j < 0 and sp < stack.shape[0] and not _partner_ready(o, d, root, pc, net, nb, st, comp,
                                                                      sol[0], tol):
                    waits[sp - 1], stack[sp], waits[sp], sp = True, partner, False, sp + 1
                    continue
                st[o, d] = LINK
                sp = j + 1 if j >= 0 else sp
            _build(st, net, sol[0], tree)
            stack[sp - 1], waits[sp - 1] = comp[o], False
    return changes, feasible


@njit(cache=True)
def _wait_cycle(stack, waits, sp, partner):
    """Stack index of `partner` if it heads an unbroken chain of waits up to the top, else -1."""
    for j in range(sp - 2, -1, -1):
        if not waits[j]:
            return -1
        if stack[j] == partner:
            return j
    return -1


@njit(cache=True)
def _solve_row(pc, net, nb, warm, use_warm, tol, max_iter, sol, flow, rent):
    """Clear one batch row in place; return (sweeps, converged)."""
    n_r, n_k = pc[0].shape
    n_ev = 2 * n_r * n_k + n_r * n_r
    st, kink, thr = np.zeros((n_r, n_r), np.int8), np.zeros((n_r, n_r)), np.empty(n_r)
    tree = (np.empty(n_r, np.int64), np.empty(n_r), np.empty(n_r), np.empty(n_r, np.int64),
            np.empty(n_r, np.int64), np.empty(n_r, np.int64))
    work = (np.empty(n_ev), np.empty(n_ev), np.empty(n_ev, np.int64), np.empty(n_ev, np.int64),
            np.empty(n_ev, np.int64))
    bound = (np.empty(2), np.zeros((2, 3), np.int64))
    stack, waits = np.empty(4 * n_r, np.int64), np.zeros(4 * n_r, np.bool_)
    _init(pc, net, nb, warm, use_warm, st, sol, tree, kink, bound, work)
    sweeps, done, feasible = 0, False, True
    while sweeps < max_iter and not done:
        changes, feasible = _sweep(pc, net, nb, st, sol, tree, kink, bound, work, flow, thr, stack, waits,
                                   tol)
        sweeps, done = sweeps + 1, changes == 0
    _tree_flows(pc, net, st, sol, tree, flow, thr)
    t, m, cap = net
    price = sol[0]
    for o in range(n_r):
        for d in range(n_r):  # flows by status (tree flows clipped into [0, cap]); rent where capped
            f = min(max(flow[o, d], 0.0), cap[o, d]) if st[o, d] == LINK else (cap[o, d] if st[o, d] == CAP
                                                                               else 0.0)
            flow[o, d] = f
            gap = price[d] - (1.0 + m[o, d]) * price[o] - t[o, d]
            rent[o, d] = max(gap, 0.0) if o != d and f >= cap[o, d] else 0.0
    return sweeps, done and feasible


@njit(cache=True, nogil=True)
def _solve_rows(start, stop, a, s, lo, hi, t, m, cap, floor, ceil, warm, use_warm, tol, max_iter, price, flow,
                rent, take, fill, iterations, converged):
    """Rows start..stop-1 in place, without the GIL so that threads can share a batch."""
    for b in range(start, stop):
        iterations[b], converged[b] = _solve_row(
            (a[b], s[b], lo[b], hi[b]), (t[b], m[b], cap[b]), (floor[b], ceil[b]), warm[b], use_warm, tol,
            max_iter, (price[b], take[b], fill[b]), flow[b], rent[b])


def solve_fast(problem: ClearingProblem, *, tol: float = 1e-10, max_iter: int = 100,
               warm_price: np.ndarray | None = None) -> ClearingSolution:
    """Clear every batch row exactly (module docstring), rows spread over numba's thread count.

    tol: relative tolerance of route status decisions (a tree flow below -tol x throughput splits the
    tree); max_iter: sweeps per row; warm_price (B, R), e.g. last period's prices, seeds prices and links.
    converged=False marks a row that hit max_iter or whose demand cannot be met under an infinite ceiling
    (the shortfall then shows as ceiling_fill at its component's root node).
    """
    problem.validate()
    n_b, n_r, _ = problem.shape
    arrays = [np.ascontiguousarray(x, dtype=np.float64) for x in (
        problem.a, problem.slope, problem.lo, problem.hi, problem.transport, problem.markup, problem.cap,
        problem.floor, problem.ceiling)]
    use_warm = warm_price is not None
    warm = np.ascontiguousarray(warm_price if use_warm else np.zeros((n_b, n_r)), dtype=np.float64)
    if warm.shape != (n_b, n_r) or not np.isfinite(warm).all():
        raise ValueError(f"warm_price must be finite with shape {(n_b, n_r)}, got {warm.shape}")
    price, take, fill = np.zeros((n_b, n_r)), np.zeros((n_b, n_r)), np.zeros((n_b, n_r))
    flow, rent = np.zeros((n_b, n_r, n_r)), np.zeros((n_b, n_r, n_r))
    iterations, converged = np.zeros(n_b, np.int64), np.zeros(n_b, np.bool_)
    args = (*arrays, warm, use_warm, tol, max_iter, price, flow, rent, take, fill, iterations, converged)
    _run_chunks(n_b, lambda start, stop: _solve_rows(start, stop, *args))
    return ClearingSolution(price, flow, rent, take, fill, iterations, converged)


def _run_chunks(n_rows: int, run) -> None:
    """Call run(start, stop) over chunks of the rows on numba's thread count (plain threads, since the
    kernel releases the GIL: a prange kernel would take seconds longer to compile for the same speed)."""
    threads = min(numba.get_num_threads(), max(1, n_rows // _MIN_CHUNK))
    if threads == 1:
        run(0, n_rows)
        return
    bounds = np.linspace(0, n_rows, 4 * threads + 1).astype(int)  # a few chunks per thread, for balance
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, bounds[:-1], bounds[1:]))
