"""Compile a `World` into the index arrays the engine works on.

The engine's unit of production is the *line*: one facility, or one feed of a separation plant that
takes several feeds (its capacity split by the shares in `feed`). Each line turns inputs into outputs
with fixed coefficients per tonne of throughput: mines and scrap collection have no market input,
separation lines turn one concentrate into the oxide basket of its deposit (joint production: Nd and Pr
go to the traded `oxide:NdPr`), metal and magnet lines follow `recipes.csv`. Crackers are left out: they
re-process mine output inside the Lynas chain and add no saleable product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reesim.world.checks import parse_feed
from reesim.world.world import World

STAGES = ("mining", "separation", "metal", "magnet")
ENTRANT_YEARS = 4  # a line that started within this many years before the base year is still learning


@dataclass(frozen=True)
class Structure:
    """Index sets and fixed coefficients of one world (no behavioural parameters).

    Month indices count from `base_month`, January of the world's base year: month 0 is the first simulated
    month, and the base-year figures (output, demand, prices, quotas) describe the twelve months from it.
    """

    base_month: pd.Period  # January of the world's base year (month index 0)
    regions: tuple[str, ...]
    alignment: tuple[str, ...]
    products: tuple[str, ...]
    product_stage: np.ndarray  # (P,) stage index of the product
    sectors: tuple[str, ...]
    facilities: tuple[str, ...]
    facility_region: np.ndarray  # (Fac,) region index
    facility_controller: np.ndarray  # (Fac,) region index of the controller
    line_facility: np.ndarray  # (N,) facility index of each line
    line_region: np.ndarray  # (N,)
    line_stage: np.ndarray  # (N,) stage index
    line_capacity: np.ndarray  # (N,) t/month at full ramp
    line_base_output: np.ndarray  # (N,) t/month of throughput in the base year
    line_unit_cost: np.ndarray  # (N,) USD/kg of throughput
    line_start: np.ndarray  # (N,) months from base_month to first output (negative if before)
    line_ramp: np.ndarray  # (N,) months to full capacity
    line_announced: np.ndarray  # (N,) bool: not operating and starting after base_month (start may slip)
    line_candidate: np.ndarray  # (N,) bool: a greenfield candidate, built only when margins justify it
    line_entrant: np.ndarray  # (N,) bool: started ENTRANT_YEARS before the base year or later (learns)
    line_quota: np.ndarray  # (N,) 0 none, 1 mining quota, 2 separation quota
    inputs: np.ndarray  # (N, P) t of product per t of throughput
    outputs: np.ndarray  # (N, P) t of product per t of throughput, before separation recovery
    demand_base: np.ndarray  # (R, S, P) t/month in the base year
    demand_growth: np.ndarray  # (R, S, P) 1/yr
    price_base: np.ndarray  # (P,) USD/kg
    quota_base: np.ndarray  # (2,) t/month: mining, separation quotas of the base year (inf if none)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(regions, products, sectors, lines)."""
        return len(self.regions), len(self.products), len(self.sectors), len(self.line_facility)


def _lines(fac: pd.DataFrame) -> pd.DataFrame:
    """One row per line: the modelled facilities, with multi-feed separation plants split by feed share."""
    rows = []
    for i, row in fac.iterrows():
        if row["process"] == "separation":
            for deposit, share in parse_feed(row["feed"]).items():
                rows.append({**row, "facility_index": i, "deposit": deposit, "share": share})
        else:
            rows.append({**row, "facility_index": i, "deposit": "", "share": 1.0})
    return pd.DataFrame(rows)


