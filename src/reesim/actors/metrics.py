"""Outcome metrics of a run with strategic actors, recorded month by month from the engine's steps.

`Recorder` keeps, per member and month, what the strategic analysis needs (formulas in docs/actors.md):

- China's export revenue at its own price and the licence rent on its capped export routes;
- the G-7's unmet final demand valued at base-year prices, and what it paid for rare-earth goods;
- China's share of each stage's throughput, and of the chain's value added, by location and by controller;
- non-Chinese available capacity by stage (lines China does not control), t/yr;
- non-Chinese supply by stage (by location and by controller) against the G-7's requirement at each stage,
  for the year in which non-Chinese supply first covers a share of G-7 demand (`coverage_year`);
- the fiscal cost of every instrument by paying region (the policy ledger), and China's controls intensity.

`outcomes` reduces a recorded run to one row per member with the metric names of the default objectives
(`reesim.game.payoffs`), the leverage index included when it was computed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from reesim.actors import signals
from reesim.engine.structure import STAGES

if TYPE_CHECKING:  # pragma: no cover
    from reesim.engine.core import StepResult
    from reesim.policy.builder import Ledger

SUPPORT_STAGES = ("separation", "magnet")  # the stages whose non-Chinese capacity counts as diversification

UNITS = {
    "china_export_revenue": "USD million/month", "china_licence_rent": "USD million/month",
    "g7_unmet_value": "USD million/month", "g7_prices_paid": "USD million/month",
    "china_share": "1", "china_value_added_share": "1", "non_china_capacity": "t/yr",
    "non_china_supply": "t/month", "g7_requirement": "t/month", "fiscal_cost": "USD million/month",
    "controls": "1",
}


class Recorder:
    """Monthly metrics of every member; `observe` each step, then `dataset`."""

    def __init__(self, view: signals.Lens, months: pd.PeriodIndex) -> None:
        self.view, self.months = view, months
        self._series: dict[str, list[np.ndarray]] = {name: [] for name in UNITS if name != "fiscal_cost"}

    def observe(self, last: StepResult, controls: np.ndarray) -> None:
        """Record one month; `controls` (M,) is the intensity of China's controls in force that month."""
        view, g7 = self.view, self.view.g7
        added = signals.value_added(view, last)
        total = added.sum(axis=1)
        rivals = {by: ~view.line_china[by] for by in signals.BY}
        output = last.throughput * view.recovery
        values = {
            "china_export_revenue": signals.export_revenue(view, last),
            "china_licence_rent": signals.licence_rent(view, last),
            "g7_unmet_value": signals.unmet_value(view, last, g7),
            "g7_prices_paid": signals.spending(last, g7),
            "china_share": np.stack([signals.china_stage_share(view, last, by) for by in signals.BY], axis=1),
            "china_value_added_share": np.stack(
                [np.divide((added * view.line_china[by]).sum(axis=1), total, out=np.ones_like(total),
                           where=total > 0) for by in signals.BY], axis=1),
            "non_china_capacity": signals.capacity(view, last, rivals["controller"]),
            "non_china_supply": np.stack([(output * rivals[by]) @ view.stage_lines.T for by in signals.BY], axis=1),
            "g7_requirement": signals.requirement(view, signals.final_demand(last, g7)),
            "controls": np.asarray(controls, dtype=float),
        }
        for name, value in values.items():
            self._series[name].append(value)

    def dataset(self, ledger: Ledger | None = None) -> xr.Dataset:
        """The recorded months as a Dataset (member, time, and stage or `by` where they apply)."""
        ctx = self.view.ctx
        coords = {"member": np.arange(ctx.members), "time": self.months.to_timestamp().values,
                  "stage": list(STAGES), "by": list(signals.BY)}
        dims = {"china_share": ("member", "time", "by", "stage"), "china_value_added_share": ("member", "time", "by"),
                "non_china_capacity": ("member", "time", "stage"), "g7_requirement": ("member", "time", "stage"),
                "non_china_supply": ("member", "time", "by", "stage")}
        data = {name: (dims.get(name, ("member", "time")), np.stack(values, axis=1), {"units": UNITS[name]})
                for name, values in self._series.items()}
        if ledger is not None:
            paid = sum(ledger.entries.values(), np.zeros((ctx.members, ledger.months, len(ledger.regions))))
            paid = paid[:, : len(self.months)]
            payers = [i for i in range(len(ledger.regions)) if np.abs(paid[..., i]).sum() > 0]
            coords["payer"] = [ledger.regions[i] for i in payers]
            data["fiscal_cost"] = (("member", "time", "payer"), paid[..., payers], {"units": UNITS["fiscal_cost"]})
        alignment = dict(zip(ctx.structure.regions, ctx.structure.alignment, strict=True))
        ds = xr.Dataset(data, coords=coords)
        if "payer" in ds.coords:
            ds = ds.assign_coords(payer_alignment=("payer", [alignment[p] for p in ds["payer"].values]))
        return ds


