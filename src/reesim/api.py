"""The small stable Python API that scripts and other modules rely on."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from reesim.results import Results
from reesim.scenario import Scenario, load_scenario


def simulate(scenario: str | Path | Scenario = "baseline", *, members: int | None = None, seed: int | None = None,
             start: str | None = None, end: str | None = None, variables: Iterable[str] | None = None,
             progress: Callable[[int, int], None] | None = None) -> Results:
    """Simulate a scenario (built-in name, YAML path or object) and return its results.

    `members`, `seed`, `start` and `end` override the scenario's own values. Results hold monthly values
    from `start` (default: January of the world's base year) to `end` (default December 2035) for every member.
    """
    from reesim.engine.simulate import run_scenario

    chosen = load_scenario(scenario, members=members, seed=seed, start=start, end=end)
    return run_scenario(chosen, variables=variables, progress=progress)
