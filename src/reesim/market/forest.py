"""Route statuses and the forest of linked routes that ties node prices together.

A route is OFF (no flow), CAP (flow at its cap) or LINK (flow inside [0, cap], so its reduced cost
(1 + m) p_o + t - p_d is zero). LINK routes form a forest; in each tree (a component) every price is an
affine function of the root's, p_r = alpha_r x + beta_r (exact with ad-valorem markups too), so the
component has one unknown. Tree flows follow from the node balances, leaves first; a flow outside
[0, cap] means the tree is wrong and is split there.

Arrays (see `reesim.market.row` for why they are packed): tree (6, R) int rows COMP, PARENT, DEPTH,
ORDER, FIRST, SIZE, where ORDER lists the nodes component by component (breadth first from the root, the
lowest node) and the members of the component rooted at r are ORDER[FIRST[r]:FIRST[r] + SIZE[r]];
affine (2, R) rows ALPHA, BETA; sol (3, R) rows PRICE, TAKE (bought at the floor), FILL (sold at the
ceiling); balance (2, R) scratch rows EXCESS, THROUGHPUT.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from reesim.market.row import CAPACITY, MARKUP, TRANSPORT, net_supply

OFF, CAP, LINK = 0, 1, 2
COMP, PARENT, DEPTH, ORDER, FIRST, SIZE = 0, 1, 2, 3, 4, 5
ALPHA, BETA = 0, 1
PRICE, TAKE, FILL = 0, 1, 2
EXCESS, THROUGHPUT = 0, 1


@njit(cache=True)
def build_forest(st, routes, sol, tree, affine):
    """Label the LINK forest (root = lowest node) breadth first and express prices through the root's."""
    n_r = st.shape[0]
    tree[COMP, :] = -1
    n = 0
    for r0 in range(n_r):
        if tree[COMP, r0] >= 0:
            continue
        tree[COMP, r0], tree[PARENT, r0], tree[DEPTH, r0], tree[ORDER, n] = r0, -1, 0, r0
        affine[ALPHA, r0], affine[BETA, r0] = 1.0, 0.0
        head, tree[FIRST, r0], n = n, n, n + 1
        while head < n:
            u, head = tree[ORDER, head], head + 1
            for v in range(n_r):
                if tree[COMP, v] >= 0 or (st[u, v] != LINK and st[v, u] != LINK):
                    continue
                if st[u, v] == LINK:
                    g = 1.0 + routes[MARKUP, u, v]
                    affine[ALPHA, v] = g * affine[ALPHA, u]
                    affine[BETA, v] = g * affine[BETA, u] + routes[TRANSPORT, u, v]
                else:
                    g = 1.0 + routes[MARKUP, v, u]
                    affine[ALPHA, v] = affine[ALPHA, u] / g
                    affine[BETA, v] = (affine[BETA, u] - routes[TRANSPORT, v, u]) / g
                tree[COMP, v], tree[PARENT, v], tree[DEPTH, v], tree[ORDER, n] = r0, u, tree[DEPTH, u] + 1, v
                n += 1
                sol[PRICE, v] = affine[ALPHA, v] * sol[PRICE, r0] + affine[BETA, v]
        tree[SIZE, r0] = n - tree[FIRST, r0]


@njit(cache=True)
def tree_flows(pieces, start, nodes, routes, finite, n_fin, st, sol, tree, flow, balance):
    """Flows on LINK routes from the node balances, leaves first; balance gets each node's throughput."""
    n_r = st.shape[0]
    for r in range(n_r):
        e, _, gross = net_supply(pieces, start, nodes, r, sol[PRICE, r])
        balance[EXCESS, r] = e - sol[TAKE, r] + sol[FILL, r]
        balance[THROUGHPUT, r] = gross + sol[TAKE, r] + sol[FILL, r]
    for i in range(n_fin):  # only finite routes can be at their cap
        o, d = finite[i, 0], finite[i, 1]
        if st[o, d] == CAP:
            c = routes[CAPACITY, o, d]
            balance[EXCESS, o], balance[EXCESS, d] = balance[EXCESS, o] - c, balance[EXCESS, d] + c
            balance[THROUGHPUT, o], balance[THROUGHPUT, d] = balance[THROUGHPUT, o] + c, balance[THROUGHPUT, d] + c
    for i in range(n_r - 1, 0, -1):
        v = tree[ORDER, i]
        u = tree[PARENT, v]
        if u >= 0:
            e = balance[EXCESS, v]
            if st[u, v] == LINK:
                flow[u, v] = -e
            else:
                flow[v, u] = e
            balance[EXCESS, u] += e
            balance[THROUGHPUT, u], balance[THROUGHPUT, v] = balance[THROUGHPUT, u] + abs(e), balance[THROUGHPUT, v] + abs(e)


