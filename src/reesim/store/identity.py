"""What makes two runs the same: the scenario (with its seed and members), the data and the code.

A run's key is a hash of exactly those inputs, so a re-run of the same manifest is recognised before
any work is done, and the run id (scenario name plus the start of the key) is stable across machines.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from reesim.scenario import Scenario
    from reesim.world import World

KEY_FIELDS = ("scenario", "world", "data_version", "code_version", "seed", "members")


def run_key(manifest: dict[str, Any]) -> str:
    """SHA-256 of the manifest's identifying fields (see KEY_FIELDS), as hex."""
    missing = [f for f in KEY_FIELDS if f not in manifest]
    if missing:
        raise KeyError(f"manifest lacks {missing}; it was not written by reesim.simulate")
    canonical = json.dumps({f: manifest[f] for f in KEY_FIELDS}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def planned_manifest(scenario: Scenario, world: World) -> dict[str, Any]:
    """The identifying part of the manifest a run of `scenario` on `world` will carry, known before running."""
    from reesim._version import __version__

    return {"scenario": scenario.record(), "world": world.name, "data_version": world.version,
            "code_version": __version__, "seed": scenario.seed, "members": scenario.members}


def planned_key(scenario: Scenario) -> str:
    """The key a run of `scenario` will have. A run adds its actors' commitments (plants their strategies
    build) to the timeline and records that timeline, and its data version is that of the world the engine
    will run: the scenario's world with the plants its timeline adds (which changes the version)."""
    from reesim.actors.specs import with_commitments
    from reesim.engine.simulate import scenario_world

    scenario = with_commitments(scenario, scenario.actors)

    return run_key(planned_manifest(scenario, scenario_world(scenario)))


def run_id(manifest: dict[str, Any]) -> str:
    """A readable, stable id: the scenario name made filesystem-safe, then 10 hex digits of the key."""
    name = re.sub(r"[^a-z0-9]+", "-", str(manifest["scenario"].get("name", "run")).lower()).strip("-") or "run"
    return f"{name[:40]}-{run_key(manifest)[:10]}"
