"""`reesim backtest 2010`: simulated against recorded prices and China's exports, as tables, a PNG or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from reesim.cli.render import console, show_frame
from reesim.cli.runs import fail
from reesim.errors import InputError

EPISODES = ("2010",)


def backtest(
    episode: Annotated[str, typer.Argument(help="The episode to back-test: 2010 (the 2010-2011 crisis).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON instead of tables.")] = False,
    figure: Annotated[Path | None, typer.Option("--figure", "-f", help="PNG to write (default: backtest-2010.png; "
                                                                       "none with --json unless given).")] = None,
    params: Annotated[Path | None, typer.Option("--params", help="calibration.json whose point estimate to run "
                                                                 "(default: the calibration shipped with reesim).")]
    = None,
    posterior: Annotated[bool, typer.Option("--posterior", help="Also run every draw of the calibration's "
                                                                "posterior sample and report how often each "
                                                                "criterion holds.")] = False,
    draws: Annotated[int | None, typer.Option("--draws", min=1, help="With --posterior, run only the first N "
                                                                     "draws (default: all).")] = None,
) -> None:
    """Run the 2010-crisis scenario with the calibrated parameters and set it against the record; with
    --posterior, across the calibration's posterior sample too."""
    from reesim.backtest.compare import run_backtest
    from reesim.calibration.result import read_parameters

    if episode not in EPISODES:
        raise fail(InputError(None, "episode", f"no back-test for {episode!r}", f"use one of {', '.join(EPISODES)}"))
    try:
        bt = run_backtest(read_parameters(params))
        spread = None
        if posterior:
            from reesim.backtest.posterior import run_posterior_backtest

            spread = run_posterior_backtest("calibrated_2010" if params is None else params, limit=draws)
    except InputError as exc:
        raise fail(exc) from exc
    target = figure if figure is not None or as_json else Path("backtest-2010.png")
    if target is not None:
        from reesim.backtest.figure import backtest_figure

        backtest_figure(bt, spread).savefig(target)
    if as_json:
        figures = bt.to_json()
        if spread is not None:
            figures["posterior"] = spread.to_json()
        typer.echo(json.dumps(figures, indent=2))
        return
    summary = bt.summary.reset_index()[["product", "recorded_peak_year", "simulated_peak_year",
                                        "simulated_peak_month", "recorded_peak_to_2009", "simulated_peak_to_2009",
                                        "recorded_end2013_to_peak", "simulated_end2013_to_peak"]]
    show_frame(summary.round(3), title="Peaks: year, peak over the 2009 average, end-2013 price over the peak")
    show_frame(bt.prices[["product", "label", "recorded", "simulated"]].round(2),
               title="Export-market prices, USD/kg: recorded and the same statistic simulated")
    show_frame(bt.annual.round(2).reset_index(names="product").rename(columns=str),
               title="Simulated annual mean export-market price, USD/kg")
    show_frame(bt.exports, title="China's exports of oxides and metals against its quota, t")
    show_frame(bt.domestic[["product", "label", "recorded", "simulated", "simulated_over_recorded"]].round(2),
               title="China's own prices, USD/kg: spot quotes against the simulated price in China (not fitted; "
                     f"RMS log distance {bt.domestic_rms:.3f})")
    checks = bt.checks()
    show_frame(checks, title=f"Criteria of the back-test: {int(checks['passed'].sum())} of {len(checks)} hold")
    if spread is not None:
        rms = spread.rms_quantiles().round(3).tolist()
        show_frame(spread.checks.round(3), title=f"The criteria across {spread.price_rms.size} posterior draws: "
                   f"share of draws in which each holds, and the 5/50/95 % quantiles of the simulated value; "
                   f"all hold in {spread.all_hold:.0%} of draws; export-price RMS {rms[0]}/{rms[1]}/{rms[2]}")
    if target is not None:
        console().print(f"[green]Figure written to {target}[/green]")
