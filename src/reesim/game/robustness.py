"""How robust are equilibria and Stackelberg outcomes across ensemble members?

Each ensemble member (a draw of the uncertain parameters) gives its own payoff tables, so its own equilibria.
For every outcome found in any member or in the member-median game, the report gives the *share* of members
in which it holds:

- a pure Nash equilibrium (i, j) holds in a member when (i, j) is a Nash equilibrium of that member's game;
- a mixed Nash equilibrium is identified by its supports (I, J), since its probabilities move with the
  payoffs: it holds in a member when that member's game has an equilibrium with exactly those supports;
- a Stackelberg outcome (pure commitment, strong or weak tie-breaking) holds in a member when leading
  there yields the same (leader strategy, follower reply).

The member-median game takes, cell by cell and player by player, the median payoff over members; it is a
summary, not any member's game, and its equilibria (with their probabilities and payoffs) are reported
alongside. Mixed equilibria come from support enumeration, so the limits for degenerate games apply
(see `reesim.game.equilibria`); the number of members where degeneracy was detected is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reesim.game.equilibria import enumerate_supports
from reesim.game.normal_form import Game, PayoffLike, as_ensemble, profile
from reesim.game.stackelberg import stackelberg_choices

KINDS = ("pure_nash", "mixed_nash", "stackelberg_strong", "stackelberg_weak")
COLUMNS = ["kind", "row_support", "col_support", "share", "in_median", "row_mix", "col_mix",
           "row_payoff", "col_payoff"]


@dataclass(frozen=True, eq=False)
class Robustness:
    """Outcomes with their member shares, and the member-median game.

    `table` has one row per outcome with columns: kind (one of KINDS); row_support and col_support (tuples
    of strategy labels); share (fraction of members where it holds); in_median (whether it holds in the
    member-median game); row_mix, col_mix (full probability tuples in the median game, else None);
    row_payoff, col_payoff (expected payoffs in the median game, else NaN).
    """

    table: pd.DataFrame
    median_row: pd.DataFrame
    median_col: pd.DataFrame
    members: int
    degenerate_members: int


def robustness(row_payoffs: PayoffLike, col_payoffs: PayoffLike, *, tol: float = 1e-9) -> Robustness:
    """Equilibria and Stackelberg outcomes (row player leading) across members; payoffs (member, row, col)."""
    ens = as_ensemble(row_payoffs, col_payoffs)
    n_members = ens.row.shape[0]
    median = n_members  # index of the member-median game, appended as one extra member
    stacked = Game(np.concatenate([ens.row, np.median(ens.row, axis=0)[None]]),
                   np.concatenate([ens.col, np.median(ens.col, axis=0)[None]]),
                   ens.row_labels, ens.col_labels)
    tallies: dict[tuple[str, tuple[str, ...], tuple[str, ...]], _Tally] = {}

    def record(kind: str, member: int, x: np.ndarray, y: np.ndarray) -> None:
        tally = tallies.setdefault((kind, _labels(ens.row_labels, x), _labels(ens.col_labels, y)), _Tally())
        if member == median:
            tally.median = (x, y)
        else:
            tally.count += 1

    found = enumerate_supports(stacked.row, stacked.col, stacked.tolerance(tol), tol,
                               range(1, min(ens.shape) + 1))
    for f in found:
        record("pure_nash" if (f.x > 0).sum() == 1 else "mixed_nash", f.member, f.x, f.y)
    m, n = ens.shape
    for tie_break in ("strong", "weak"):
        leader, follower = stackelberg_choices(stacked, tie_break, tol)
        for member in range(n_members + 1):
            record(f"stackelberg_{tie_break}", member, np.eye(m)[leader[member]], np.eye(n)[follower[member]])

    median_game = Game(stacked.row[median], stacked.col[median], ens.row_labels, ens.col_labels)
    table = pd.DataFrame([_table_row(key, tally, median_game, n_members) for key, tally in tallies.items()],
                         columns=COLUMNS)
    table = table.sort_values(["kind", "share", "in_median"], ascending=[True, False, False], kind="stable",
                              key=lambda col: col.map(KINDS.index) if col.name == "kind" else col)
    degenerate = {f.member for f in found if f.degenerate and f.member != median}
    labels = {"index": list(ens.row_labels), "columns": list(ens.col_labels)}
    return Robustness(table.reset_index(drop=True), pd.DataFrame(median_game.row, **labels),
                      pd.DataFrame(median_game.col, **labels), n_members, len(degenerate))


@dataclass
class _Tally:
    """Members in which an outcome holds, and its mixes in the median game if it holds there."""

    count: int = 0
    median: tuple[np.ndarray, np.ndarray] | None = None


def _table_row(key: tuple[str, tuple[str, ...], tuple[str, ...]], tally: _Tally, median_game: Game,
               n_members: int) -> dict:
    kind, row_support, col_support = key
    row = {"kind": kind, "row_support": row_support, "col_support": col_support,
           "share": tally.count / n_members, "in_median": tally.median is not None,
           "row_mix": None, "col_mix": None, "row_payoff": np.nan, "col_payoff": np.nan}
    if tally.median is not None:
        prof = profile(median_game, *tally.median)
        row.update(row_mix=tuple(map(float, prof.row_mix)), col_mix=tuple(map(float, prof.col_mix)),
                   row_payoff=prof.row_payoff, col_payoff=prof.col_payoff)
    return row


def _labels(labels: tuple[str, ...], mix: np.ndarray) -> tuple[str, ...]:
    return tuple(lab for lab, p in zip(labels, mix, strict=True) if p > 0)
