"""`reesim runs`: list, show, query and delete stored runs; and the store step of `reesim run`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from reesim.cli.render import console, show_frame
from reesim.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from reesim.scenario import Scenario
    from reesim.store import RunEntry, RunStore

runs_app = typer.Typer(help="List, show, query and delete the runs kept in the run store.", no_args_is_help=True)

StoreOption = Annotated[Path | None, typer.Option(
    "--store", help="Run store folder (default: $REESIM_STORE, else 'reesim/runs' in the user data folder).")]


def open_store(path: Path | None) -> RunStore:
    from reesim.store import RunStore

    return RunStore(path)


def fail(exc: Exception | str) -> typer.Exit:
    """Print an input error in red and give the exit to raise."""
    from rich.markup import escape

    console().print(f"[red]{escape(str(exc))}[/red]")
    return typer.Exit(1)


def stored_twin(store: RunStore, scenario: Scenario) -> RunEntry | None:
    """The stored run that has the manifest a run of `scenario` would have, if there is one."""
    from reesim.store import planned_key

    return store.find(planned_key(scenario))


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e5 else f"{n / 1e3:,.0f} kB"


@runs_app.command("list")
def list_runs(store: StoreOption = None) -> None:
    """List the stored runs, newest last."""
    try:
        runs = open_store(store)
        frame = runs.catalog()
    except InputError as exc:
        raise fail(exc) from exc
    if frame.empty:
        console().print(f"No runs in {runs.root} yet; `reesim run` stores each run there.")
        return
    shown = pd.DataFrame({
        "run": frame["run_id"], "scenario": frame["scenario"], "members": frame["members"].astype(str),
        "seed": frame["seed"].astype(str), "end": frame["end"],
        "created": frame["created"].dt.tz_convert(None).dt.strftime("%Y-%m-%d %H:%M"),
        "data": frame["data_version"], "code": frame["code_version"], "size": frame["bytes"].map(_size)})
    show_frame(shown, title=f"Runs in {runs.root}")


@runs_app.command("show")
def show_run(run: Annotated[str, typer.Argument(help="Run id (or its unambiguous start).")],
             store: StoreOption = None) -> None:
    """Show a run's manifest, its variables with units, and its yearly prices."""
    from reesim.cli.run import summary_table

    try:
        runs = open_store(store)
        entry = runs.entry(run)
        manifest = runs.manifest(entry.run_id)
        results = runs.load(entry.run_id, variables=["price"])
    except InputError as exc:
        raise fail(exc) from exc
    scenario = manifest["scenario"]
    facts = {"run": entry.run_id, "scenario": scenario["name"], "description": scenario.get("description", ""),
             "members": entry.members, "seed": entry.seed, "months": f"{entry.start} to {entry.end}",
             "world": manifest["world"], "data version": entry.data_version, "code version": entry.code_version,
             "stored": entry.created.strftime("%Y-%m-%d %H:%M UTC"), "folder": str(entry.path),
             "size": _size(entry.bytes), "manifest key": entry.key}
    show_frame(pd.DataFrame({"": list(facts), "value": [str(v) for v in facts.values()]}), title="Run")
    variables = manifest["variables"]
    show_frame(pd.DataFrame({"variable": list(variables), "dims": [", ".join(v["dims"]) for v in variables.values()],
                             "units": [v.get("units", "") for v in variables.values()],
                             "description": [v.get("description", "") for v in variables.values()]}),
               title="Variables")
    show_frame(summary_table(results), title="Yearly mean price, USD/kg (median over members)")


@runs_app.command("query")
def query_runs(sql: Annotated[str, typer.Argument(help="DuckDB SQL over the views `catalog` and one per variable "
                                                   "(e.g. `price`), each with a run_id column.")],
               store: StoreOption = None,
               rows: Annotated[int, typer.Option("--rows", help="Rows to print at most.")] = 50) -> None:
    """Query the store with DuckDB SQL, e.g. "select run_id, avg(price) from price group by run_id"."""
    import duckdb

    try:
        frame = open_store(store).query(sql)
    except InputError as exc:
        raise fail(exc) from exc
    except duckdb.Error as exc:  # bad SQL is bad input: say so plainly, no traceback
        raise fail(f"{exc}\nFix: correct the SQL; `reesim runs query \"describe catalog\"` lists the columns") from exc
    show_frame(frame, max_rows=rows)


@runs_app.command("delete")
def delete_runs(runs_: Annotated[list[str], typer.Argument(metavar="RUN...", help="Run ids to delete.")],
                store: StoreOption = None,
                yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False) -> None:
    """Delete stored runs (their results and their catalog entries)."""
    try:
        runs = open_store(store)
        ids = [runs.resolve(r) for r in runs_]
        if not yes and not typer.confirm(f"Delete {', '.join(ids)} from {runs.root}?"):
            raise typer.Exit(1)
        for rid in ids:
            runs.delete(rid)
            console().print(f"Deleted {rid}")
    except InputError as exc:
        raise fail(exc) from exc