def build_structure(world: World) -> Structure:
    """Compile the world's tables into arrays, keeping only products that are traded in the engine."""
    regions = list(world["regions"]["region"])
    rix = {r: i for i, r in enumerate(regions)}
    modelled = world["facilities"].query("process != 'cracking'").reset_index(drop=True)
    lines = _lines(modelled)
    comp = world.composition()
    recipes = world["recipes"]
    demand = world["demand"]
    all_products = list(world["products"]["product"])

    def joint_output(deposit: str) -> dict[str, float]:
        basket: dict[str, float] = {}
        for element, share in comp.loc[deposit].items():
            if share > 0:
                key = "oxide:NdPr" if element in ("Nd", "Pr") else f"oxide:{element}"
                basket[key] = basket.get(key, 0.0) + float(share)
        return basket

    line_in: list[dict[str, float]] = []
    line_out: list[dict[str, float]] = []
    for row in lines.itertuples():
        if row.process == "separation":
            line_in.append({f"concentrate:{row.deposit}": 1.0})
            line_out.append(joint_output(row.deposit))
        elif row.process in ("metal", "magnet"):
            rec = recipes[recipes["product"] == row.product]
            line_in.append(dict(zip(rec["input"], rec["quantity"].astype(float))))
            line_out.append({row.product: 1.0})
        else:  # mines and scrap collection (recycling at the mining stage) and magnet recycling: no market input
            line_in.append({})
            line_out.append({row.product: 1.0})
    used = {p for d in line_in + line_out for p in d} | set(demand["product"])
    products = [p for p in all_products if p in used]
    pix = {p: i for i, p in enumerate(products)}
    n, n_p = len(lines), len(products)
    inputs, outputs = np.zeros((n, n_p)), np.zeros((n, n_p))
    for i, (ins, outs) in enumerate(zip(line_in, line_out)):
        for p, q in ins.items():
            inputs[i, pix[p]] = q
        for p, q in outs.items():
            outputs[i, pix[p]] = q
    sectors = list(world["sectors"]["sector"])
    six = {s: i for i, s in enumerate(sectors)}
    demand_base = np.zeros((len(regions), len(sectors), n_p))
    demand_growth = np.zeros_like(demand_base)
    for row in demand.itertuples():
        idx = (rix[row.region], six[row.sector], pix[row.product])
        demand_base[idx] += row.quantity_base / 12.0
        demand_growth[idx] = row.growth
    prices = world["prices"].set_index("product")["price"]
    stage_of = world["products"].set_index("product")["stage"]
    base_year = world.base_year
    base_month = pd.Period(f"{base_year}-01", freq="M")
    start = np.array([(s - base_month).n for s in lines["start"]])
    quotas = world["quotas"].query("year == @base_year").set_index("kind")["quantity"]
    return Structure(
        base_month=base_month,
        regions=tuple(regions),
        alignment=tuple(world["regions"]["alignment"]),
        products=tuple(products),
        product_stage=np.array([STAGES.index(stage_of[p]) for p in products]),
        sectors=tuple(sectors),
        facilities=tuple(modelled["facility"]),
        facility_region=np.array([rix[r] for r in modelled["region"]]),
        facility_controller=np.array([rix[r] for r in modelled["controller"]]),
        line_facility=lines["facility_index"].to_numpy(int),
        line_region=np.array([rix[r] for r in lines["region"]]),
        line_stage=np.array([STAGES.index(s) for s in lines["stage"]]),
        line_capacity=lines["capacity"].to_numpy(float) * lines["share"].to_numpy(float) / 12.0,
        line_base_output=lines["output_base"].to_numpy(float) * lines["share"].to_numpy(float) / 12.0,
        line_unit_cost=lines["unit_cost"].to_numpy(float),
        line_start=start,
        line_ramp=lines["ramp_months"].to_numpy(int),
        line_announced=lines["status"].isin(["construction", "announced", "idle"]).to_numpy() & (start > 0),
        line_candidate=(lines["status"] == "candidate").to_numpy(),
        line_entrant=np.array([s.year >= base_year - ENTRANT_YEARS for s in lines["start"]]),
        line_quota=np.array([{"": 0, "mining": 1, "separation": 2}[q] for q in lines["quota"]]),
        inputs=inputs,
        outputs=outputs,
        demand_base=demand_base,
        demand_growth=demand_growth,
        price_base=np.array([prices[p] for p in products]),
        quota_base=np.array([quotas.get("mining", np.inf), quotas.get("separation", np.inf)]) / 12.0,
    )
