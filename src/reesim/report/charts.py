"""The report's charts. Each takes the runs to show and returns a `Chart`: a drawn figure, or a note
saying why there is none ("not in this run") when the runs did not record what the chart needs.

Colours and line styles mean the same thing across charts: in panels by region or stage, colour is the
run; where colour is a stage or a destination, runs are told apart by line style or by panel.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from reesim.report import style

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

PRICE_PRODUCTS = ("oxide:NdPr", "oxide:Dy", "oxide:Tb", "magnet:NdFeB")
PRICE_REGIONS = ("CHN", "USA", "EU", "JPN")
STAGE_ORDER = ("mining", "separation", "metal", "magnet")
DESTINATION_GROUPS = ("g7", "partner", "neutral")
EXPORTER = "CHN"
TITLES = {
    "price": "Price of {product} by region",
    "china-share": "China's share of each stage's output",
    "trade-controlled": "China's exports of products under control, by destination",
    "shortfall": "Unmet demand by region and sector",
    "fiscal-cost": "Fiscal cost of the instruments",
    "leverage": "Leverage: concentration by stage and G7 dependence on China",
}


@dataclass(frozen=True)
class RunView:
    """A run as the report sees it: its label (the run id) and its dataset."""

    label: str
    dataset: xr.Dataset

    @property
    def manifest(self) -> dict:
        import json

        return json.loads(self.dataset.attrs["manifest"])


@dataclass(frozen=True)
class Chart:
    """One figure of the report, or the reason it is missing."""

    key: str  # file stem of the PNG
    title: str
    caption: str
    figure: Figure | None = field(default=None, repr=False)
    missing: str = ""


@dataclass(frozen=True)
class ChartSpec:
    """A chart the report can draw, known by key and title before it is drawn (drawing takes a while)."""

    key: str
    title: str
    draw: Callable[[], Chart] = field(repr=False)


def price_key(product: str) -> str:
    return f"price-{product.replace(':', '-')}"


def source(runs: Sequence[RunView]) -> str:
    """The source line printed under every figure: code, data and scenario of each run."""
    parts = []
    for run in runs:
        m = run.manifest
        parts.append(f"{run.label}: scenario {m['scenario']['name']}, {m['members']} member(s), seed {m['seed']}, "
                     f"data {m['world']} {m['data_version']}")
    code = sorted({r.manifest["code_version"] for r in runs})
    return f"Source: reesim {', '.join(code)} simulation. " + "; ".join(parts)


def prices(runs: Sequence[RunView], product: str) -> Chart:
    """Price of one product in the main regions, each run's median and 5-95 % band over members."""
    key, title = price_key(product), TITLES["price"].format(product=product)
    if not any("product" in r.dataset.coords and product in r.dataset["product"].values for r in runs):
        return Chart(key, title, "", missing=f"not in this run: no product {product}")
    fig, axes = style.figure(title, source(runs), ncols=2, nrows=2, sharey=True)
    for ax, region in zip(axes.flat, PRICE_REGIONS, strict=True):
        for run, colour in zip(runs, style.colours(len(runs)), strict=True):
            if "price" in run.dataset:
                style.band(ax, run.dataset["price"].sel(product=product, region=region), colour, run.label)
        ax.set_title(region, fontsize=9)
        ax.set_ylabel("USD/kg", fontsize=8)
        style.dates(ax)
    style.legend(fig, axes.flat)
    caption = (f"Monthly market price of {product} in {', '.join(PRICE_REGIONS)}, USD/kg: line the median over "
               "members, band the 5-95 % range.")
    return Chart(key, title, caption, fig)


def china_share(runs: Sequence[RunView]) -> Chart:
    """China's share of each stage's output, where plants are (location) and who runs them (controller)."""
    from reesim.results import Results

    title = TITLES["china-share"]
    fig, axes = style.figure(title, source(runs), ncols=2, sharey=True)
    stages = style.colours(len(STAGE_ORDER))
    for ax, by in zip(axes.flat, ("location", "controller"), strict=True):
        for run, line in zip(runs, style.run_styles(len(runs)), strict=True):
            share = Results(run.dataset).statistics.stage_share(EXPORTER, by=by) * 100
            for stage, colour in zip(STAGE_ORDER, stages, strict=True):
                if stage in share["stage"]:
                    style.band(ax, share.sel(stage=stage), colour, None, line)
        ax.set_title(f"by {by}", fontsize=9)
        ax.set_ylabel("% of world output", fontsize=8)
        ax.set_ylim(0, 100)
        style.dates(ax)
    style.key(fig, dict(zip(STAGE_ORDER, stages, strict=True)), _run_styles(runs))
    caption = ("Share of each stage's world output made in China (by location) and made by plants China controls "
               "wherever they are (by controller), %: median over members and 5-95 % band; line style is the run.")
    return Chart("china-share", title, caption, fig)


