"""Run a scenario: draw member parameters, step the engine month by month, record the results."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from reesim.calibration.posterior import read_posterior
from reesim.engine.core import Engine, Solver, StepResult
from reesim.engine.parameters import PARAMETERS, draw_parameters
from reesim.engine.structure import Structure, build_structure
from reesim.engine.wedges import ConstantWedges, WedgeSchedule
from reesim.errors import ClearingWarning
from reesim.policy.context import PolicyContext
from reesim.policy.event import Event
from reesim.policy.plants import add_policy_plants
from reesim.policy.schedule import Actor, PolicySchedule
from reesim.results import Results, assemble_results
from reesim.scenario import Scenario
from reesim.world import World, load_world

ALL_VARIABLES = ("price", "production", "consumption", "purchases", "inventory", "trade", "smuggled", "rent",
                 "shortfall", "shortfall_qty", "disposal", "stockpile", "output", "capacity", "margin", "licence")
ROUTE_VARIABLES = ("trade", "smuggled", "rent")  # origin x destination x product: large for many members
TRADE_MEMBER_LIMIT = 64  # above this, route variables are not kept unless asked


def default_solver() -> Solver:
    from reesim.market.fast import solve_fast

    return solve_fast


def member_parameters(scenario: Scenario, rngs: list[np.random.Generator]) -> dict[str, np.ndarray]:
    """Every member's parameters: the scenario's `uncertain` draws, its posterior's, or the defaults."""
    posterior = read_posterior(scenario.posterior) if scenario.posterior else None
    return draw_parameters(dict(scenario.uncertain), rngs, posterior)


def scenario_world(scenario: Scenario, world: World | None = None) -> World:
    """The scenario's world with the plants its timeline adds."""
    return add_policy_plants(world or load_world(scenario.world), scenario.timeline)


def policy_context(scenario: Scenario, world: World | None = None,
                   params: dict[str, np.ndarray] | None = None) -> PolicyContext:
    """What the scenario's instruments act on: the world with its new plants, compiled, and the parameters."""
    world = scenario_world(scenario, world)
    if params is None:
        params = draw_parameters({}, [np.random.default_rng(0)])
    return _context(world, build_structure(world), params)


def policy_context_for(world: str, timeline: Sequence[Event]) -> PolicyContext:
    """A one-member context for checking events against a world by name (used by `reesim validate`)."""
    base = add_policy_plants(load_world(world), timeline)
    return _context(base, build_structure(base), draw_parameters({}, [np.random.default_rng(0)]))


def _context(world: World, structure: Structure, params: dict[str, np.ndarray]) -> PolicyContext:
    facilities = world["facilities"].query("process != 'cracking'").reset_index(drop=True)
    elements = world["products"].set_index("product")["element"].fillna("")
    return PolicyContext(structure=structure, facilities=facilities,
                         product_element=tuple(str(elements[p]) for p in structure.products),
                         elements=tuple(world["elements"]["element"]), params=params,
                         base_month=structure.base_month, members=len(next(iter(params.values()))))


