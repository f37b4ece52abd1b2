"""Stackelberg outcomes with the row player leading: it commits first, the follower best-responds.

Pure commitment. For each leader strategy i the follower's best-response set is
BR(i) = {j : B[i, j] >= max_k B[i, k] - tol}. The follower's tie-breaking decides the outcome when BR(i) has
several members:

- "strong" (optimistic): the follower picks the j in BR(i) best for the leader. This is the standard
  convention (strong Stackelberg equilibrium), justified because the leader can make the follower strictly
  prefer that j by an arbitrarily small change of its commitment in the mixed case.
- "weak" (pessimistic): the follower picks the j in BR(i) worst for the leader; a leader that cannot count on
  goodwill should look at this.

The leader then picks the row with the best resulting payoff. Remaining ties go to the lowest index (the
first strategy in the table), for the follower among equally good replies and for the leader among equally
good rows; the payoffs do not depend on this choice.

Mixed commitment (Conitzer & Sandholm 2006, "multiple LPs"): for every follower strategy j, solve
max_x x'A[:, j] s.t. x'B[:, j] >= x'B[:, k] for all k, x in the simplex; the best feasible j and its x give
the strong Stackelberg equilibrium. Committing to a mix is worth at least as much to the leader as committing
to a pure strategy or playing any Nash equilibrium (von Stengel & Zamir 2010). The pessimistic version has no
optimum in general (the supremum is approached, not attained), so only the strong one is offered.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from reesim import _lp
from reesim.errors import InputError
from reesim.game.normal_form import Game, PayoffLike, Profile, as_game, clean_mix, profile

TieBreak = Literal["strong", "weak"]


def stackelberg_choices(game: Game, tie_break: TieBreak = "strong", tol: float = 1e-9
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Leader row and follower column of the pure-commitment outcome, batched over leading axes.

    Returns integer arrays of shape game.row.shape[:-2] (scalars for a single game).
    """
    if tie_break not in ("strong", "weak"):
        raise InputError(None, "tie_break", f"unknown tie-breaking rule {tie_break!r}",
                         "use 'strong' or 'weak'")
    t = game.tolerance(tol)
    follower_best = game.col >= game.col.max(axis=-1, keepdims=True) - t
    sign = 1.0 if tie_break == "strong" else -1.0
    reply = np.where(follower_best, sign * game.row, -np.inf).argmax(axis=-1)  # (..., m)
    value = np.take_along_axis(game.row, reply[..., None], axis=-1)[..., 0]
    leader = np.argmax(value >= value.max(axis=-1, keepdims=True) - t, axis=-1)
    follower = np.take_along_axis(reply, leader[..., None], axis=-1)[..., 0]
    return leader, follower


def stackelberg_pure(row_payoff: PayoffLike, col_payoff: PayoffLike, *, tie_break: TieBreak = "strong",
                     tol: float = 1e-9) -> Profile:
    """The outcome when the row player commits to a pure strategy; see the module docstring for ties."""
    game = as_game(row_payoff, col_payoff)
    i, j = stackelberg_choices(game, tie_break, tol)
    m, n = game.shape
    return profile(game, np.eye(m)[int(i)], np.eye(n)[int(j)])


def stackelberg_mixed(row_payoff: PayoffLike, col_payoff: PayoffLike, *, tol: float = 1e-9) -> Profile:
    """The strong Stackelberg equilibrium with mixed commitment, by one LP per follower strategy."""
    game = as_game(row_payoff, col_payoff)
    a, b = game.row / game.scale, game.col / game.scale  # the LP's tolerances become relative
    m, n = game.shape
    best: tuple[float, int, np.ndarray] | None = None
    for j in range(n):
        others = [k for k in range(n) if k != j]
        rows = np.vstack([(b[:, [j]] - b[:, others]).T, np.ones((1, m))])
        lower = np.append(np.zeros(len(others)), 1.0)
        upper = np.append(np.full(len(others), np.inf), 1.0)
        solved = _lp.maximise(a[:, j], rows, lower, upper, np.zeros(m), np.full(m, np.inf))
        if solved is not None and (best is None or solved[1] > best[0] + tol):
            best = (solved[1], j, solved[0])
    assert best is not None  # some column is a best response to any mix, so one LP is feasible
    return profile(game, clean_mix(best[2], 1e-12), np.eye(n)[best[1]])