def controlled_trade(runs: Sequence[RunView], products: list[str], origin: str) -> Chart:
    """China's exports of the products under control, by destination group."""
    title = TITLES["trade-controlled"]
    have = [r for r in runs if "trade" in r.dataset]
    if not have:
        return Chart("trade-controlled", title, "", missing="not in this run: trade flows were not kept "
                     "(runs with many members keep them only when asked)")
    fig, axes = style.figure(title, source(runs), ncols=len(runs), sharey=True)
    groups = style.colours(len(DESTINATION_GROUPS))
    for ax, run in zip(axes.flat, runs, strict=True):
        ax.set_title(run.label, fontsize=9)
        if run not in have:
            style.message(ax, "trade not in this run")
            continue
        ds = run.dataset
        flows = ds["trade"].sel(origin=EXPORTER, product=products).sum("product")
        alignment = ds["alignment"].rename(region="destination")
        for group, colour in zip(DESTINATION_GROUPS, groups, strict=True):
            into = flows.where(alignment == group, 0.0).sum("destination")
            style.band(ax, into, colour, group)
        ax.set_ylabel("t/month", fontsize=8)
        style.dates(ax)
    style.legend(fig, axes.flat)
    caption = (f"Monthly exports from China of the products {origin} ({', '.join(products)}), summed in tonnes, "
               "by the alignment of the destination: median over members and 5-95 % band.")
    return Chart("trade-controlled", title, caption, fig)


def shortfalls(runs: Sequence[RunView]) -> Chart:
    """Cumulative unmet demand by region, stacked by sector."""
    title = TITLES["shortfall"]
    totals = {r.label: r.dataset["shortfall"].sum("time").mean("member") for r in runs if "shortfall" in r.dataset}
    if not totals:
        return Chart("shortfall", title, "", missing="not in this run: shortfall was not kept")
    regions = [str(x) for x in next(iter(totals.values()))["region"].values
               if any(float(t.sel(region=x).sum()) > 0 for t in totals.values())]
    fig, axes = style.figure(title, source(runs), ncols=len(runs), sharey=True, width=5.0)
    sectors = [str(s) for s in next(iter(totals.values()))["sector"].values]
    for ax, run in zip(axes.flat, runs, strict=True):
        ax.set_title(run.label, fontsize=9)
        total = totals.get(run.label)
        if total is None:
            style.message(ax, "shortfall not in this run")
            continue
        if not regions:
            style.message(ax, "no unmet demand in any member")
            continue
        bottom = np.zeros(len(regions))
        for sector, colour in zip(sectors, style.colours(len(sectors)), strict=True):
            values = total.sel(region=regions, sector=sector).values
            ax.bar(regions, values, bottom=bottom, color=colour, label=sector)
            bottom += values
        ax.set_ylabel("USD million (2024 prices)", fontsize=8)
        ax.tick_params(axis="x", rotation=60)
    style.legend(fig, axes.flat)
    caption = ("Demand left unmet over the whole run, valued at 2024 prices, USD million: mean over members, "
               "by region (regions with none left out) and end-use sector.")
    return Chart("shortfall", title, caption, fig)


