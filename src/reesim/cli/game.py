"""`reesim game`: play a grid of China x G-7 strategies over an ensemble and analyse the game.

Every profile is simulated with the same members (`reesim.actors.grid`); each run's metrics become both
players' payoffs through configurable objectives (`reesim.game.payoffs`); the report gives pure and mixed
Nash equilibria and the Stackelberg outcome with China leading, each with the share of members in which
it holds (`reesim.game.analysis`), as tables, a PNG figure, or JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from reesim.cli.render import console, show_frame
from reesim.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from reesim.game.analysis import GameAnalysis
    from reesim.game.payoffs import Objectives

DEFAULT_CHINA = "status-quo,calibrated-coercion,blunt-ban,inducement-first"
DEFAULT_G7 = "passive,price-floor-club,stockpile-and-floor,decouple"
SUMMARY = {  # column of the yearly table -> heading (median over members)
    "non_china_separation_capacity": "non-China separation t/yr",
    "non_china_magnet_capacity": "non-China magnet t/yr",
    "china_export_revenue": "China export revenue",
    "china_licence_rent": "licence rent",
    "g7_unmet_value": "G-7 unmet demand",
    "g7_fiscal_cost": "G-7 fiscal cost",
    "months_of_controls": "months of controls",
}


def game(
    scenario: Annotated[str, typer.Argument(help="Built-in scenario or YAML file the strategies play in.")] = "baseline",
    china: Annotated[str, typer.Option(help="China's strategies, comma-separated built-in names.")] = DEFAULT_CHINA,
    g7: Annotated[str, typer.Option("--g7", help="The G-7's strategies, comma-separated built-in names.")] = DEFAULT_G7,
    members: Annotated[int, typer.Option("--members", "-m", help="Ensemble members per profile.")] = 3,
    end: Annotated[str, typer.Option(help="Last month simulated, YYYY-MM.")] = "2032-12",
    seed: Annotated[int | None, typer.Option(help="Seed of the ensemble (default: the scenario's).")] = None,
    year: Annotated[int | None, typer.Option(help="Year of the profile summary (default: the last).")] = None,
    partners: Annotated[bool, typer.Option(help="Malaysia and Australia play their partner rules.")] = True,
    leverage_path: Annotated[bool, typer.Option(help="Leverage index every January (slower), not only at "
                                                "the end.")] = False,
    objectives: Annotated[Path | None, typer.Option(help="YAML or JSON file of objectives "
                                                    "(china/g7 weights per metric).")] = None,
    metrics: Annotated[Path | None, typer.Option(help="Analyse this saved metrics table (CSV or Parquet) "
                                                 "instead of simulating.")] = None,
    save: Annotated[Path | None, typer.Option(help="Write the metrics table (CSV or Parquet).")] = None,
    figure: Annotated[Path | None, typer.Option(help="Write the figure (PNG) here.")] = Path("reesim-game.png"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Evaluate a grid of strategy profiles and report Nash equilibria and China's Stackelberg leadership."""
    from reesim.cli.runs import fail

    try:
        goals = _objectives(objectives)
        if metrics is not None:
            table, summary, lever = _read_table(metrics), None, None
        else:
            table, summary, lever = _simulate(scenario, china, g7, members, end, seed, partners, leverage_path,
                                              quiet=as_json)
        if save is not None:
            _write_table(table, save)
        from reesim.game.analysis import analyse, as_record
        from reesim.game.payoffs import payoff_tables

        china_pay, g7_pay = payoff_tables(table, goals, source=str(metrics) if metrics else None)
        analysis = analyse(china_pay, g7_pay)
    except InputError as exc:
        raise fail(exc) from exc
    picked = _summary(summary, year)
    path = None
    if figure is not None:
        from reesim.game.figure import draw

        path = draw(analysis, figure)
    if as_json:
        record = as_record(analysis)
        record["objectives"] = goals.model_dump()
        record["profiles"] = [] if picked is None else picked.to_dict(orient="records")
        record["leverage"] = [] if lever is None else _median_leverage(lever).to_dict(orient="records")
        record["figure"] = str(path) if path else None
        typer.echo(json.dumps(record, indent=2, default=str))
        return
    _show(analysis, picked, lever, path)


def _objectives(path: Path | None) -> Objectives:
    from pydantic import ValidationError

    from reesim.game.payoffs import Objectives

    if path is None:
        return Objectives()
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(str(path), None, f"cannot read objectives: {exc}", "give a YAML or JSON file") from exc
    try:
        return Objectives.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(str(path), ".".join(map(str, first["loc"])), first["msg"],
                         "write `china: {weights: {metric: weight}}` and `g7: {weights: ...}`") from exc


