"""`reesim report`: figures and a self-contained HTML page for stored runs, optionally compared."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reesim.cli.render import console
from reesim.cli.runs import StoreOption, fail, open_store
from reesim.errors import InputError


def report(
    run: Annotated[str, typer.Argument(help="Stored run to report on (its id or an unambiguous start of it).")],
    compare: Annotated[list[str] | None, typer.Option("--compare", "-c",
                                                      help="Stored run to show beside it (repeat for more).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o",
                                             help="Folder for report.html and the PNGs (default: report-RUN).")] = None,
    store: StoreOption = None,
) -> None:
    """Write an HTML report (figures embedded) and the PNG of each figure for a run and its comparisons."""
    from rich.progress import Progress

    from reesim.report import build_report, stored_view

    try:
        runs = open_store(store)
        ids = [runs.resolve(r) for r in [run, *(compare or [])]]
    except InputError as exc:
        raise fail(exc) from exc
    target = out if out is not None else Path(f"report-{ids[0]}")
    with Progress(console=console(), transient=True) as bar:
        task = bar.add_task("Reading runs", total=len(ids))
        views = []
        for rid in ids:
            views.append(stored_view(runs, rid))
            bar.advance(task)
        bar.update(task, description="Drawing figures", completed=0, total=None)
        written = build_report(views, target,
                               progress=lambda done, total: bar.update(task, completed=done, total=total))
    console().print(f"[green]Report written to {written.html} with {len(written.figures)} figure(s)[/green]")
    for key in written.missing:
        console().print(f"[yellow]{key}: not in this run[/yellow]")
