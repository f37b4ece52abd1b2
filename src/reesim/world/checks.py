"""Economic consistency checks of a world dataset.

Schema validation says each number is well-formed and sourced; these checks say the numbers agree with
each other: compositions sum to one, product ids follow their pattern, facilities fit their stage,
base-year output fits capacity, China's quota holders produce their quota, mine output reproduces the
USGS production table, and demand agrees with activity times intensity. `reesim data check` prints
them; `load_world` refuses a dataset that fails one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd

from reesim.errors import Problem
from reesim.world.world import World

PRODUCT_PATTERN = re.compile(r"^(concentrate|oxide|metal|magnet):([A-Za-z0-9_]+)$")
STAGE_OF_KIND = {"concentrate": "mining", "oxide": "separation", "metal": "metal", "magnet": "magnet"}
STAGES_OF_PROCESS = {"mine": {"mining"}, "cracking": {"mining"}, "separation": {"separation"}, "metal": {"metal"},
                     "magnet": {"magnet"}, "recycling": {"mining", "magnet"}}
MAGNET_KINDS = ("NdFeB", "SmCo")
FACILITY_QUOTAS = ("mining", "separation")  # quota kinds that cap named facilities (column facilities.quota)
WORLD_TOLERANCE = 0.02  # mines' total against the USGS world total, which USGS rounds to 2-3 digits


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: its name, whether it passed, and a one-line account."""

    name: str
    ok: bool
    message: str
    problem: Problem | None = None


def _file(world: World, table: str) -> str:
    return str(world.path / world.schema.tables[table].file)


def _fail(world: World, name: str, table: str, key: str, problem: str, fix: str) -> CheckResult:
    return CheckResult(name, False, problem, Problem(_file(world, table), key, problem, fix))


def compositions_sum_to_one(world: World) -> Iterator[CheckResult]:
    totals = world.composition().sum(axis=1)
    for deposit, total in totals.items():
        if abs(total - 1.0) > 1e-4:
            yield _fail(world, "compositions sum to one", "compositions", f"deposit_type={deposit}",
                        f"shares sum to {total:.6f}", "make the element shares of the deposit type sum to 1")
    for deposit in set(world.tables["deposit_types"]["deposit_type"]) - set(totals.index):
        yield _fail(world, "compositions sum to one", "compositions", f"deposit_type={deposit}",
                    "deposit type has no composition", "add one row per element for it")
    yield CheckResult("compositions sum to one", True, f"{len(totals)} deposit types")


def product_ids(world: World) -> Iterator[CheckResult]:
    elements = set(world.tables["elements"]["element"]) | {"NdPr"}
    deposits = set(world.tables["deposit_types"]["deposit_type"])
    name = "product ids follow kind:name"
    for row in world.tables["products"].itertuples():
        match = PRODUCT_PATTERN.match(row.product)
        key = f"product={row.product}"
        if not match:
            yield _fail(world, name, "products", key, "id does not match kind:name",
                        "use concentrate:<deposit type>, oxide:<El>, metal:<El> or magnet:<NdFeB|SmCo>")
            continue
        kind, suffix = match.groups()
        if STAGE_OF_KIND[kind] != row.stage:
            yield _fail(world, name, "products", key, f"stage {row.stage} does not match the {kind} prefix",
                        f"set stage to {STAGE_OF_KIND[kind]}")
        valid = {"concentrate": suffix in deposits and row.deposit_type == suffix,
                 "oxide": suffix in elements and row.element == suffix,
                 "metal": suffix in elements and row.element == suffix,
                 "magnet": suffix in MAGNET_KINDS}[kind]
        if not valid:
            yield _fail(world, name, "products", key, f"{suffix!r} does not resolve for a {kind} product",
                        "name a known deposit type or element and fill the deposit_type or element column to match")
    yield CheckResult(name, True, f"{len(world.tables['products'])} products")


def parse_feed(feed: str) -> dict[str, float]:
    """Feed deposit types of a separation plant and the share of capacity each takes.

    'ionic_clay_heavy' means all capacity on one feed; 'a:0.7|b:0.3' splits capacity between feeds.
    """
    parts = [p.strip() for p in feed.split("|") if p.strip()]
    if not parts:
        raise ValueError("feed is blank")
    if len(parts) == 1 and ":" not in parts[0]:
        return {parts[0]: 1.0}
    shares: dict[str, float] = {}
    for part in parts:
        deposit, _, share = part.partition(":")
        try:
            shares[deposit.strip()] = float(share)
        except ValueError:
            raise ValueError(f"feed part {part!r} has no numeric share") from None
    if abs(sum(shares.values()) - 1.0) > 1e-9 or min(shares.values()) <= 0:
        raise ValueError(f"feed shares {shares} must be positive and sum to 1")
    return shares


