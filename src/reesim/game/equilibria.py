"""Nash equilibria of two-player normal-form games: pure, all mixed (support enumeration), zero-sum by LP.

A profile (x, y) is a Nash equilibrium when no player gains by deviating: every pure strategy a player uses
earns the most it can against the other's mix, i.e. (Ay)_i >= max_k (Ay)_k for all i with x_i > 0 and
(x'B)_j >= max_k (x'B)_k for all j with y_j > 0 (Nash 1951). Payoffs from simulations tie or nearly tie, so
every check allows a payoff tolerance of `tol` times the largest payoff magnitude; weak best responses
(ties) count as best responses, so a pure profile where a player is indifferent is reported.

Support enumeration (von Stengel 2002, algorithm 3.4) tries every pair of supports (I, J) of equal size k,
solves the indifference equations  A[I, J] y_J = u 1,  x_I' B[I, J] = v 1',  sum y = sum x = 1, and keeps
solutions with positive probabilities on the supports that pass the best-response check. It finds every
equilibrium of a *nondegenerate* game (no mix of support size k has more than k pure best responses). In a
degenerate game (payoff ties, duplicated strategies) equilibria form continua or have supports of unequal
size; those are missed or represented by one point, so the result is sound (everything reported is an
equilibrium) but may be incomplete, and a `DegenerateGameWarning` says so. Pure equilibria are always found.
There are C(m + n, m) support pairs, each one small solve batched over members: fine up to about 8 x 8.

Zero-sum games (B = -A) are solved exactly by linear programming (von Neumann's minimax theorem): the row
player maximises the value w subject to x'A >= w 1', x in the simplex, and the column player solves the dual
problem; both LPs go to HiGHS.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from reesim import _lp
from reesim.errors import InputError
from reesim.game.normal_form import Game, PayoffLike, Profile, as_game, clean_mix, profile


class DegenerateGameWarning(UserWarning):
    """The game is degenerate: support enumeration may have missed equilibria (see the module docstring)."""


def pure_nash_mask(game: Game, tol: float = 1e-9) -> np.ndarray:
    """Boolean array over (..., row, col): True where the pure profile is a (weak) Nash equilibrium."""
    t = game.tolerance(tol)
    row_best = game.row >= game.row.max(axis=-2, keepdims=True) - t
    col_best = game.col >= game.col.max(axis=-1, keepdims=True) - t
    return row_best & col_best


def pure_nash(row_payoff: PayoffLike, col_payoff: PayoffLike, *, tol: float = 1e-9) -> list[Profile]:
    """All pure-strategy Nash equilibria, weak ones (a player indifferent to a deviation) included."""
    game = as_game(row_payoff, col_payoff)
    m, n = game.shape
    return [profile(game, np.eye(m)[i], np.eye(n)[j]) for i, j in np.argwhere(pure_nash_mask(game, tol))]


def support_enumeration(row_payoff: PayoffLike, col_payoff: PayoffLike, *,
                        tol: float = 1e-9) -> list[Profile]:
    """All Nash equilibria (pure and mixed) of a nondegenerate game, by support enumeration.

    Ordered by support size, then lexicographically by support. Warns with `DegenerateGameWarning` when an
    equilibrium found has more pure best responses than its support size or comes from a singular system;
    the list is then sound but maybe incomplete.
    """
    game = as_game(row_payoff, col_payoff)
    found = enumerate_supports(game.row[None], game.col[None], game.tolerance(tol), tol,
                               range(1, min(game.shape) + 1))
    if any(f.degenerate for f in found):
        warnings.warn("degenerate game: support enumeration may miss equilibria (continua, unequal supports)",
                      DegenerateGameWarning, stacklevel=2)
    return [profile(game, f.x, f.y) for f in found]


@dataclass(frozen=True, slots=True, eq=False)
class Found:
    """One equilibrium found by `enumerate_supports` in one member of an ensemble."""

    member: int
    x: np.ndarray
    y: np.ndarray
    degenerate: bool


def enumerate_supports(row: np.ndarray, col: np.ndarray, t: float, tol: float, sizes: range) -> list[Found]:
    """Support enumeration batched over a leading member axis: payoffs (members, m, n).

    `t` is the absolute payoff tolerance, `tol` the probability tolerance (a support probability must exceed
    it). One linear solve per support pair covers all members at once.
    """
    _, m, n = row.shape
    found: list[Found] = []
    for k in sizes:
        for rows in combinations(range(m), k):
            sub_row = row[:, rows, :]
            sub_col = col[:, rows, :]
            for cols in combinations(range(n), k):
                y_sup, y_singular = _indifferent(sub_row[:, :, cols])
                idx = np.flatnonzero((y_sup > tol).all(axis=1))  # later work only for members still in
                if idx.size == 0:
                    continue
                x_sup, x_singular = _indifferent(np.swapaxes(sub_col[idx][:, :, cols], 1, 2))
                positive = (x_sup > tol).all(axis=1)
                idx, x_sup, x_singular = idx[positive], x_sup[positive], x_singular[positive]
                if idx.size == 0:
                    continue
                x = np.zeros((idx.size, m))
                y = np.zeros((idx.size, n))
                # Renormalise: exact for pure strategies, and a singular system's solution may be off scale;
                # the best-response check below is what makes the profile an equilibrium.
                x[:, rows] = x_sup / x_sup.sum(axis=1, keepdims=True)
                y[:, cols] = y_sup[idx] / y_sup[idx].sum(axis=1, keepdims=True)
                row_gain = np.einsum("bij,bj->bi", row[idx], y)
                col_gain = np.einsum("bi,bij->bj", x, col[idx])
                row_best = row_gain >= row_gain.max(axis=1, keepdims=True) - t
                col_best = col_gain >= col_gain.max(axis=1, keepdims=True) - t
                ok = row_best[:, rows].all(axis=1) & col_best[:, cols].all(axis=1)
                degenerate = ((row_best.sum(axis=1) > k) | (col_best.sum(axis=1) > k) | x_singular
                              | y_singular[idx])
                found.extend(Found(int(idx[b]), x[b], y[b], bool(degenerate[b])) for b in np.flatnonzero(ok))
    return found


def _indifferent(payoff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mix z over k strategies that makes the other player indifferent: payoff @ z = w 1, sum z = 1.

    `payoff` is (members, k, k), rows the indifferent player's strategies. Returns (z, singular flag) per
    member. A batch with a singular system (a degenerate game) is solved by pseudo-inverse instead, which
    gives a singular system's minimum-norm solution; the caller verifies every solution either way.
    """
    b, k, _ = payoff.shape
    system = np.zeros((b, k + 1, k + 1))
    system[:, :k, :k] = payoff
    system[:, :k, k] = -1.0
    system[:, k, :k] = 1.0
    try:
        solution = np.linalg.solve(system, np.broadcast_to(np.eye(k + 1)[k], (b, k + 1))[..., None])[..., 0]
    except np.linalg.LinAlgError:
        u, s, vh = np.linalg.svd(system)
        keep = s > 1e-12 * s[:, :1]
        inv_s = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
        solution = np.einsum("bji,bj->bi", vh, inv_s * u[:, k, :])  # V diag(1/s) U' e_k, e_k the right side
        return solution[:, :k], ~keep.all(axis=1)
    return solution[:, :k], np.zeros(b, dtype=bool)