def run_scenario(scenario: Scenario, *, world: World | None = None, wedges: WedgeSchedule | None = None,
                 solver: Solver | None = None, variables: Iterable[str] | None = None,
                 progress: Callable[[int, int], None] | None = None, actors: Sequence[Actor] = (),
                 params: Mapping[str, np.ndarray] | None = None) -> Results:
    """Simulate `scenario` for all its members at once and return the recorded results.

    The scenario's timeline and the `actors`' moves are compiled into the wedge schedule unless `wedges`
    is given (tests of the engine pass their own). `params` gives chosen parameters one value per member
    (arrays of length `members`), replacing the scenario's draws: a calibration puts one candidate
    parameter vector in each member and runs them all in one batch.
    """
    if scenario.actors:  # the scenario's strategic actors, with the plants their strategies build
        from reesim.actors.specs import build_actors, with_commitments

        scenario = with_commitments(scenario, scenario.actors)
        actors = [*build_actors(scenario.actors, scenario.seed), *actors]
    world = scenario_world(scenario, world)
    structure = build_structure(world)
    children = np.random.SeedSequence(scenario.seed).spawn(scenario.members)
    rngs = [np.random.default_rng(child) for child in children]
    params = given_parameters(member_parameters(scenario, rngs), params or {})
    months = scenario.months()
    if variables is None:  # informal flows are zero without a smuggling channel: not kept unless asked
        smuggling = any(e.instrument == "smuggling" for e in scenario.timeline)
        variables = [v for v in ALL_VARIABLES
                     if (v not in ROUTE_VARIABLES or scenario.members <= TRADE_MEMBER_LIMIT)
                     and (v != "smuggled" or smuggling)]
    variables = tuple(variables)
    unknown = set(variables) - set(ALL_VARIABLES)
    if unknown:
        raise ValueError(f"unknown result variable(s) {sorted(unknown)}; choose from {', '.join(ALL_VARIABLES)}")
    schedule = None
    if wedges is None and (scenario.timeline or actors):
        schedule = PolicySchedule(scenario.timeline, _context(world, structure, params), len(months), actors)
    engine = Engine(structure, params, rngs, len(months), wedges or schedule or ConstantWedges(),
                    solver or default_solver())
    first = int(months.get_loc(scenario.first_month))
    kept: dict[str, list[np.ndarray]] = {v: [] for v in variables}
    warm = None
    for t in range(len(months)):
        step = engine.step(t, warm_price=warm)
        warm = step.price.transpose(0, 2, 1).reshape(-1, len(structure.regions))
        if t >= first:
            _record(kept, step, structure.line_facility, len(structure.facilities), structure)
        if progress is not None:
            progress(t + 1, len(months))
    if schedule is not None:
        schedule.finish(engine.last, len(months))
    calibration = {"demand_scale": dict(zip(structure.products, engine.demand_scale.mean(axis=0).round(4).tolist())),
                   "unabsorbed_t_per_month": dict(zip(structure.products, engine.unabsorbed.round(1).tolist()))}
    policy = None
    if schedule is not None:
        policy = {"in_force": {k: v[:, first:] for k, v in schedule.in_force_log.items()},
                  "ledger": {k: v[:, first:] for k, v in schedule.ledger.entries.items()}}
    results = assemble_results(scenario, world, structure, params, months[first:], kept, calibration, policy)
    unsettled = report_unsettled(engine, scenario.name, len(months))
    if unsettled:
        results.dataset.attrs["unsettled_markets"] = json.dumps(unsettled)
    return results


def report_unsettled(engine: Engine, name: str, months: int) -> dict[str, int]:
    """Months per product in which the clearing of some member did not settle (the solver ran to its
    iteration limit even with route ties broken), with a ClearingWarning when there are any: the prices and
    flows of those markets may be off, and an analyst must know rather than read them as equilibria."""
    counts = engine.unsettled.sum(axis=0)
    unsettled = {p: int(c) for p, c in zip(engine.s.products, counts) if c}
    if unsettled:
        total = engine.m * months * len(engine.s.products)
        listed = ", ".join(f"{p} {c}" for p, c in unsettled.items())
        warnings.warn(f"{name}: the market clearing did not settle in {sum(unsettled.values())} of {total} "
                      f"(member, month, product) markets ({listed}); their prices and flows may be off "
                      "(docs/limits.md)", ClearingWarning, stacklevel=3)
    return unsettled


def given_parameters(drawn: dict[str, np.ndarray], given: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`drawn` with the `given` per-member values put in, checked against the names, sizes and bounds."""
    members = len(next(iter(drawn.values())))
    out = dict(drawn)
    for name, values in given.items():
        if name not in PARAMETERS:
            raise KeyError(f"unknown parameter {name!r}; known: {', '.join(sorted(PARAMETERS))}")
        values = np.asarray(values, dtype=float)
        if values.shape != (members,):
            raise ValueError(f"parameter {name!r} has shape {values.shape}; give one value per member ({members},)")
        spec = PARAMETERS[name]
        if not ((values >= spec.lower) & (values <= spec.upper)).all():
            raise ValueError(f"parameter {name!r} has values outside its bounds [{spec.lower}, {spec.upper}]")
        out[name] = values
    return out


def _record(kept: dict[str, list[np.ndarray]], step: StepResult, line_facility: np.ndarray, n_fac: int,
            structure) -> None:
    """Append this month's values of the kept variables (facility values summed over lines)."""

    def per_facility(values: np.ndarray) -> np.ndarray:
        out = np.zeros((values.shape[0], n_fac))
        np.add.at(out, (slice(None), line_facility), values)
        return out

    for name, values in kept.items():
        if name in ROUTE_VARIABLES:
            values.append(getattr(step, name).transpose(0, 2, 3, 1))  # (M, O, D, P)
        elif name == "shortfall":
            valued = step.shortfall * structure.price_base[None, None, None, :] * 1e-3  # t x USD/kg -> USD million
            values.append(valued.sum(axis=3))
        elif name == "shortfall_qty":
            values.append(step.shortfall.sum(axis=2))
        elif name == "output":
            values.append(per_facility(step.throughput))
        elif name == "capacity":
            values.append(per_facility(step.capacity) * 12.0)
        elif name == "margin":
            weight = per_facility(step.throughput)
            total = per_facility(step.throughput * step.margin)
            values.append(np.divide(total, weight, out=np.full_like(total, np.nan), where=weight > 0))
        else:
            values.append(getattr(step, name))
