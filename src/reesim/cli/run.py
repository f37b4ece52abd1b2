"""`reesim run`: simulate a scenario, print a summary, and write results with their manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from reesim.cli.render import console, show_frame
from reesim.cli.runs import StoreOption, fail, open_store, stored_twin
from reesim.errors import InputError

SUMMARY_PRODUCTS = ("oxide:NdPr", "oxide:Dy", "oxide:Tb", "oxide:La", "oxide:Ce", "magnet:NdFeB")
SUMMARY_REGIONS = ("CHN", "USA", "EU", "JPN")


def summary_table(results) -> pd.DataFrame:
    """Yearly mean prices (member median) of key products in key regions, and China's stage shares."""
    ds = results.dataset
    price = ds["price"].sel(product=[p for p in SUMMARY_PRODUCTS if p in ds["product"]], region=list(SUMMARY_REGIONS))
    yearly = price.groupby("time.year").mean().median("member")
    first, last = yearly["year"].values[0], yearly["year"].values[-1]
    years = [y for y in yearly["year"].values if y in (first, last, 2025, 2028, 2030, 2035)]
    frame = yearly.sel(year=years).to_dataframe(name="price")["price"].unstack("year").reset_index()
    frame.columns = [str(c) for c in frame.columns]
    return frame


WORLD_END = {"world2009": "2015-12"}  # a world's default last month: the 2009 world runs to the end of the back-test


def _world(name: str | None) -> str | None:
    """A world given as a base year (2009) names the built-in world of that year (world2009)."""
    return f"world{name}" if name is not None and name.isdigit() else name


def _default_end(world: str | None) -> str | None:
    return WORLD_END.get(_world(world) or "")


def run(
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or a YAML scenario file.")] = "baseline",
    members: Annotated[int | None, typer.Option("--members", "-m", help="Ensemble members (default: the scenario's).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", "-s", help="Seed of the ensemble (default: the scenario's).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last month, YYYY-MM (default: the scenario's, 2035-12; "
                                                           "2015-12 with --world 2009).")] = None,
    world: Annotated[str | None, typer.Option("--world", "-w", help="World to run the scenario on instead of its own: "
                                                                    "a base year (2009, 2024), a built-in name or a folder.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the results (Parquet per variable) and manifest.json.")] = None,
    store: StoreOption = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not keep the run in the run store.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Run again even if the store holds a run of the same manifest.")] = False,
) -> None:
    """Simulate a scenario month by month for every member, print a summary, keep it in the run store."""
    from rich.progress import Progress

    from reesim.api import simulate
    from reesim.scenario import load_scenario

    try:
        chosen = load_scenario(scenario, members=members, seed=seed, end=end or _default_end(world), world=_world(world))
        runs = None if no_store else open_store(store)
        twin = None if runs is None or force else stored_twin(runs, chosen)
        if twin is not None:
            console().print(f"[yellow]The store already holds this manifest as run {twin.run_id}; reusing it "
                            "(--force runs again).[/yellow]")
            results = runs.load(twin.run_id, variables=None if out else ["price", "output"])
        else:
            with Progress(console=console(), transient=True) as bar:
                task = bar.add_task("Simulating", total=None)
                results = simulate(chosen, progress=lambda done, total: bar.update(task, completed=done, total=total))
    except InputError as exc:
        raise fail(exc) from exc
    manifest = results.manifest
    console().print(f"[bold]{manifest['scenario']['name']}[/bold]: {manifest['members']} member(s), seed "
                    f"{manifest['seed']}, data {manifest['data_version']}, reesim {manifest['code_version']}")
    show_frame(summary_table(results), title="Yearly mean price, USD/kg (median over members)")
    shares = results.statistics.stage_share(freq="year").median("member")
    ends = sorted({int(shares["year"].values[0]), int(shares["year"].values[-1])})
    frame = (shares.sel(year=ends) * 100).round(1)
    show_frame(frame.to_dataframe(name="share")["share"].unstack("year").reset_index().rename(columns=str),
               title="China's share of each stage's output by location (%)")
    if "fiscal_cost" in results.dataset:
        cost = results.dataset["fiscal_cost"].sum("time").median("member").round(1)
        show_frame(cost.to_pandas().reset_index().rename(columns=str),
                   title="Fiscal cost of each instrument over the run, USD million (median; revenues negative)")
    if runs is not None and twin is None:
        entry, written = runs.put(results, force=force)
        verb = "Stored as" if written else "Already stored as"
        console().print(f"[green]{verb} run {entry.run_id} in {runs.root}[/green]")
    if out is not None:
        try:
            path = results.save(out)
        except FileExistsError as exc:
            console().print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
        console().print(f"[green]Results and manifest written to {path}[/green]")