def facilities_fit_their_stage(world: World) -> Iterator[CheckResult]:
    name = "facilities fit their stage"
    products = world.tables["products"].set_index("product")
    deposits = set(world.tables["deposit_types"]["deposit_type"])
    with_recipe = set(world.tables["recipes"]["product"])
    for row in world.tables["facilities"].itertuples():
        key = f"facility={row.facility}"
        if row.stage not in STAGES_OF_PROCESS[row.process]:
            yield _fail(world, name, "facilities", key, f"process {row.process} belongs to stage(s) "
                        f"{sorted(STAGES_OF_PROCESS[row.process])}, not {row.stage}", "correct the stage or the process")
        product_stage = products.at[row.product, "stage"]
        if product_stage != row.stage:
            yield _fail(world, name, "facilities", key, f"product {row.product} is made at stage {product_stage}",
                        "choose a product of the facility's stage")
        if row.process in {"separation", "cracking"}:
            try:
                feeds = parse_feed(row.feed)
            except ValueError as exc:
                yield _fail(world, name, "facilities", key, str(exc),
                            "write deposit_type or deposit_type:share|deposit_type:share with shares summing to 1")
                continue
            for deposit in set(feeds) - deposits:
                yield _fail(world, name, "facilities", key, f"feed {deposit!r} is not a deposit type",
                            "name the deposit type of the usual feed; it sets the oxide basket")
        if row.stage in {"metal", "magnet"} and row.product not in with_recipe:
            yield _fail(world, name, "facilities", key, f"product {row.product} has no recipe",
                        "add its inputs to recipes.csv")
    yield CheckResult(name, True, f"{len(world.tables['facilities'])} facilities")


def output_fits_capacity_and_dates(world: World) -> Iterator[CheckResult]:
    name = "base-year output fits capacity and dates"
    year = world.base_year
    end_of_base = pd.Period(f"{year}-12", freq="M")
    for row in world.tables["facilities"].itertuples():
        key = f"facility={row.facility}"
        if row.output_base > row.capacity:
            yield _fail(world, name, "facilities", key, f"output_base {row.output_base:,.0f} exceeds "
                        f"capacity {row.capacity:,.0f}", "raise the capacity or lower the output")
        if row.output_base > 0 and row.start > end_of_base:
            yield _fail(world, name, "facilities", key, f"output in {year} but start {row.start}",
                        f"set output_base to 0 or the start to {year} or earlier")
        if row.status == "announced" and row.output_base > 0:
            yield _fail(world, name, "facilities", key, "an announced project has base-year output",
                        "set output_base to 0 or the status to operating")
        if row.status == "operating" and row.start > end_of_base:
            yield _fail(world, name, "facilities", key,
                        f"operating at the end of {year} but starts {row.start}",
                        "set the status to construction or announced")
    yield CheckResult(name, True, "capacity, output and dates agree")


def quotas_match_output(world: World) -> Iterator[CheckResult]:
    """Base-year mining and separation quotas equal their holders' output; export quotas cap trade."""
    name = "China's quota holders produce their quota"
    fac = world.tables["facilities"]
    quotas = world.tables["quotas"]
    held_kinds = quotas["kind"].isin(FACILITY_QUOTAS)
    for row in quotas[(quotas["year"] == world.base_year) & held_kinds].itertuples():
        held = fac[fac["quota"] == row.kind]
        output, capacity = held["output_base"].sum(), held["capacity"].sum()
        key = f"kind={row.kind}, year={row.year}"
        if not math.isclose(output, row.quantity, rel_tol=0.005):
            yield _fail(world, name, "quotas", key, f"quota {row.quantity:,.0f} t but quota holders' output "
                        f"{output:,.0f} t", "align output_base of the facilities with quota=" + row.kind)
        if capacity < row.quantity:
            yield _fail(world, name, "quotas", key, f"quota {row.quantity:,.0f} t exceeds the holders' capacity "
                        f"{capacity:,.0f} t", "raise the capacity of the quota holders")
    yield CheckResult(name, True, "mining and separation quotas")


