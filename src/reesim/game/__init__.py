"""Game analysis on payoff tables: Nash equilibria, Stackelberg outcomes and their robustness over members.

Pure functions, independent of the simulation; formulas and references in docs/game.md.

- `normal_form`: payoff tables with labelled strategies (`as_game`, `as_ensemble`) and profiles;
- `equilibria`: pure Nash equilibria, all equilibria by support enumeration, zero-sum games by LP;
- `stackelberg`: the row player leading, pure (strong or weak tie-breaking) or mixed commitment;
- `robustness`: the share of ensemble members in which each outcome holds, and the member-median game;
- `payoffs`: configurable objectives that turn outcome metrics into the two payoff tables;
- `analysis` and `figure`: what `reesim game` reports (outcomes with member shares, China's best mixed
  commitment) and its PNG;
- `bargaining`: the trigger -> controls -> concession or suspension cycle, a state machine over members
  (import it from `reesim.game.bargaining`; the policy layer uses it, not the equilibrium analysis).

Not imported by `reesim` itself, so `import reesim` stays fast.
"""

from __future__ import annotations

from reesim.game.equilibria import (
    DegenerateGameWarning,
    pure_nash,
    pure_nash_mask,
    regrets,
    support_enumeration,
    zero_sum,
)
from reesim.game.normal_form import Game, Profile, as_ensemble, as_game
from reesim.game.payoffs import Objective, Objectives, payoff_tables
from reesim.game.robustness import Robustness, robustness
from reesim.game.stackelberg import stackelberg_choices, stackelberg_mixed, stackelberg_pure

__all__ = ["DegenerateGameWarning", "Game", "Objective", "Objectives", "Profile", "Robustness", "as_ensemble",
           "as_game", "payoff_tables", "pure_nash", "pure_nash_mask", "regrets", "robustness",
           "stackelberg_choices", "stackelberg_mixed", "stackelberg_pure", "support_enumeration", "zero_sum"]