def _simulate(scenario: str, china: str, g7: str, members: int, end: str, seed: int | None, partners: bool,
              leverage_path: bool, quiet: bool) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from rich.progress import Progress

    from reesim.actors.grid import evaluate_grid
    from reesim.actors.leverage import LeverageSpec
    from reesim.actors.partner import PartnerSpec
    from reesim.actors.strategies import PARTNER_PRESETS
    from reesim.scenario import load_scenario

    chosen = load_scenario(scenario, members=members, end=end, seed=seed)
    base_year = chosen.base_month.year
    starts = [f"{y}-01" for y in range(base_year + 1, int(end[:4]))] if leverage_path else None
    others = [PartnerSpec(**p) for p in PARTNER_PRESETS.values()] if partners else []
    with Progress(console=console(), transient=True, disable=quiet) as bar:
        task = bar.add_task("Playing profiles", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"Playing {label}")

        result = evaluate_grid(chosen, _names(china), _names(g7), others, leverage=LeverageSpec(starts=starts),
                               progress=progress)
    return result.outcomes, result.yearly, result.leverage


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(str(path), None, "no such file", "give a metrics table written by `reesim game --save`")
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def _write_table(table: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, index=False)


def _summary(yearly: pd.DataFrame | None, year: int | None) -> pd.DataFrame | None:
    """Median over members of the yearly summary in `year` (default the last), per profile."""
    if yearly is None or yearly.empty:
        return None
    year = year or int(yearly["year"].max())
    if year not in set(yearly["year"]):
        raise InputError(None, "--year", f"{year} is not simulated",
                         f"choose a year from {yearly['year'].min()} to {yearly['year'].max()}")
    chosen = yearly[yearly["year"] == year]
    frame = chosen.groupby(["china_strategy", "g7_strategy"], sort=False)[list(SUMMARY)].median().reset_index()
    return frame.assign(year=year)


def _median_leverage(lever: pd.DataFrame) -> pd.DataFrame:
    frame = lever.assign(start=pd.to_datetime(lever["start"]).dt.year)
    return frame.groupby(["china_strategy", "g7_strategy", "start"], sort=False)[["damage", "loss", "index"]] \
        .median().reset_index()


def _show(analysis: GameAnalysis, picked: pd.DataFrame | None, lever: pd.DataFrame | None, path: Path | None) -> None:
    report = analysis.robustness
    out = console()
    if picked is not None:
        year = int(picked["year"].iloc[0])
        show_frame(picked.drop(columns="year").rename(columns=SUMMARY),
                   title=f"Profiles in {year} (median over members; money in USD million)")
    if lever is not None and not lever.empty:
        path_table = _median_leverage(lever).pivot_table(index=["china_strategy", "g7_strategy"], columns="start",
                                                         values="index", sort=False).reset_index()
        show_frame(path_table.rename(columns=str), title="Leverage index by start year (median over members)")
    for player, frame in (("China", report.median_row), ("G-7", report.median_col)):
        show_frame((frame / 1e3).round(2).reset_index(names="China \\ G-7"),
                   title=f"{player}'s payoff, USD bn (median over {report.members} member(s))")
    rows = report.table.assign(
        china=report.table["row_support"].map(" + ".join), g7=report.table["col_support"].map(" + ".join),
        share=(report.table["share"] * 100).round(0),
        china_mix=report.table["row_mix"].map(_mix), g7_mix=report.table["col_mix"].map(_mix))
    show_frame(rows[["kind", "china", "g7", "share", "in_median", "china_mix", "g7_mix"]]
               .rename(columns={"share": "% of members", "in_median": "in median game"}),
               title="Equilibria and Stackelberg outcomes (China leading)")
    if report.degenerate_members:
        out.print(f"[yellow]{report.degenerate_members} member(s) have degenerate games: mixed equilibria "
                  "listed there may be incomplete.[/yellow]")
    if analysis.commitment is not None:
        c = analysis.commitment
        mix = ", ".join(f"{lab} {p:.0%}" for lab, p in zip(c.row_labels, c.row_mix, strict=True) if p > 0)
        reply = ", ".join(lab for lab, p in zip(c.col_labels, c.col_mix, strict=True) if p > 0)
        out.print(f"China's best mixed commitment in the median game: {mix}; the G-7 replies {reply} "
                  f"(payoffs {c.row_payoff / 1e3:,.2f} and {c.col_payoff / 1e3:,.2f} USD bn).")
    if path is not None:
        out.print(f"[green]Figure written to {path}[/green]")


def _mix(mix: tuple[float, ...] | None) -> str:
    return "" if mix is None else " / ".join(f"{p:.2f}" for p in mix)
