"""Actor specs as scenario data, and the actors of one run built from them.

A list of specs (YAML or Python) names each actor's kind (`china`, `g7`, `partner`), optionally a built-in
`strategy` that its other fields override, and its parameters. `build_actors` turns the list into the
objects `run_scenario(scenario, actors=...)` takes, sharing one `Board` so that they see each other's
moves; `with_commitments` adds to a scenario's timeline the plants the strategies build (China's
refineries abroad), which must exist in the world before the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, Union

import numpy as np
from pydantic import Field, TypeAdapter, ValidationError

from reesim.actors.board import Board
from reesim.actors.china import ChinaActor, ChinaSpec
from reesim.actors.g7 import G7Actor, G7Spec
from reesim.actors.partner import PartnerActor, PartnerSpec
from reesim.errors import InputError
from reesim.policy.event import Event

if TYPE_CHECKING:  # pragma: no cover
    from reesim.policy.context import PolicyContext
    from reesim.scenario import Scenario

ActorSpec = Annotated[Union[ChinaSpec, G7Spec, PartnerSpec], Field(discriminator="kind")]  # noqa: UP007
StrategicActor = ChinaActor | G7Actor | PartnerActor
ORDER = ("china", "g7", "partner")  # who decides first each month
_SPECS = TypeAdapter(list[ActorSpec])


def parse_actors(data: Any, source: str | None = None) -> list[ActorSpec]:
    """Validate a list of actor specs (e.g. a scenario file's `actors:`), errors naming the key and the fix."""
    try:
        return _SPECS.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = list(first["loc"])
        if len(loc) > 1 and loc[1] in ORDER:  # the union's tag (the spec's kind) is not a key of the file
            del loc[1]
        key = ".".join(["actors", *(str(x) for x in loc)])
        raise InputError(source, key, first["msg"],
                         "see `reesim.actors` for the fields of china, g7 and partner specs") from exc


def build_actors(specs: Sequence[ActorSpec], seed: int = 0) -> list[StrategicActor]:
    """The actors of one run, China first, then the G-7, then partners; each run needs fresh actors.

    China's bargaining draws come from a generator seeded by (`seed`, its position), so a run is
    reproducible from the scenario's seed.
    """
    names = [s.name for s in specs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(None, "actors", f"actor name(s) {repeated} are used twice",
                         "give every actor a distinct `name` (it prefixes its event labels)")
    board = Board()
    actors: list[StrategicActor] = []
    for i, spec in enumerate(sorted(specs, key=lambda s: ORDER.index(s.kind))):
        if isinstance(spec, ChinaSpec):
            actors.append(ChinaActor(spec, board, np.random.default_rng([seed, i])))
        elif isinstance(spec, G7Spec):
            actors.append(G7Actor(spec, board))
        else:
            actors.append(PartnerActor(spec, board))
    return actors


def check_actors(specs: Sequence[ActorSpec], ctx: PolicyContext) -> None:
    """Compile every actor against a world (e.g. for `reesim validate`): an InputError names the actor and
    what its spec refers to that the world lacks."""
    for actor in build_actors(specs):
        actor.prepare(ctx)


def commitments(specs: Sequence[ActorSpec]) -> list[Event]:
    """Timeline events the strategies commit to before the run (plants they build)."""
    return [event for spec in specs if isinstance(spec, ChinaSpec) for event in spec.inducement.refineries]


def with_commitments(scenario: Scenario, specs: Sequence[ActorSpec]) -> Scenario:
    """The scenario with the strategies' commitments appended to its timeline (unchanged if none).

    Commitments already in the timeline are not added again, so a scenario saved from a run (its manifest
    holds the extended timeline and the actors) runs again as it ran. A commitment that starts after the
    scenario's end does not act within it and is left out (a timeline event may not start after the end).
    """
    extra = [event for event in commitments(specs)
             if event not in scenario.timeline and str(event.start) <= str(scenario.end)]
    if not extra:
        return scenario
    data = scenario.model_dump()
    data["timeline"] = [*data["timeline"], *(e.model_dump() for e in extra)]
    return type(scenario).model_validate(data)  # the class, not an import: scenario.py may import this module