def coverage_year(metrics: xr.Dataset, share: float = 0.5, by: str = "controller") -> xr.DataArray:
    """(member, stage) the year from which non-Chinese supply covers `share` of the G-7's requirement.

    A year counts when its mean supply is at least `share` of its mean requirement, and the coverage year is
    the first year from which every later year of the run counts: a year in which controls crush G-7
    demand does not count as diversification achieved if coverage is lost again. NaN where the last year
    does not count. Supply by `by`: 'controller' counts plants China does not control wherever they are;
    'location' counts plants outside China whoever controls them.
    """
    if by not in signals.BY:
        raise ValueError(f"by must be one of {signals.BY}, not {by!r}")
    supply = metrics["non_china_supply"].sel(by=by, drop=True).groupby("time.year").mean()
    need = metrics["g7_requirement"].groupby("time.year").mean()
    covered = ((supply >= share * need) & (need > 0)).astype(int)
    backwards = slice(None, None, -1)
    durable = covered.isel(year=backwards).cumprod("year").isel(year=backwards).astype(bool)
    first = covered["year"].where(durable).min("year")
    first.attrs = {"units": "year", "description": f"year from which non-China supply (by {by}) covers "
                   f"{share:.0%} of G-7 demand"}
    return first


def g7_fiscal_cost(metrics: xr.Dataset) -> xr.DataArray:
    """(member, time) what the G-7's treasuries paid for instruments, USD million/month (0 if none)."""
    if "fiscal_cost" not in metrics:
        return xr.zeros_like(metrics["g7_unmet_value"])
    return metrics["fiscal_cost"].where(metrics["payer_alignment"] == "g7", 0.0).sum("payer")


def outcomes(metrics: xr.Dataset, leverage: xr.Dataset | None = None, exporter: str = "CHN") -> pd.DataFrame:
    """One row per member with the metrics of the default objectives (sums over the run unless noted).

    china_export_revenue, china_licence_rent, g7_shortfall_value, g7_prices_paid, g7_fiscal_cost and
    china_own_loss (China's fiscal outlays: rebates paid less taxes collected) are sums in USD million;
    china_value_added_share is the mean share by controller; non_china_capacity is the mean non-Chinese
    separation and magnet capacity of the last twelve months (t/yr) and diversification_provoked its rise
    over the first twelve months; leverage_index is the last one computed (left out without `leverage`).
    """
    support = metrics["non_china_capacity"].sel(stage=list(SUPPORT_STAGES)).sum("stage")
    paid = "fiscal_cost" in metrics and exporter in metrics["payer"]
    china_paid = metrics["fiscal_cost"].sel(payer=exporter).sum("time") if paid else xr.zeros_like(support.isel(time=0))
    table = {
        "china_export_revenue": metrics["china_export_revenue"].sum("time"),
        "china_licence_rent": metrics["china_licence_rent"].sum("time"),
        "china_value_added_share": metrics["china_value_added_share"].sel(by="controller").mean("time"),
        "china_own_loss": china_paid,
        "non_china_capacity": support.isel(time=slice(-12, None)).mean("time"),
        "diversification_provoked": (support.isel(time=slice(-12, None)).mean("time")
                                     - support.isel(time=slice(0, 12)).mean("time")),
        "g7_shortfall_value": metrics["g7_unmet_value"].sum("time"),
        "g7_fiscal_cost": g7_fiscal_cost(metrics).sum("time"),
        "g7_prices_paid": metrics["g7_prices_paid"].sum("time"),
        "months_of_controls": (metrics["controls"] > 0).sum("time"),
    }
    if leverage is not None:
        table["leverage_index"] = leverage["index"].isel(start=-1)
    frame = pd.DataFrame({name: np.asarray(values, dtype=float) for name, values in table.items()})
    frame.insert(0, "member", metrics["member"].values)
    return frame


def yearly(metrics: xr.Dataset) -> pd.DataFrame:
    """One row per member and year: flows summed (USD million), capacities and shares averaged."""
    by_year = metrics.groupby("time.year")
    capacity = by_year.mean()["non_china_capacity"]
    share = by_year.mean()["china_share"]
    columns = {
        "china_export_revenue": by_year.sum()["china_export_revenue"],
        "china_licence_rent": by_year.sum()["china_licence_rent"],
        "g7_unmet_value": by_year.sum()["g7_unmet_value"],
        "g7_fiscal_cost": g7_fiscal_cost(metrics).groupby("time.year").sum(),
        "months_of_controls": (metrics["controls"] > 0).groupby("time.year").sum(),
        "non_china_separation_capacity": capacity.sel(stage="separation", drop=True),
        "non_china_magnet_capacity": capacity.sel(stage="magnet", drop=True),
        "china_separation_share_controller": share.sel(stage="separation", by="controller", drop=True),
        "china_magnet_share_location": share.sel(stage="magnet", by="location", drop=True),
        "china_value_added_share_controller": by_year.mean()["china_value_added_share"].sel(by="controller",
                                                                                             drop=True),
    }
    frame = xr.Dataset(columns).to_dataframe().reset_index()
    return frame[["member", "year", *columns]]
