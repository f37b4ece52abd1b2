"""Strategic actors: China, the G-7 and partner states observe the simulated market each month and move
policy instruments; metrics of the strategic game (leverage index, stage and value-added shares, fiscal
cost, coverage of G-7 demand) recorded from the same observations.

- `specs`: `ChinaSpec`, `G7Spec`, `PartnerSpec` (pydantic, usable from YAML), `parse_actors`, `build_actors`,
  `with_commitments`; built-in strategies in `strategies`;
- `china`, `g7`, `partner`: the actors' decision rules; `board`: the moves they see of each other;
- `runner.play`: run a scenario with actors, record `metrics`, and fork it for the `leverage` index.

Not imported by `reesim` itself, and lazy here: names load their module on first use, so that
`reesim.scenario` can import the specs without the runner. Formulas and measured results in docs/actors.md.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "reesim.actors.china": ("ChinaSpec", "ControlsSpec", "InducementSpec", "Provocation", "TensionSpec",
                            "UpgradingSpec"),
    "reesim.actors.g7": ("Floor", "G7Spec", "Reserve"),
    "reesim.actors.partner": ("PartnerSpec",),
    "reesim.actors.leverage": ("LeverageSpec",),
    "reesim.actors.metrics": ("coverage_year", "g7_fiscal_cost", "outcomes"),
    "reesim.actors.runner": ("Played", "play"),
    "reesim.actors.specs": ("ActorSpec", "build_actors", "check_actors", "parse_actors", "with_commitments"),
    "reesim.actors.strategies": ("CHINA_PRESETS", "G7_PRESETS", "PARTNER_PRESETS"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = list(_MODULE_OF)


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'reesim.actors' has no attribute {name!r}")
    return getattr(importlib.import_module(_MODULE_OF[name]), name)
