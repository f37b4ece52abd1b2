"""Strategic actors: China, the G-7 and partner states observe the simulated market each month and move
policy instruments; metrics of the strategic game (leverage index, stage and value-added shares, fiscal
cost, coverage of G-7 demand) recorded from the same observations.

- `specs`: `ChinaSpec`, `G7Spec`, `PartnerSpec` (pydantic, usable from YAML), `parse_actors`, `build_actors`,
  `with_commitments`; built-in strategies in `strategies`;
- `china`, `g7`, `partner`: the actors' decision rules; `board`: the moves they see of each other;
- `runner.play`: run a scenario with actors, record `metrics`, and fork it for the `leverage` index.

Not imported by `reesim` itself. Formulas and measured results in docs/actors.md.
"""

from __future__ import annotations

from reesim.actors.china import (
           ChinaSpec,
           ControlsSpec,
           InducementSpec,
           Provocation,
           TensionSpec,
           UpgradingSpec,
)
from reesim.actors.g7 import Floor, G7Spec, Reserve
from reesim.actors.leverage import LeverageSpec
from reesim.actors.metrics import coverage_year, g7_fiscal_cost, outcomes
from reesim.actors.partner import PartnerSpec
from reesim.actors.runner import Played, play
from reesim.actors.specs import ActorSpec, build_actors, parse_actors, with_commitments
from reesim.actors.strategies import CHINA_PRESETS, G7_PRESETS, PARTNER_PRESETS

__all__ = ["CHINA_PRESETS", "G7_PRESETS", "PARTNER_PRESETS", "ActorSpec", "ChinaSpec", "ControlsSpec", "Floor",
           "G7Spec", "InducementSpec", "LeverageSpec", "PartnerSpec", "Played", "Provocation", "Reserve",
           "TensionSpec", "UpgradingSpec", "build_actors", "coverage_year", "g7_fiscal_cost", "outcomes",
           "parse_actors", "play", "with_commitments"]
