"""`reesim data …`: inspect, check and update the embedded world dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from reesim.cli.render import console, show_frame
from reesim.errors import DatasetError, InputError

data_app = typer.Typer(help="Inspect, check and update world datasets.", no_args_is_help=True)

WorldOption = Annotated[str, typer.Option(
    "--world", "-w", help="Built-in world (world2024, world2009 or its year) or a folder of world CSVs.")]


def _load(world: str, check: bool = True):
    from reesim.world import load_world

    try:
        return load_world(world, check=check)
    except DatasetError as exc:
        console().print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc


@data_app.command("show")
def show(
    world: WorldOption = "world2024",
    table: Annotated[str | None, typer.Option("--table", "-t", help="Show this table's rows (e.g. facilities).")] = None,
    schema: Annotated[bool, typer.Option("--schema", help="Show the table's attributes: type, unit, default, description.")] = False,
    rows: Annotated[int, typer.Option("--rows", "-n", help="Rows to show at most.")] = 40,
    columns: Annotated[str | None, typer.Option("--columns", "-c", help="Comma-separated columns to show (default: all).")] = None,
) -> None:
    """Show the world: its tables, who holds each stage in the base year, or one table's rows or schema."""
    from reesim.world.summary import output_by_region, stage_shares

    w = _load(world)
    if table is None:
        console().print(f"[bold]World {w.name}[/bold] (base year {w.base_year}, version {w.version}, "
                        f"{w.path})")
        show_frame(w.describe(), title="Tables")
        shares = stage_shares(w)
        show_frame(shares.assign(**{c: (shares[c] * 100).round(1) for c in shares.columns[2:]}),
                   title=f"{w.base_year} output by stage and China's share (%), by location and controller")
        show_frame(output_by_region(w, "mining"),
                   title=f"{w.base_year} mine output and capacity by region (t REO)")
        return
    if table not in w.tables:
        console().print(f"[red]No table {table!r}. Tables: {', '.join(w.tables)}[/red]")
        raise typer.Exit(2)
    if schema:
        spec = w.schema.tables[table]
        attrs = pd.DataFrame(
            [(n, a.type, a.unit, "" if a.required else repr(a.default), a.description) for n, a in spec.attributes.items()],
            columns=["attribute", "type", "unit", "default", "description"],
        )
        show_frame(attrs, title=f"{table} ({spec.file}): {spec.description}")
        return
    frame = w[table]
    if columns is not None:
        wanted = [c.strip() for c in columns.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in frame.columns]
        if unknown:
            console().print(f"[red]Unknown column(s) {', '.join(unknown)}; {table} has: {', '.join(frame.columns)}[/red]")
            raise typer.Exit(2)
        frame = frame[wanted]
    show_frame(frame, title=f"{table} ({len(frame)} rows)", max_rows=rows)


@data_app.command("sources")
def sources(
    world: WorldOption = "world2024",
    table: Annotated[str | None, typer.Option("--table", "-t", help="Only the values of this table.")] = None,
) -> None:
    """List the sources of the dataset and how many values cite each, by status."""
    from reesim.world.provenance import provenance_records

    w = _load(world, check=False)
    records = provenance_records(w.schema, w.tables)
    if table is not None:
        records = records[records["table"] == table]
    counts = records.pivot_table(index="source", columns="status", values="key", aggfunc="count", fill_value=0)
    listing = w["sources"].set_index("source").join(counts, how="inner").reset_index()
    show_frame(listing, title="Sources and the number of values citing each, by status")
    by_status = records["status"].value_counts()
    console().print("Values by status: " + ", ".join(f"{k} {v}" for k, v in by_status.items()))


@data_app.command("check")
def check(world: WorldOption = "world2024") -> None:
    """Validate the dataset against its schema and run the consistency checks; exit 1 on any failure."""
    from reesim.world.checks import run_checks

    w = _load(world, check=False)
    results = run_checks(w)
    frame = pd.DataFrame(
        [("ok" if r.ok else "FAIL", r.name, r.problem.render() if r.problem else r.message) for r in results],
        columns=["result", "check", "detail"],
    )
    show_frame(frame, title=f"Checks of {w.name}")
    if not all(r.ok for r in results):
        raise typer.Exit(1)
    console().print("[green]All checks passed.[/green]")


@data_app.command("import-usgs")
def import_usgs(
    path: Annotated[Path, typer.Argument(help="USGS MCS data release CSV (all commodities, as published) or the Data Series 140 rare-earth workbook (.xlsx).", exists=True, dir_okay=False)],
    world: WorldOption = "world2024",
    write: Annotated[Path | None, typer.Option("--write", help="Write the updated dataset to this new folder.")] = None,
    rows: Annotated[int, typer.Option("--rows", "-n", help="Rows to show at most.")] = 60,
) -> None:
    """Compare a USGS data file with the dataset (production, reserves, prices, US statistics); optionally write an update."""
    from reesim.usgs.compare import diff_world, diff_world_ds140, write_updated_world
    from reesim.usgs.ds140 import read_ds140
    from reesim.usgs.mcs import read_mcs_rare_earths

    try:
        if path.suffix.lower() == ".xlsx":
            series = read_ds140(path)
            show_frame(series.reset_index().tail(rows), title=f"USGS Data Series 140: {path.name} "
                       f"({series.index.min()}-{series.index.max()}, t REO and USD/t)")
            diff = diff_world_ds140(_load(world, check=False), series)
            changed = diff[diff["change"] != "same"]
            show_frame(changed, title=f"{path.name} against world {world}: {len(changed)} of {len(diff)} "
                       "shared values differ", max_rows=rows)
            if write is not None:
                console().print("[yellow]--write applies to MCS data releases only; the DS140 series is historical.[/yellow]")
            return
        mcs = read_mcs_rare_earths(path)
    except InputError as exc:
        console().print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    w = _load(world, check=False)
    diff = diff_world(w, mcs)
    changed = diff[diff["change"] != "same"]
    show_frame(changed, title=f"{path.name} against world {w.name}: {len(changed)} of {len(diff)} values differ",
               max_rows=rows)
    if write is not None:
        try:
            out = write_updated_world(w, mcs, write, source_file=path.name)
        except (InputError, DatasetError, FileExistsError) as exc:
            console().print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
        console().print(f"[green]Updated dataset written to {out}; check it with `reesim data check --world {out}`.[/green]")