def mine_output_matches_usgs(world: World) -> Iterator[CheckResult]:
    name = f"{world.base_year} mine output matches USGS"
    production = usgs_groups_comparison(world, world.base_year)
    if production.empty:
        yield _fail(world, name, "usgs_production", f"year={world.base_year}",
                    f"no USGS mine production for the base year {world.base_year}",
                    "add the base year's production by country to usgs_production.csv")
    for row in production.itertuples():
        # USGS rounds to at most three significant digits; allow that rounding and no more.
        if abs(row.facilities - row.usgs) > max(0.005 * row.usgs, 50.0):
            yield _fail(world, name, "facilities", f"USGS country={row.usgs_country}",
                        f"mines in {row.regions} produce {row.facilities:,.0f} t but USGS reports {row.usgs:,.0f} t",
                        "align output_base of the mines with usgs_production.csv")
    usgs = world.tables["usgs_production"]
    total = usgs.loc[(usgs["year"] == world.base_year) & (usgs["usgs_country"] == "World total"), "quantity"]
    mines = world.tables["facilities"].query("process == 'mine'")["output_base"].sum()
    # USGS rounds the world total to two or three significant digits and leaves some countries out (NA).
    if len(total) and abs(mines - total.iloc[0]) > WORLD_TOLERANCE * total.iloc[0]:
        yield _fail(world, name, "facilities", "USGS country=World total",
                    f"all mines produce {mines:,.0f} t but USGS reports a world total of "
                    f"{total.iloc[0]:,.0f} t",
                    "add or resize the mines of countries USGS leaves out (NA) or align output_base")
    yield CheckResult(name, True, f"{len(production)} USGS country groups and the world total")


def usgs_groups_comparison(world: World, year: int) -> pd.DataFrame:
    """Mine output of the facilities against USGS production, by group of USGS countries and regions.

    Countries and regions do not map one to one (Madagascar and Nigeria are both in AFR; USGS "Other
    countries" spans several regions), so both sides are summed over the connected groups of the map.
    """
    mapping = world.tables["usgs_countries"]
    group_of: dict[str, str] = {}

    def find(node: str) -> str:
        while group_of.setdefault(node, node) != node:
            node = group_of[node]
        return node

    for country, region in mapping[["usgs_country", "region"]].itertuples(index=False):
        group_of[find("c:" + country)] = find("r:" + region)
    usgs = world.tables["usgs_production"]
    usgs = usgs[(usgs["year"] == year) & (usgs["usgs_country"] != "World total")]
    unmapped = set(usgs["usgs_country"]) - set(mapping["usgs_country"])
    if unmapped:
        raise KeyError(f"USGS countries without a region in usgs_countries.csv: {sorted(unmapped)}")
    mines = world.tables["facilities"].query("process == 'mine'").groupby("region")["output_base"].sum()
    rows = []
    for root in sorted({find("c:" + c) for c in usgs["usgs_country"]}):
        countries = sorted(c for c in usgs["usgs_country"] if find("c:" + c) == root)
        regions = sorted(r for r in mapping["region"].unique() if find("r:" + r) == root)
        quantity = usgs.loc[usgs["usgs_country"].isin(countries), "quantity"].sum()
        rows.append((" + ".join(countries), ", ".join(regions), float(quantity),
                     float(mines.reindex(regions).fillna(0).sum())))
    return pd.DataFrame(rows, columns=["usgs_country", "regions", "usgs", "facilities"])


def demand_matches_activity(world: World) -> Iterator[CheckResult]:
    name = "demand = activity x intensity"
    sectors = world.tables["sectors"].set_index("sector")
    demand = world.tables["demand"].groupby(["sector", "product"])["quantity_base"].sum()
    for row in world.tables["intensities"].itertuples():
        activity = sectors.at[row.sector, "activity_base"]
        expected = activity * row.intensity / 1000.0  # kg -> t
        actual = demand.get((row.sector, row.product), 0.0)
        if not math.isclose(actual, expected, rel_tol=0.02):
            yield _fail(world, name, "demand", f"sector={row.sector}, product={row.product}",
                        f"demand {actual:,.0f} t but activity x intensity gives {expected:,.0f} t",
                        "make the sector's demand rows add up to activity_base x intensity")
    yield CheckResult(name, True, f"{len(world.tables['intensities'])} intensities")


CHECKS: tuple[Callable[[World], Iterator[CheckResult]], ...] = (
    compositions_sum_to_one, product_ids, facilities_fit_their_stage, output_fits_capacity_and_dates,
    quotas_match_output, mine_output_matches_usgs, demand_matches_activity,
)


def run_checks(world: World) -> list[CheckResult]:
    """Run every check; a check that finds problems yields them instead of its passing line."""
    results: list[CheckResult] = []
    for check in CHECKS:
        found = list(check(world))
        failures = [r for r in found if not r.ok]
        results.extend(failures or found[-1:])
    return results
