"""The simulated counterparts of the record: export prices and China's exports.

The record's prices are FOB China: what China's exports of an oxide fetch at the border. The engine has
no border node, but a route that carries goods prices them at the destination price less freight (the
FOB price plus any quota rent, the export tax included). So the export price of an element is the mean,
weighted by China's flows over the last twelve months (this one included), of destination price less
freight over the forms China exports it in: its oxide, and its metal counted at its oxide content (a
metal's recipe, t of oxide per t of metal), because the engine ships much of the heavy rare earths as
metal (all of its Dy). Twelve months, not the month's flows alone: under a pooled quota a cheap oxide may
go unshipped for a month while its price abroad stays high, and a quote is still made for it. Only where
China exported none of the element for a year does the price fall back to China's own oxide price.
China's own price (`domestic_price`) is the price at its node, before any wedge on exports.
China's exports are the flows of oxides and metals (the goods under its quotas, t of product) from China
to every other region.
"""

from __future__ import annotations

import xarray as xr

from reesim.world import World

WEIGHT_MONTHS = 12  # months of China's flows that weight the destinations of an export price
FREIGHT_PARAMETER = {"oxide": "transport_oxide", "metal": "transport_metal"}
QUOTA_STAGES = ("separation", "metal")  # stages of the goods under China's quotas (oxides, metals; not magnets)


def export_forms(world: World, oxide: str) -> list[tuple[str, float]]:
    """(product, t of oxide per t) of the forms an oxide is exported in: itself, and the metals made from it."""
    recipes = world["recipes"]
    metals = recipes[(recipes["input"] == oxide) & recipes["product"].str.startswith("metal:")]
    return [(oxide, 1.0)] + [(str(r.product), float(r.quantity)) for r in metals.itertuples()]


def export_price(dataset: xr.Dataset, world: World, oxides: list[str], exporter: str = "CHN") -> xr.DataArray:
    """(member, time, product) export price of each oxide's element in USD per kg of oxide (module docstring)."""
    traded = set(map(str, dataset["product"].values))
    trade = dataset["trade"].sel(origin=exporter)
    trade = trade.sel(destination=[d for d in trade["destination"].values if d != exporter])
    out = []
    for oxide in oxides:
        value = weight = 0.0
        for product, oxide_content in export_forms(world, oxide):
            if product not in traded:
                continue
            freight = dataset["parameters"].sel(parameter=FREIGHT_PARAMETER[product.split(":")[0]])
            flow = trade.sel(product=product).rolling(time=WEIGHT_MONTHS, min_periods=1).sum()
            at_border = dataset["price"].sel(product=product, region=flow["destination"]) - freight
            value = value + (flow * at_border).sum("destination")
            weight = weight + (flow * oxide_content).sum("destination")
        home = dataset["price"].sel(region=exporter, product=oxide)
        fob = xr.where(weight > 0, value / xr.where(weight > 0, weight, 1.0), home)
        out.append(fob.drop_vars(["product", "region", "parameter"], errors="ignore"))
    return xr.concat(out, dim="product").assign_coords(product=oxides).transpose("member", "time", "product")


def domestic_price(dataset: xr.Dataset, products: list[str], region: str = "CHN") -> xr.DataArray:
    """(member, time, product) price of each product in the region's own market, USD/kg."""
    price = dataset["price"].sel(region=region, product=products).drop_vars(["region", "stage"], errors="ignore")
    return price.transpose("member", "time", "product")


def china_exports(dataset: xr.Dataset, exporter: str = "CHN") -> xr.DataArray:
    """(member, year) exports of oxides and metals from the exporter to every other region, t/yr."""
    if "stage" not in dataset.coords:
        raise ValueError("the results carry no product stage coordinate; run with reesim's results")
    covered = [str(p) for p, s in zip(dataset["product"].values, dataset["stage"].values) if s in QUOTA_STAGES]
    flows = dataset["trade"].sel(origin=exporter, product=covered)
    abroad = flows.sel(destination=[r for r in flows["destination"].values if r != exporter])
    return abroad.sum(["destination", "product"]).groupby("time.year").sum()