def fiscal_cost(runs: Sequence[RunView]) -> Chart:
    """Cumulative fiscal cost of each instrument (payments less revenues, all payers)."""
    title = TITLES["fiscal-cost"]
    have = [r for r in runs if "fiscal_cost" in r.dataset]
    if not have:
        return Chart("fiscal-cost", title, "", missing="not in this run: the runs have no instrument that pays or "
                     "collects (fiscal cost is recorded for timelines with floors, subsidies, stockpiles, taxes)")
    fig, axes = style.figure(title, source(runs), ncols=len(runs), sharey=True)
    for ax, run in zip(axes.flat, runs, strict=True):
        ax.set_title(run.label, fontsize=9)
        if run not in have:
            style.message(ax, "fiscal cost not in this run")
            continue
        cost = run.dataset["fiscal_cost"].sum("payer").cumsum("time")
        names = [str(i) for i in cost["instrument"].values]
        for name, colour in zip(names, style.colours(len(names)), strict=True):
            style.band(ax, cost.sel(instrument=name), colour, name)
        ax.set_ylabel("USD million, cumulative", fontsize=8)
        style.dates(ax)
    style.legend(fig, axes.flat)
    caption = ("Cumulative cost to the paying governments of each timeline event, payments less revenues, USD million: "
               "median over members and 5-95 % band.")
    return Chart("fiscal-cost", title, caption, fig)


def leverage(runs: Sequence[RunView], products: list[str]) -> Chart:
    """Concentration of each stage (HHI) and the G7's dependence on China for the controlled products."""
    from reesim.results import Results

    title = TITLES["leverage"]
    fig, axes = style.figure(title, source(runs), ncols=2)
    stages = style.colours(len(STAGE_ORDER))
    hhi_ax, dep_ax = axes.flat
    for run, line in zip(runs, style.run_styles(len(runs)), strict=True):
        hhi = Results(run.dataset).statistics.hhi()
        for stage, colour in zip(STAGE_ORDER, stages, strict=True):
            if stage in hhi["stage"]:
                style.band(hhi_ax, hhi.sel(stage=stage), colour, None, line)
    hhi_ax.set_title("HHI of output across regions", fontsize=9)
    hhi_ax.set_ylabel("index (0-10,000)", fontsize=8)
    style.dates(hhi_ax)
    have = [r for r in runs if "trade" in r.dataset]
    for run, line in zip(runs, style.run_styles(len(runs)), strict=True):
        if run in have:
            style.band(dep_ax, g7_dependence(run.dataset, products) * 100, "black", None, line)
    if have:
        dep_ax.set_title("G7 use of controlled products supplied by China", fontsize=9)
        dep_ax.set_ylabel("% of G7 use", fontsize=8)
        dep_ax.set_ylim(0, 100)
        style.dates(dep_ax)
    else:
        style.message(dep_ax, "dependence needs trade flows: not in this run")
    style.key(fig, dict(zip(STAGE_ORDER, stages, strict=True)), _run_styles(runs))
    caption = ("Left: Herfindahl-Hirschman index of each stage's output across regions (10,000 is one region), "
               "colour is the stage. Right: share of the G7's use (final demand and plant purchases) of the "
               "controlled products that flows from China. Median over members and 5-95 % band; line style is the run.")
    return Chart("leverage", title, caption, fig)


def _run_styles(runs: Sequence[RunView]) -> dict[str, str]:
    return {r.label: line for r, line in zip(runs, style.run_styles(len(runs)), strict=True)}


def g7_dependence(ds: xr.Dataset, products: list[str]) -> xr.DataArray:
    """Share of G7 use of `products` that comes from China's exports, by member and month."""
    g7 = [str(r) for r, a in zip(ds["region"].values, ds["alignment"].values, strict=True) if a == "g7"]
    flow = ds["trade"].sel(origin=EXPORTER, destination=g7, product=products).sum(["destination", "product"])
    use = (ds["consumption"] + ds["purchases"]).sel(region=g7, product=products).sum(["region", "product"])
    return flow / use.where(use > 0)


def chart_builders(runs: Sequence[RunView]) -> list[ChartSpec]:
    """Every chart of the report, in reading order, each drawn only when its `draw` is called."""
    from reesim.report.controls import controlled_products

    products, origin = controlled_products(r.manifest for r in runs)
    specs = [ChartSpec(price_key(p), TITLES["price"].format(product=p), lambda p=p: prices(runs, p))
             for p in PRICE_PRODUCTS]
    draws = {"china-share": lambda: china_share(runs),
             "trade-controlled": lambda: controlled_trade(runs, products, origin),
             "shortfall": lambda: shortfalls(runs),
             "fiscal-cost": lambda: fiscal_cost(runs),
             "leverage": lambda: leverage(runs, products)}
    return specs + [ChartSpec(key, TITLES[key], draw) for key, draw in draws.items()]