def zero_sum(row_payoff: PayoffLike) -> Profile:
    """The value and a pair of optimal (maximin) mixes of the zero-sum game with row payoffs A, by LP.

    The column player's payoffs are -A. When optimal mixes are not unique, HiGHS returns one vertex of the
    optimal set; the value is unique.
    """
    labelled = as_game(row_payoff, row_payoff)
    game = Game(labelled.row, -labelled.row, labelled.row_labels, labelled.col_labels)
    a = game.row / game.scale  # at most 1 in magnitude, so the LP's tolerances are relative
    return profile(game, clean_mix(_maximin(a), 1e-12), clean_mix(_maximin(-a.T), 1e-12))


def _maximin(a: np.ndarray) -> np.ndarray:
    """Row mix x maximising w subject to x'A >= w for every column; LP variables (x, w)."""
    m, n = a.shape
    rows = np.vstack([np.hstack([a.T, -np.ones((n, 1))]), np.append(np.ones(m), 0.0)])
    lower = np.append(np.zeros(n), 1.0)
    upper = np.append(np.full(n, np.inf), 1.0)
    solved = _lp.maximise(np.append(np.zeros(m), 1.0), rows, lower, upper,
                          np.append(np.zeros(m), -np.inf), np.full(m + 1, np.inf))
    if solved is None:  # pragma: no cover - the maximin LP is always feasible
        raise RuntimeError("maximin LP infeasible")
    return solved[0][:m]


def regrets(row_payoff: PayoffLike, col_payoff: PayoffLike, prof: Profile) -> tuple[float, float]:
    """What each player could gain by its best deviation from `prof`: (max(Ay) - x'Ay, max(x'B) - x'By).

    Both are zero (to round-off) at a Nash equilibrium; a small positive regret makes the profile an
    epsilon-equilibrium, a way to ask whether one member's equilibrium still holds approximately in another.
    """
    game = as_game(row_payoff, col_payoff)
    if (prof.row_labels, prof.col_labels) != (game.row_labels, game.col_labels):
        raise InputError(None, "profile", "strategy labels differ from the game's",
                         "evaluate a profile on the game (or the same strategy grid) it was computed for")
    x, y = prof.row_mix, prof.col_mix
    row_gain, col_gain = game.row @ y, x @ game.col
    return float(row_gain.max() - x @ row_gain), float(col_gain.max() - col_gain @ y)
