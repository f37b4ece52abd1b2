"""Entry point of the `reesim` command."""

from __future__ import annotations

import typer

from reesim._version import __version__
from reesim.cli.app import app as app_command
from reesim.cli.backtest import backtest
from reesim.cli.calibrate import calibrate
from reesim.cli.data import data_app
from reesim.cli.game import game
from reesim.cli.report import report
from reesim.cli.run import run
from reesim.cli.runs import runs_app
from reesim.cli.scenarios import scenarios, schema, validate

app = typer.Typer(
    name="reesim",
    help="Simulate the global rare-earth supply chain and the strategic game played over it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(data_app, name="data")
app.command("run")(run)
app.add_typer(runs_app, name="runs")
app.command("report")(report)
app.command("app")(app_command)
app.command("scenarios")(scenarios)
app.command("validate")(validate)
app.command("schema")(schema)
app.command("calibrate")(calibrate)
app.command("backtest")(backtest)
app.command("game")(game)


@app.command()
def version() -> None:
    """Print the reesim version."""
    typer.echo(__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
