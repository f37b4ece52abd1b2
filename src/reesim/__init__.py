"""reesim: a simulator of the global rare-earth supply chain and of the strategy played over it.

Importing the package does no I/O and loads no heavy modules: the world dataset is read only when
`load_world` is called. Sub-packages are imported lazily on first attribute access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reesim._version import __version__

if TYPE_CHECKING:  # pragma: no cover - for type checkers only
    from reesim.world import World, load_world

__all__ = ["World", "__version__", "load_world"]


def __getattr__(name: str) -> Any:
    """Resolve the public API lazily so that `import reesim` stays fast and free of side effects."""
    if name in {"World", "load_world"}:
        from reesim import world

        return getattr(world, name)
    raise AttributeError(f"module 'reesim' has no attribute {name!r}")
