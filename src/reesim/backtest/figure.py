"""The back-test figure: simulated export-market prices against the record, and China's exports."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from reesim.backtest.compare import Backtest
from reesim.backtest.posterior import PosteriorBacktest
from reesim.backtest.record import DOMESTIC_PRODUCTS, PRODUCTS
from reesim.report.style import dates, figure

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

SOURCE = ("Recorded: facts.md D (Lynas 2009 averages; Mining.com, AFR/NYT 2011; USGS MCS 2016 year-ends; MOFCOM "
          "quotas and exports); in China: SMM via Reuters 2011-12, Rare Earths MMI 2013. Simulated: reesim "
          "2010-crisis scenario with the calibrated parameters; "
          "export price = destination price less freight, weighted by China's exports of the oxide and its metal "
          "(at oxide content) over the last twelve months.")


def backtest_figure(bt: Backtest, spread: PosteriorBacktest | None = None) -> Figure:
    """Five price panels (log scale; lines simulated, dots and bars recorded: export prices in blue and black,
    China's own in orange; with `spread`, the posterior draws' 5-95 % band of the export price shaded) and an
    exports panel."""
    fig, axes = figure("Back-test of the 2010-2011 crisis: simulated against recorded", SOURCE, ncols=3, nrows=2,
                       width=4.4, height=3.1)
    times = pd.DatetimeIndex(bt.monthly["time"].values)
    for ax, product in zip(axes.flat, PRODUCTS):
        engine = bt.summary.at[product, "engine_product"]
        if spread is not None:
            band = np.maximum(spread.band.sel(product=engine).values, 1e-2)
            ax.fill_between(pd.DatetimeIndex(spread.band["time"].values), band[0], band[-1], color="tab:blue",
                            alpha=0.15, linewidth=0, label=f"posterior 5-95 % ({spread.price_rms.size} draws)")
        ax.plot(times, np.maximum(bt.monthly.sel(product=engine).values, 1e-2), color="tab:blue", linewidth=1.4,
                label="simulated")
        rows = bt.prices[bt.prices["product"] == product]
        at = [pd.Timestamp(f"{r.year}-07-01") if r.kind == "mean" else
              pd.Timestamp(f"{r.year}-{_month(r.label)}-15") for r in rows.itertuples()]
        low = rows["recorded"] - rows["low"]
        high = rows["high"] - rows["recorded"]
        ax.errorbar(at, rows["recorded"], yerr=[low, high], fmt="o", color="black", markersize=4, capsize=2,
                    label="recorded")
        if engine in DOMESTIC_PRODUCTS:  # China's own price, simulated and quoted (reported, not fitted)
            ax.plot(times, np.maximum(bt.monthly_domestic.sel(product=engine).values, 1e-2), color="tab:orange",
                    linewidth=1.0, label="simulated in China")
            quotes = bt.domestic[bt.domestic["product"] == engine]
            ax.plot([pd.Timestamp(f"{month}-15") for month in quotes["month"]], quotes["recorded"], "s",
                    color="tab:orange", markersize=4, markeredgecolor="black", label="recorded in China")
        ax.set_yscale("log")
        name = product.split(":")[1] + (" (NdPr in the engine)" if engine != product else "")
        ax.set_title(f"{name} oxide, USD/kg", fontsize=10)
        dates(ax)
    ax = axes.flat[5]
    years = bt.exports["year"].to_numpy()
    ax.bar(years - 0.2, bt.exports["simulated"] / 1e3, width=0.4, color="tab:blue", label="simulated")
    ax.bar(years + 0.2, bt.exports["recorded"].astype(float) / 1e3, width=0.4, color="black", label="recorded")
    ax.step(years, bt.exports["quota"].astype(float) / 1e3, where="mid", color="tab:red", label="quota")
    ax.set_title("China's exports of oxides and metals, kt", fontsize=10)
    ax.legend(fontsize=7, frameon=False)
    axes.flat[0].legend(fontsize=7, frameon=False)
    return fig


def _month(label: str) -> str:
    """Month in which a recorded point sits on the time axis (its label: 'end 2012', 'Q2 2011', ...)."""
    if label.startswith("end"):
        return "12"
    if label.startswith("Q2"):
        return "05"
    if label.startswith("January"):
        return "01"
    return "08"  # a 2011 peak: August (Ce) to autumn (Dy)
