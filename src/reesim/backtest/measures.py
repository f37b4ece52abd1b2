"""The simulated counterparts of the record: export-market prices and China's exports.

The record's prices are FOB China, the price in the export market. The engine has no FOB node, so the
export-market price of a product is the mean of its prices in the regions outside China that use it,
weighted by their base-year final demand, less the freight to get there (a destination price is the
FOB price plus freight on any route that carries goods). China's exports are the flows of oxides and
metals (the goods under its quotas, in t of product) from China to every other region.
"""

from __future__ import annotations

import xarray as xr

from reesim.world import World

FREIGHT_PARAMETER = {"oxide": "transport_oxide", "metal": "transport_metal"}
QUOTA_STAGES = ("separation", "metal")  # stages of the goods under China's quotas (oxides, metals; not magnets)


def export_weights(world: World, products: list[str], exporter: str = "CHN") -> xr.DataArray:
    """(product, region) weights: each product's base-year final demand outside the exporter, summed to 1."""
    demand = world["demand"].query("region != @exporter and product in @products")
    table = demand.pivot_table(index="product", columns="region", values="quantity_base", aggfunc="sum")
    missing = sorted(set(products) - set(table.index))
    if missing:
        raise ValueError(f"no final demand outside {exporter} for {missing} in the world's demand.csv; "
                         "an export-market price needs importing users")
    table = table.reindex(index=products).fillna(0.0)
    weights = table.div(table.sum(axis=1), axis=0)
    return xr.DataArray(weights.to_numpy(), coords={"product": products, "region": list(weights.columns)},
                        dims=("product", "region"))


def export_price(dataset: xr.Dataset, weights: xr.DataArray) -> xr.DataArray:
    """(member, time, product) export-market price in USD/kg: demand-weighted import price less freight."""
    products = [str(p) for p in weights["product"].values]
    price = dataset["price"].sel(product=products, region=weights["region"])
    weighted = (price * weights).sum("region")
    stage = [p.split(":")[0] for p in products]
    freight = xr.concat([dataset["parameters"].sel(parameter=FREIGHT_PARAMETER[s]) for s in stage], dim="product")
    freight = freight.assign_coords(product=products).drop_vars("parameter", errors="ignore")
    return weighted - freight


def china_exports(dataset: xr.Dataset, exporter: str = "CHN") -> xr.DataArray:
    """(member, year) exports of oxides and metals from the exporter to every other region, t/yr."""
    stage = dataset["stage"].values if "stage" in dataset.coords else None
    if stage is None:
        raise ValueError("the results carry no product stage coordinate; run with reesim's results")
    covered = [str(p) for p, s in zip(dataset["product"].values, stage) if s in QUOTA_STAGES]
    flows = dataset["trade"].sel(origin=exporter, product=covered)
    abroad = flows.sel(destination=[r for r in flows["destination"].values if r != exporter])
    return abroad.sum(["destination", "product"]).groupby("time.year").sum()

