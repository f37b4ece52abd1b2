"""One batch row of a `ClearingProblem`, gathered into a few small contiguous arrays for the fast solver.

Engine rows are mostly empty (10 piece slots per node, about two of them used) and their route arrays
are often broadcast views (one transport cost per row, no markups, no caps). Gathering each row once
into compact arrays, with only the pieces that have a slope and the flat ones summed into one constant
per node, lets every later pass loop over what is there, and lets callers hand over views of any memory
layout without copying the batch. The gather also checks the row, so the hot path needs no separate
validation pass over the whole batch.

The solver's state lives in a handful of 2-D arrays indexed by the row constants below rather than in
tuples of 1-D arrays: every array handed to a compiled function costs two atomic reference-count updates
per call, which made up a third of the solve time with tuples.

    pieces (4, n) rows A, SLOPE, LO, HI: the pieces with slope > 0, node r owning start[r]..start[r+1]-1
    nodes (4, R) rows FIXED (sum of the node's flat pieces), GROSS (sum of their magnitudes, for rounding
        scales), FLOOR, CEIL
    routes (3, R, R) planes TRANSPORT, MARKUP, CAPACITY
    finite (R * R, 2) the routes o -> d with a finite positive cap (the only ones that can sit at it);
        info = [how many, 1 if any route has a markup]
"""

from __future__ import annotations

import numpy as np
from numba import njit

A, SLOPE, LO, HI = 0, 1, 2, 3
FIXED, GROSS, FLOOR, CEIL = 0, 1, 2, 3
TRANSPORT, MARKUP, CAPACITY = 0, 1, 2
N_FINITE, HAS_MARKUP = 0, 1
ROW_OK, BAD_VALUE, BAD_SIGN, BAD_CLIP, BAD_BOUND = 0, 1, 2, 3, 4  # gather outcome, see `gather_row`


@njit(cache=True)
def new_row(n_r, n_k):
    """Workspace (pieces, start, nodes, routes, finite, info) for one row, reused for a chunk of rows."""
    return (np.empty((4, n_r * n_k)), np.empty(n_r + 1, np.int64), np.empty((4, n_r)), np.empty((3, n_r, n_r)),
            np.empty((n_r * n_r, 2), np.int64), np.zeros(2, np.int64))


@njit(cache=True)
def gather_row(b, a, slope, lo, hi, transport, markup, cap, floor, ceiling, pieces, start, nodes, routes, finite,
               info):
    """Copy row b into the workspace; return ROW_OK or the first rule it breaks (the codes above):
    a non-finite value (cap and ceiling may be inf), a negative slope/transport/markup/cap, hi < lo, or
    node bounds outside 0 <= floor < ceiling. NaN fails every rule it meets."""
    n_r, n_k = a.shape[1], a.shape[2]
    finite_sum, least, wrong_clip = 0.0, 0.0, 0.0
    for r in range(n_r):  # check and sum the flat pieces without branches first (vectorised)
        total = gross = 0.0
        for k in range(n_k):
            ak, sk, lk, hk = a[b, r, k], slope[b, r, k], lo[b, r, k], hi[b, r, k]
            finite_sum += (ak - ak) + (sk - sk) + (lk - lk) + (hk - hk)  # NaN unless all are finite
            least, wrong_clip = min(least, sk), min(wrong_clip, hk - lk)
            v = min(max(ak, lk), hk) if sk <= 0.0 else 0.0
            total, gross = total + v, gross + abs(v)
        nodes[FIXED, r], nodes[GROSS, r] = total, gross
    if finite_sum != 0.0:  # also NaN
        return BAD_VALUE
    if least < 0.0:
        return BAD_SIGN
    if wrong_clip < 0.0:
        return BAD_CLIP
    n = 0
    for r in range(n_r):  # then keep the pieces with a slope
        start[r] = n
        for k in range(n_k):
            if slope[b, r, k] > 0.0:
                pieces[A, n], pieces[SLOPE, n], pieces[LO, n], pieces[HI, n] = (a[b, r, k], slope[b, r, k],
                                                                                 lo[b, r, k], hi[b, r, k])
                n += 1
    start[n_r] = n
    finite_sum, least, nan_caps = 0.0, 0.0, 0
    for o in range(n_r):  # copy and check without branches first (vectorised), list finite caps after
        for d in range(n_r):
            to, mo, co = transport[b, o, d], markup[b, o, d], cap[b, o, d]
            routes[TRANSPORT, o, d], routes[MARKUP, o, d], routes[CAPACITY, o, d] = to, mo, co
            finite_sum += (to - to) + (mo - mo)
            least = min(least, min(to, min(mo, co)))
            nan_caps += np.isnan(co)
    if finite_sum != 0.0:  # also NaN
        return BAD_VALUE
    if not least >= 0.0 or nan_caps > 0:
        return BAD_SIGN
    n_fin, has_markup = 0, 0
    for o in range(n_r):
        for d in range(n_r):
            if o != d:
                co = routes[CAPACITY, o, d]
                if 0.0 < co < np.inf:
                    finite[n_fin, 0], finite[n_fin, 1], n_fin = o, d, n_fin + 1
                if routes[MARKUP, o, d] != 0.0:
                    has_markup = 1
    info[N_FINITE], info[HAS_MARKUP] = n_fin, has_markup
    for r in range(n_r):
        f, ce = floor[b, r], ceiling[b, r]
        if f - f != 0.0:  # NaN or infinite
            return BAD_VALUE
        if not (f >= 0.0 and ce > f):
            return BAD_BOUND
        nodes[FLOOR, r], nodes[CEIL, r] = f, ce
    return ROW_OK


@njit(cache=True, inline="always")
def net_supply(pieces, start, nodes, r, p):
    """E_r(p), its slope, and the scale of its rounding error (cancelling pieces still have one)."""
    e, de, gross = nodes[FIXED, r], 0.0, nodes[GROSS, r]
    for j in range(start[r], start[r + 1]):
        v = pieces[A, j] + pieces[SLOPE, j] * p
        if pieces[LO, j] < v < pieces[HI, j]:
            de += pieces[SLOPE, j]
            gross += abs(pieces[A, j]) + abs(pieces[SLOPE, j] * p)
        else:
            v = pieces[LO, j] if v <= pieces[LO, j] else pieces[HI, j]
            gross += abs(v)
        e += v
    return e, de, gross
