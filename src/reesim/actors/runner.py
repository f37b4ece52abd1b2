"""Play a scenario with strategic actors: step the engine month by month, record the strategic metrics, and
fork the run where the leverage index is asked for.

`run_scenario(scenario, actors=build_actors(specs))` gives the full results dataset of such a run; `play`
gives what the strategic analysis needs (`reesim.actors.metrics`, `reesim.actors.leverage`) without
keeping every variable, and it can fork the engine, which the leverage index needs. Both draw the same
parameters from the scenario's seed, so a strategy profile played here and run there is the same run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from reesim.actors.china import ChinaActor
from reesim.actors.leverage import LeverageSpec, Probe, cut_off, leverage_dataset, probe
from reesim.actors.metrics import Recorder, outcomes
from reesim.actors.signals import lens
from reesim.actors.specs import ActorSpec, StrategicActor, build_actors, with_commitments
from reesim.engine.core import Engine, Solver
from reesim.engine.simulate import default_solver, member_parameters, policy_context, report_unsettled
from reesim.policy.schedule import PolicySchedule
from reesim.scenario import Scenario
from reesim.world import load_world


@dataclass(frozen=True, eq=False)
class Played:
    """A played run: monthly metrics from the base month (member, time, ...), the leverage index (member,
    start) if asked for, and the actors as they ended (e.g. China's `concessions` and `episodes`)."""

    metrics: xr.Dataset
    leverage: xr.Dataset | None
    actors: list[StrategicActor]

    def outcomes(self) -> pd.DataFrame:
        """One row per member with the metrics of the default objectives (see `metrics.outcomes`)."""
        frame = outcomes(self.metrics, self.leverage)
        china = [a for a in self.actors if isinstance(a, ChinaActor)]
        if china:
            frame["concessions"] = china[0].concessions.astype(float)
            frame["episodes"] = china[0].episodes.astype(float)
        return frame


def play(scenario: Scenario, specs: Sequence[ActorSpec] = (), *, leverage: LeverageSpec | None = None,
         solver: Solver | None = None, progress: Callable[[int, int], None] | None = None) -> Played:
    """Simulate `scenario` with its own actors and those of `specs`, for all members at once."""
    specs = [*scenario.actors, *specs]
    scenario = with_commitments(scenario, specs)
    children = np.random.SeedSequence(scenario.seed).spawn(scenario.members)
    rngs = [np.random.default_rng(child) for child in children]
    params = member_parameters(scenario, rngs)
    ctx = policy_context(scenario, load_world(scenario.world), params)
    months = scenario.months()
    actors = build_actors(specs, scenario.seed)
    schedule = PolicySchedule(scenario.timeline, ctx, len(months), actors)
    engine = Engine(ctx.structure, params, rngs, len(months), schedule, solver or default_solver())
    view = lens(ctx)
    recorder = Recorder(view, months)
    starts = leverage.start_indices(ctx.base_month, len(months)) if leverage else []
    target = ctx.regions(leverage.target) if leverage else None
    run: list[Probe] = []
    forks: dict[int, list[Probe]] = {}
    china = next((a for a in actors if isinstance(a, ChinaActor)), None)
    warm = None
    for t in range(len(months)):
        if t in starts:
            forks[t] = cut_off(engine, t, leverage, view, target, warm)
        step = engine.step(t, warm_price=warm)
        warm = step.price.transpose(0, 2, 1).reshape(-1, len(ctx.structure.regions))
        recorder.observe(step, china.state.intensity if china else np.zeros(ctx.members))
        if leverage:
            run.append(probe(view, step, target))
        if progress is not None:
            progress(t + 1, len(months))
    schedule.finish(engine.last, len(months))
    report_unsettled(engine, scenario.name, len(months))
    lev = leverage_dataset(run, forks, leverage, months) if forks else None
    return Played(recorder.dataset(schedule.ledger), lev, actors)
