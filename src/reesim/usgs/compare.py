"""Compare a USGS MCS data release with a world dataset, and write an updated dataset from it.

USGS revises its figures heavily between editions (facts.md, data cautions), so an analyst needs to see
each difference before taking the new edition. The USGS-derived tables of a world (usgs_production,
usgs_reserves, us_salient, and the reported base-year prices) are written only by this module, from the
file as published: the dataset never holds retyped USGS numbers.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from reesim.world.world import World, load_world

RARE_EARTHS = "RARE EARTHS"
WORLD_TOTAL = "World total"


def mcs_edition(mcs: pd.DataFrame) -> int:
    """The MCS edition: the year after the last data year (MCS 2026 carries estimates for 2025)."""
    return int(mcs["year"].max()) + 1


def _status(notes: str) -> str:
    """USGS marks estimates in the notes ('Estimated.'); everything else is reported."""
    return "estimated" if str(notes).strip().lower().startswith("estimated") else "reported"


def tables_from_mcs(mcs: pd.DataFrame, source: str) -> dict[str, pd.DataFrame]:
    """The USGS-derived tables of a world, built from the rare-earth rows of an MCS release."""
    re_rows = mcs[mcs["chapter"] == RARE_EARTHS]
    prod = re_rows[re_rows["category"] == "production"]
    production = pd.DataFrame({
        "usgs_country": prod["country"], "year": prod["year"], "quantity": prod["value"],
        "source": source, "status": prod["notes"].map(_status), "note": prod["notes"].fillna(""),
    }).dropna(subset=["quantity"])
    res = re_rows[re_rows["category"] == "reserves"]
    res = res[res["year"] == res["year"].max()]
    reserves = pd.DataFrame({
        "usgs_country": res["country"], "quantity": res["value"],
        "bound": res["flag"].where(res["flag"] == ">", ""), "source": source,
        "status": "reported", "note": res["notes"].fillna(""),
    })
    sal = mcs[(mcs["category"] == "us_salient") & (mcs["us_key"] != "")]
    us_salient = pd.DataFrame({
        "statistic": sal["us_key"], "year": sal["year"], "value": sal["value"], "unit": sal["unit"],
        "flag": sal["flag"], "source": source, "status": sal["notes"].map(_status),
    })
    price_rows = mcs[(mcs["category"] == "price") & (mcs["product"] != "")]
    prices = pd.DataFrame({"product": price_rows["product"], "year": price_rows["year"], "price": price_rows["value"]})
    return {
        "usgs_production": production.reset_index(drop=True),
        "usgs_reserves": reserves.reset_index(drop=True),
        "us_salient": us_salient.reset_index(drop=True),
        "prices": prices.dropna(subset=["price"]).reset_index(drop=True),
    }


# DS140 column -> (us_salient statistic, unit). The 1998-dollar unit value is left out: it is derived.
DS140_STATISTICS = {
    "us_production": ("mine_production", "metric tons"),
    "us_imports": ("imports", "metric tons"),
    "us_exports": ("exports", "metric tons"),
    "us_apparent_consumption": ("apparent_consumption", "metric tons"),
    "unit_value_usd_per_t": ("unit_value", "dollars per metric ton"),
}


def tables_from_ds140(ds140: pd.DataFrame, source: str, first_year: int) -> dict[str, pd.DataFrame]:
    """World mine production and US statistics from `first_year` on, from a DS140 series (`read_ds140`).

    DS140 gives no production by country, so the production rows are the world totals; a historical
    world takes its by-country rows from the Mineral Commodity Summaries of the time.
    """
    rows = ds140[ds140.index >= first_year]
    production = pd.DataFrame({
        "usgs_country": WORLD_TOTAL, "year": rows.index, "quantity": rows["world_production"],
        "source": source, "status": "reported", "note": "",
    }).dropna(subset=["quantity"])
    salient = [
        {"statistic": key, "year": year, "value": value, "unit": unit,
         "flag": "NA" if math.isnan(value) else "", "source": source, "status": "reported"}
        for column, (key, unit) in DS140_STATISTICS.items() for year, value in rows[column].items()
    ]
    return {"usgs_production": production.reset_index(drop=True), "us_salient": pd.DataFrame(salient)}


def _compare(category: str, unit: str, ours: pd.Series, theirs: pd.Series) -> pd.DataFrame:
    """Side-by-side values of two series with the same index (key, year)."""
    both = pd.concat({"dataset": ours, "file": theirs}, axis=1)

    def change(row: pd.Series) -> str:
        a, b = row["dataset"], row["file"]
        if pd.isna(a) and pd.isna(b):
            return "same"
        if pd.isna(a):
            return "new"
        if pd.isna(b):
            return "missing in file"
        return "same" if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else "changed"

    both["change"] = both.apply(change, axis=1) if len(both) else pd.Series(dtype=str)
    both = both.reset_index()
    both.columns = ["key", "year", "dataset", "file", "change"]
    both.insert(0, "category", category)
    both.insert(3, "unit", unit)
    return both


def diff_world(world: World, mcs: pd.DataFrame) -> pd.DataFrame:
    """Every rare-earth figure of the file against the dataset: production, reserves, prices, US statistics."""
    new = tables_from_mcs(mcs, source="file")
    prod_old = world.tables["usgs_production"].set_index(["usgs_country", "year"])["quantity"]
    prod_new = new["usgs_production"].set_index(["usgs_country", "year"])["quantity"]
    res_old = world.tables["usgs_reserves"].assign(year=0).set_index(["usgs_country", "year"])["quantity"]
    res_new = new["usgs_reserves"].assign(year=0).set_index(["usgs_country", "year"])["quantity"]
    base = world.base_year
    prices_old = world.tables["prices"].assign(year=base).set_index(["product", "year"])["price"]
    prices_new = new["prices"][new["prices"]["year"] == base].set_index(["product", "year"])["price"]
    prices_new = prices_new[prices_new.index.get_level_values(0).isin(world.tables["prices"]["product"])]
    sal_old = world.tables["us_salient"].set_index(["statistic", "year"])["value"]
    sal_new = new["us_salient"].set_index(["statistic", "year"])["value"]
    parts = [
        _compare("production", "t REO", prod_old, prod_new),
        _compare("reserves", "t REO", res_old, res_new),
        _compare("price", "USD/kg", prices_old[prices_old.index.isin(prices_new.index)], prices_new),
        _compare("us_salient", "see USGS unit", sal_old, sal_new),
    ]
    out = pd.concat(parts, ignore_index=True)
    out["year"] = out["year"].replace(0, pd.NA)
    return out


def diff_world_ds140(world: World, ds140: pd.DataFrame) -> pd.DataFrame:
    """The world totals and US statistics the dataset shares with a DS140 series, figure by figure.

    Only the years both hold are compared: DS140 runs from 1900 and a world keeps the years it needs.
    """
    new = tables_from_ds140(ds140, source="file", first_year=int(ds140.index.min()))
    usgs = world.tables["usgs_production"]
    prod_old = usgs[usgs["usgs_country"] == WORLD_TOTAL].set_index(["usgs_country", "year"])["quantity"]
    prod_new = new["usgs_production"].set_index(["usgs_country", "year"])["quantity"]
    sal = world.tables["us_salient"]
    sal_old = sal[sal["statistic"].isin([k for k, _ in DS140_STATISTICS.values()])]
    sal_old = sal_old.set_index(["statistic", "year"])["value"]
    sal_new = new["us_salient"].set_index(["statistic", "year"])["value"]
    parts = [_compare("production", "t REO", prod_old[prod_old.index.isin(prod_new.index)],
                      prod_new[prod_new.index.isin(prod_old.index)]),
             _compare("us_salient", "see USGS unit", sal_old[sal_old.index.isin(sal_new.index)],
                      sal_new[sal_new.index.isin(sal_old.index)])]
    return pd.concat(parts, ignore_index=True)


def _add_source(sources: pd.DataFrame, source: str, edition: int, source_file: str) -> pd.DataFrame:
    if source in set(sources["source"]):
        return sources
    row = {"source": source, "publisher": "U.S. Geological Survey",
           "title": f"Mineral Commodity Summaries {edition}, Rare Earths (data release)",
           "year": edition, "locator": source_file}
    return pd.concat([sources, pd.DataFrame([row])], ignore_index=True)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.PeriodDtype) or out[col].map(lambda v: isinstance(v, pd.Period)).any():
            out[col] = out[col].astype(str)
    out.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")


def write_updated_world(world: World, mcs: pd.DataFrame, out: Path, source_file: str) -> Path:
    """Write a copy of the world with its USGS tables and reported prices taken from `mcs`.

    The copy is built in a temporary folder beside `out`, validated against the schema, and only then
    renamed into place, so an interrupted or invalid update leaves nothing behind.
    """
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose a new folder for the updated dataset")
    edition = mcs_edition(mcs)
    source = f"usgs_mcs{edition}"
    new = tables_from_mcs(mcs, source)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        folder = tmp / "world"
        shutil.copytree(world.path, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        spec = world.schema.tables
        _write_csv(_add_source(world["sources"], source, edition, source_file), folder / spec["sources"].file)
        for name in ("usgs_production", "usgs_reserves", "us_salient"):
            _write_csv(new[name], folder / spec[name].file)
        prices = world["prices"]
        base = new["prices"][new["prices"]["year"] == world.base_year].set_index("product")["price"]
        hit = prices["product"].isin(base.index)
        prices.loc[hit, "price"] = prices.loc[hit, "product"].map(base)
        prices.loc[hit, "source"] = source
        prices.loc[hit, "status"] = "reported"
        _write_csv(prices, folder / spec["prices"].file)
        load_world(folder, check=False)  # schema, references and provenance must hold before we publish
        folder.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
