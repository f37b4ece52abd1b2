"""reesim: a simulator of the global rare-earth supply chain and of the strategy played over it.

Importing the package does no I/O and loads no heavy modules: the world dataset is read only when
`load_world` is called. Sub-packages are imported lazily on first attribute access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reesim._version import __version__

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from reesim.api import simulate
    from reesim.results import Results
    from reesim.scenario import Scenario, load_scenario
    from reesim.world import World, load_world

__all__ = ["Results", "Scenario", "World", "__version__", "load_scenario", "load_world", "simulate"]

_LAZY = {"World": "reesim.world", "load_world": "reesim.world", "simulate": "reesim.api",
         "Results": "reesim.results", "Scenario": "reesim.scenario", "load_scenario": "reesim.scenario"}


def __getattr__(name: str) -> Any:
    """Resolve the public API lazily so that `import reesim` stays fast and free of side effects."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'reesim' has no attribute {name!r}")
