"""`reesim calibrate`: rerun the calibration of the behavioural parameters to the 2010-2011 crisis."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reesim.cli.render import console, show_frame
from reesim.cli.runs import fail
from reesim.errors import InputError


def calibrate(
    members: Annotated[int, typer.Option("--members", "-m", help="Candidates per stage (each is one ensemble "
                                                                 "member of a batched run).")] = 384,
    stages: Annotated[int, typer.Option("--stages", help="Search stages: a Latin hypercube over the priors, "
                                                         "then boxes around the best, each half as wide (with --smc, "
                                                         "generations of SMC ABC).")] = 5,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Seed of the designs (2: the shipped calibration's "
                                                           "first stage).")] = 2,
    until: Annotated[int | None, typer.Option("--until", help="Fit the record up to this year only and report "
                                                              "the rest as a held-back check (e.g. 2012).")] = None,
    accept: Annotated[float, typer.Option("--accept", help="Share of candidates the ABC posterior keeps.")] = 0.1,
    polish: Annotated[bool, typer.Option("--polish/--no-polish", help="Refine the best candidate by compass "
                                                                      "search after the stages.")] = True,
    scenario: Annotated[str, typer.Option("--scenario", help="Scenario to calibrate on (built-in name or file).")]
    = "2010-crisis",
    fit_domestic: Annotated[bool, typer.Option("--fit-domestic", help="Fit China's own spot prices too "
                                                                      "(backtest.record.DOMESTIC; the shipped "
                                                                      "calibration does not).")] = False,
    start: Annotated[Path | None, typer.Option("--start", help="calibration.json whose point joins the "
                                                               "candidates before the polish (a refit that "
                                                               "begins where that fit ended).")] = None,
    smc: Annotated[bool, typer.Option("--smc", help="Make the stages after the first generations of "
                                                    "sequential Monte Carlo ABC, whose last generation is the "
                                                    "posterior (default: the first stage's rejection ABC).")]
    = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for calibration.json and candidates.csv "
                                                                 "(default: calibration-2010[-untilYYYY]).")] = None,
) -> None:
    """Calibrate the behavioural parameters to the 2009-2015 oxide prices and China's exports (facts.md D)."""
    from rich.progress import Progress

    from reesim.backtest.record import DOMESTIC
    from reesim.calibration.fit import Target
    from reesim.calibration.fit import calibrate as run_calibration
    from reesim.calibration.profile import profiles
    from reesim.calibration.result import read_parameters, write_calibration
    from reesim.scenario import load_scenario

    target = Target(until=until, domestic=DOMESTIC if fit_domestic else ())
    try:
        begin = None if start is None else read_parameters(start)
        chosen = load_scenario(scenario)
        with Progress(console=console(), transient=True) as bar:
            task = bar.add_task("Calibrating", total=members * stages)
            result = run_calibration(chosen, members=members, stages=stages, seed=seed, accept=accept,
                                     polish=polish, target=target, start=begin, smc=smc,
                                     progress=lambda done, total: bar.update(task, completed=done, total=total))
            bar.update(task, description="Profiling the scenario's fields", completed=0, total=None)
            result.profiles = profiles(chosen, result.best, target)
    except (InputError, ValueError) as exc:
        raise fail(exc) from exc
    folder = out or Path(f"calibration-2010{'' if until is None else f'-until{until}'}")
    summary, table = write_calibration(result, folder)
    show_frame(result.posterior.drop(columns=["scale"]).round(4),
               title="Parameters: least-squares point (best) and ABC posterior")
    show_frame(result.fit.round(3), title="Fit of the best candidate (log residuals; used = fitted)")
    for name, table in result.profiles.items():
        show_frame(table.round(4), title=f"Loss by the events' {name} at the best point (scenario field, profiled)")
    stats = result.summary()
    console().print(", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in stats.items()))
    console().print(f"[green]Written {summary} and {table}[/green]")
