"""`reesim scenarios`, `reesim validate` and `reesim schema`: the scenario language from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.markup import escape

from reesim.cli.render import console, show_frame


def scenarios(
    name: Annotated[str | None, typer.Argument(help="Show the page of one built-in scenario.")] = None,
) -> None:
    """List the built-in scenarios, one line each, or print one scenario's page and timeline."""
    from reesim.policy.schedule import event_labels
    from reesim.scenario import BUILTIN_SCENARIOS

    if name is None:
        frame = pd.DataFrame(
            [(n, s.extends or "", len(s.timeline), s.description) for n, s in BUILTIN_SCENARIOS.items()],
            columns=["scenario", "extends", "events", "description"],
        )
        show_frame(frame, title="Built-in scenarios (reesim scenarios NAME shows a page)")
        return
    if name not in BUILTIN_SCENARIOS:
        console().print(
            f"[red]no built-in scenario {name!r}[/red]; use one of {', '.join(BUILTIN_SCENARIOS)}"
        )
        raise typer.Exit(2)
    scenario = BUILTIN_SCENARIOS[name]
    out = console()
    out.print(f"[bold]{scenario.name}[/bold]: {scenario.description}\n")
    out.print(scenario.notes)
    if scenario.sources:
        out.print("[bold]Sources[/bold]: " + "; ".join(scenario.sources))
    rows = [
        (label, e.instrument, e.start, e.end or "", e.note)
        for label, e in zip(event_labels(scenario.timeline), scenario.timeline)
    ]
    show_frame(
        pd.DataFrame(rows, columns=["event", "instrument", "start", "end", "note"]),
        title="Timeline (including the events of the scenarios it extends)",
    )


def validate(file: Annotated[Path, typer.Argument(help="A YAML scenario file.")]) -> None:
    """Check a scenario file and report every problem with its line, key and fix (exit code 1 if any)."""
    from reesim.scenario_files import check_file

    problems = check_file(file)
    if not problems:
        console().print(f"[green]{file}: valid[/green]")
        return
    for problem in problems:
        console().print(f"[red]{escape(problem.render())}[/red]", soft_wrap=True)
    console().print(f"{len(problems)} problem(s)")
    raise typer.Exit(1)


def schema(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the JSON Schema to this file.")
    ] = None,
) -> None:
    """Export the JSON Schema of scenario files (every key and instrument, with its documentation)."""
    from reesim.scenario import Scenario

    text = json.dumps(Scenario.model_json_schema(), indent=2)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        console().print(f"[green]JSON Schema written to {out}[/green]")
