"""Results of a run: one `xarray.Dataset` with documented dims and units, and a statistics accessor.

Dims: member, time (first day of each month), region, product, sector, facility, origin and destination
(both regions), parameter. Auxiliary coordinates (never a MultiIndex): region alignment; product stage
and element; facility region, controller and stage. Units are in each variable's `attrs`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from reesim._version import __version__
from reesim.engine.structure import STAGES
from reesim.engine.wedges import POOLS

if TYPE_CHECKING:  # pragma: no cover
    from reesim.engine.structure import Structure
    from reesim.scenario import Scenario
    from reesim.world import World

VARIABLES: dict[str, tuple[tuple[str, ...], str, str]] = {
    "price": (("member", "time", "region", "product"), "USD/kg", "Market-clearing price in the region"),
    "production": (("member", "time", "region", "product"), "t/month", "Output made in the region"),
    "consumption": (("member", "time", "region", "product"), "t/month", "Final demand served in the region"),
    "purchases": (("member", "time", "region", "product"), "t/month", "Input bought by plants in the region"),
    "inventory": (("member", "time", "region", "product"), "t", "Holders' closing stock in the region"),
    "trade": (("member", "time", "origin", "destination", "product"), "t/month",
              "Flow between regions in the customs record"),
    "smuggled": (("member", "time", "origin", "destination", "product"), "t/month",
                 "Informal flow between regions (smuggling), outside the customs record"),
    "rent": (("member", "time", "origin", "destination", "product"), "USD/kg",
             "Scarcity rent of a route at its cap: destination price minus delivered cost"),
    "shortfall": (("member", "time", "region", "sector"), "USD million/month",
                  "Demand unmet against demand at the expected price, valued at base-year prices"),
    "shortfall_qty": (("member", "time", "region", "product"), "t/month",
                      "Demand unmet against demand at the expected price"),
    "disposal": (("member", "time", "region", "product"), "t/month", "Quantity taken at a price floor"),
    "stockpile": (("member", "time", "region", "product"), "t", "Strategic stockpile level"),
    "output": (("member", "time", "facility"), "t/month",
               "Facility throughput (t REO for mines and separation, t metal, t magnet)"),
    "capacity": (("member", "time", "facility"), "t/yr", "Available capacity (ramps, outages, quotas, closures)"),
    "margin": (("member", "time", "facility"), "USD/kg", "Cash margin per unit of throughput"),
    "licence": (("member", "time", "pool"), "USD/kg",
                "Price of each pool's export licence per kg (0 where no pooled quota binds); free to its holders"),
    "fiscal_cost": (("member", "time", "instrument", "payer"), "USD million/month",
                    "What each timeline event costs each paying region: payments (+) less revenues (-)"),
    "in_force": (("member", "time", "instrument"), "1",
                 "1 where the timeline event acted in the member that month (dates, suspensions, triggers)"),
}


def assemble_results(scenario: Scenario, world: World, structure: Structure, params: dict[str, np.ndarray],
                     months: pd.PeriodIndex, kept: dict[str, list[np.ndarray]], calibration: dict,
                     policy: dict[str, dict[str, np.ndarray]] | None = None) -> Results:
    """Stack the recorded months into a Dataset with coordinates, units and a manifest.

    `policy` holds, for the timeline's events, `in_force` (member, time) masks and the `ledger` of
    (member, time, region) payments; only regions that pay or collect anything are kept on the `payer`
    axis, so a run with a few instruments stays small.
    """
    fac = world["facilities"].set_index("facility").loc[list(structure.facilities)]
    elements = world["products"].set_index("product")["element"]
    coords = {
        "member": np.arange(scenario.members),
        "time": months.to_timestamp(how="start").values.astype("datetime64[ns]"),
        "region": list(structure.regions),
        "origin": list(structure.regions),
        "destination": list(structure.regions),
        "product": list(structure.products),
        "sector": list(structure.sectors),
        "facility": list(structure.facilities),
        "parameter": sorted(params),
        "pool": np.arange(1, POOLS + 1),
        "alignment": ("region", list(structure.alignment)),
        "stage": ("product", [STAGES[i] for i in structure.product_stage]),
        "element": ("product", [elements[p] for p in structure.products]),
        "facility_region": ("facility", list(fac["region"])),
        "facility_controller": ("facility", list(fac["controller"])),
        "facility_stage": ("facility", list(fac["stage"])),
        "facility_process": ("facility", list(fac["process"])),
    }
    data_vars = {}
    for name, frames in kept.items():
        dims, unit, description = VARIABLES[name]
        values = np.stack(frames, axis=1)
        data_vars[name] = xr.Variable(dims, values, attrs={"units": unit, "description": description})
    if policy and policy["in_force"]:
        labels = list(policy["in_force"])
        coords["instrument"] = labels
        dims, unit, description = VARIABLES["in_force"]
        data_vars["in_force"] = xr.Variable(dims, np.stack([policy["in_force"][k] for k in labels], axis=2).astype(np.uint8),
                                            attrs={"units": unit, "description": description})
        months_, members = len(months), scenario.members
        stacked = np.stack([policy["ledger"].get(k, np.zeros((members, months_, len(structure.regions))))
                            for k in labels], axis=2)  # (M, T, I, R)
        payers = np.flatnonzero(np.abs(stacked).sum(axis=(0, 1, 2)) > 0)
        if len(payers):
            coords["payer"] = np.array([structure.regions[i] for i in payers], dtype=str)
            dims, unit, description = VARIABLES["fiscal_cost"]
            data_vars["fiscal_cost"] = xr.Variable(dims, stacked[..., payers],
                                                   attrs={"units": unit, "description": description})
    data_vars["parameters"] = xr.Variable(("member", "parameter"), np.stack([params[k] for k in sorted(params)], axis=1),
                                          attrs={"description": "Parameter values drawn for each member"})
    manifest = {
        "scenario": scenario.record(),
        "world": world.name,
        "data_version": world.version,
        "code_version": __version__,
        "seed": scenario.seed,
        "members": scenario.members,
    }
    ds = xr.Dataset(data_vars, coords=coords, attrs={"title": f"reesim run: {scenario.name}",
                                                     "manifest": json.dumps(manifest, sort_keys=True),
                                                     "calibration": json.dumps(calibration, sort_keys=True)})
    return Results(ds)


@dataclass(frozen=True)
class Results:
    """The outcome of `reesim.simulate`: `.dataset` and `.statistics`."""

    dataset: xr.Dataset

    @property
    def manifest(self) -> dict:
        return json.loads(self.dataset.attrs["manifest"])

    @property
    def statistics(self) -> Statistics:
        return Statistics(self.dataset)

    def save(self, out: str | Path) -> Path:
        """Write each variable as a long Parquet table plus `manifest.json`, atomically (temp dir then rename).

        The layout is the run store's (`reesim.store.codec`): tables written in bounded row groups with
        dictionary-encoded dimensions, so a large ensemble is written in seconds, not minutes.
        """
        import shutil
        import tempfile

        from reesim.store.codec import write_run

        out = Path(out)
        if out.exists() and any(out.iterdir()):
            raise FileExistsError(f"{out} exists and is not empty; choose a new output folder")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            write_run(self.dataset, self.manifest, tmp)
            if out.exists():
                out.rmdir()
            tmp.rename(out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return out


def _yearly(da: xr.DataArray, freq: str | None) -> xr.DataArray:
    if freq is None:
        return da
    if freq != "year":
        raise ValueError(f"freq must be None or 'year', not {freq!r}")
    return da.groupby("time.year").mean()


@dataclass(frozen=True)
class Statistics:
    """Common questions, each with the same signature style: filters as keywords, `freq=None|'year'`."""

    ds: xr.Dataset

    def _stage_output(self) -> xr.DataArray:
        """Facility output counted at its stage: mining counts mines only (no crackers or scrap collection)."""
        mined = (self.ds["facility_stage"] != "mining") | (self.ds["facility_process"] == "mine")
        return self.ds["output"].where(mined, 0.0)

    def stage_share(self, holder: str = "CHN", by: str = "location", freq: str | None = None) -> xr.DataArray:
        """Share of each stage's output located in (by='location') or controlled by (by='controller') `holder`."""
        if by not in ("location", "controller"):
            raise ValueError("by must be 'location' or 'controller'")
        key = "facility_region" if by == "location" else "facility_controller"
        output = self._stage_output()
        held = output.where(self.ds[key] == holder, 0.0).groupby("facility_stage").sum("facility")
        total = output.groupby("facility_stage").sum("facility")
        share = (held / total.where(total > 0)).rename(facility_stage="stage")
        share.attrs = {"units": "1", "description": f"{holder} share of output by {by}"}
        return _yearly(share, freq)

    def hhi(self, freq: str | None = None) -> xr.DataArray:
        """Herfindahl-Hirschman index of each stage's output across regions (0-10,000)."""
        output = self._stage_output()
        stages = sorted(set(self.ds["facility_stage"].values.tolist()))
        parts = []
        for stage in stages:
            by_region = output.where(self.ds["facility_stage"] == stage, 0.0).groupby("facility_region").sum("facility")
            share = by_region / by_region.sum("facility_region").where(lambda x: x > 0)
            parts.append((share**2).sum("facility_region") * 1e4)
        out = xr.concat(parts, dim=pd.Index(stages, name="stage"))
        out.attrs = {"units": "1", "description": "HHI of output across regions by stage"}
        return _yearly(out, freq)

    def import_dependence(self, importer: str, exporter: str, product: str | Sequence[str],
                          freq: str | None = None) -> xr.DataArray:
        """Share of the importer's use (final plus plant purchases) of a product supplied by the exporter's flows."""
        if "trade" not in self.ds:
            raise KeyError("this run kept no trade; rerun with variables including 'trade'")
        products = [product] if isinstance(product, str) else list(product)
        flow = self.ds["trade"].sel(origin=exporter, destination=importer, product=products).sum("product")
        use = (self.ds["consumption"] + self.ds["purchases"]).sel(region=importer, product=products).sum("product")
        out = flow / use.where(use > 0)
        out.attrs = {"units": "1", "description": f"share of {importer}'s use of {products} from {exporter}"}
        return _yearly(out, freq)

    def fiscal_cost(self, payer: str | None = None, instrument: str | None = None,
                    freq: str | None = None) -> xr.DataArray:
        """Fiscal cost of the timeline's instruments (USD million per month), optionally for one payer or event.

        Zero when the run has no instrument that pays or collects (the variable is then absent).
        """
        if "fiscal_cost" not in self.ds:
            da = xr.zeros_like(self.ds["price"].isel(region=0, product=0, drop=True))
        else:
            da = self.ds["fiscal_cost"]
            if payer is not None:
                da = da.where(da["payer"] == payer).sum("payer")  # zero when the payer books nothing
            if instrument is not None:
                da = da.sel(instrument=instrument)
            da = da.sum([d for d in ("payer", "instrument") if d in da.dims])
        da.attrs = {"units": "USD million/month", "description": "fiscal cost of instruments"}
        return _yearly(da, freq)

    def shortfall_value(self, region: str | None = None, sector: str | None = None,
                        freq: str | None = None) -> xr.DataArray:
        """Value of unmet demand (USD million per month at base-year prices), optionally for one region or sector."""
        da = self.ds["shortfall"]
        if region is not None:
            da = da.sel(region=region)
        if sector is not None:
            da = da.sel(sector=sector)
        da = da.sum([d for d in ("region", "sector") if d in da.dims])
        da.attrs = {"units": "USD million/month", "description": "value of unmet demand"}
        return _yearly(da, freq)