@njit(cache=True)
def split_tree(pieces, start, nodes, routes, finite, n_fin, st, sol, tree, flow, balance, tol, root):
    """Unlink the component's routes whose tree flow leaves [0, cap] by more than tol x throughput."""
    tree_flows(pieces, start, nodes, routes, finite, n_fin, st, sol, tree, flow, balance)
    n = 0
    for i in range(tree[FIRST, root] + 1, tree[FIRST, root] + tree[SIZE, root]):
        v = tree[ORDER, i]
        u = tree[PARENT, v]
        o, d = (u, v) if st[u, v] == LINK else (v, u)
        ftol = tol * max(balance[THROUGHPUT, o], balance[THROUGHPUT, d])
        if flow[o, d] < -ftol or flow[o, d] > routes[CAPACITY, o, d] + ftol:
            st[o, d], n = OFF if flow[o, d] < 0.0 else CAP, n + 1
    return n


@njit(cache=True)
def cut_path(u, v, st, tree):
    """Unlink the tree path between u and v: it ties a floor to a ceiling that cannot both hold, and which
    link is wrong shows only once the pieces are solved apart."""
    while u != v:
        w = u if tree[DEPTH, u] >= tree[DEPTH, v] else v
        p = tree[PARENT, w]
        st[p, w] = OFF if st[p, w] == LINK else st[p, w]
        st[w, p] = OFF if st[w, p] == LINK else st[w, p]
        u, v = (p, v) if w == u else (u, p)


@njit(cache=True)
def pivot(o, d, direction, pieces, start, nodes, routes, finite, n_fin, st, sol, tree, affine, flow, balance,
          path, ratio):
    """Swap uncapped route o -> d into its tree; the path route that leaves is picked by a network-simplex
    ratio test (first to reach 0 or its cap as flow circulates along o -> d) among those whose reduced
    cost stays >= 0 while x keeps moving in `direction` (any, if none does)."""
    tree_flows(pieces, start, nodes, routes, finite, n_fin, st, sol, tree, flow, balance)
    n, u, v = 0, o, d
    while u != v:
        from_d = tree[DEPTH, v] > tree[DEPTH, u]  # the cycle runs o -> d, up from d, then down to o
        w = v if from_d else u
        p = tree[PARENT, w]
        eo, ed = (p, w) if st[p, w] == LINK else (w, p)
        ratio[n] = routes[CAPACITY, eo, ed] - flow[eo, ed] if (eo == w) == from_d else flow[eo, ed]
        path[n, 0], path[n, 1], n = eo, ed, n + 1
        u, v = (u, p) if from_d else (p, v)
    best, best_ok = -1, False
    for i in range(n):
        eo, ed = path[i, 0], path[i, 1]
        ok = direction == 0
        if not ok:
            st[eo, ed], st[o, d] = OFF, LINK
            build_forest(st, routes, sol, tree, affine)
            ok = ((1.0 + routes[MARKUP, eo, ed]) * affine[ALPHA, eo] - affine[ALPHA, ed]) * direction >= 0.0
            st[eo, ed], st[o, d] = LINK, OFF
        if best < 0 or (ok and not best_ok) or (ok == best_ok and ratio[i] < ratio[best]):
            best, best_ok = i, ok
    eo, ed = path[best, 0], path[best, 1]
    c = routes[CAPACITY, eo, ed]
    st[eo, ed] = CAP if c < np.inf and ratio[best] == c - flow[eo, ed] else OFF
    st[o, d] = LINK
