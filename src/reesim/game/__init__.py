"""Game analysis on payoff tables: Nash equilibria, Stackelberg outcomes and their robustness over members.

Pure functions of payoff tables, independent of the simulation; formulas and references in docs/game.md.
Not imported by `reesim` itself, so `import reesim` stays fast.
"""

from __future__ import annotations

from reesim.game.equilibria import (DegenerateGameWarning, pure_nash, pure_nash_mask, regrets,
                                    support_enumeration, zero_sum)
from reesim.game.normal_form import Game, Profile, as_ensemble, as_game
from reesim.game.robustness import Robustness, robustness
from reesim.game.stackelberg import stackelberg_choices, stackelberg_mixed, stackelberg_pure

__all__ = ["DegenerateGameWarning", "Game", "Profile", "Robustness", "as_ensemble", "as_game", "pure_nash",
           "pure_nash_mask", "regrets", "robustness", "stackelberg_choices", "stackelberg_mixed",
           "stackelberg_pure", "support_enumeration", "zero_sum"]
