"""The embedded 2024 world: it loads, passes its checks, and agrees with the official USGS files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reesim.usgs.compare import tables_from_mcs
from reesim.usgs.mcs import read_mcs_rare_earths
from reesim.usgs.myb import read_myb_compositions
from reesim.world import load_world
from reesim.world.checks import run_checks, usgs_groups_comparison
from reesim.world.provenance import provenance_records
from reesim.world.summary import stage_shares

REQUIRED_REGIONS = {"CHN", "MMR", "LAO", "MYS", "VNM", "THA", "AUS", "USA", "CAN", "BRA", "EU", "GBR", "JPN",
                    "KOR", "IND", "RUS", "AFR", "ROW"}
ELEMENTS = {"La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y", "Sc"}


@pytest.fixture(scope="module")
def world():
    return load_world()


def test_all_checks_pass(world):
    failures = [r.problem.render() for r in run_checks(world) if not r.ok]
    assert failures == []


def test_required_regions_elements_and_products(world):
    assert REQUIRED_REGIONS <= set(world["regions"]["region"])
    assert set(world["elements"]["element"]) == ELEMENTS
    products = set(world["products"]["product"])
    assert {"oxide:NdPr", "metal:NdPr", "magnet:NdFeB", "magnet:SmCo"} <= products
    assert {f"oxide:{e}" for e in ELEMENTS} <= products
    assert set(world["regions"]["alignment"]) == {"china", "g7", "partner", "neutral"}


def test_named_real_facilities_present(world):
    names = " ".join(world["facilities"]["name"])
    for needle in ["Mountain Pass", "Mount Weld", "Kuantan", "Kalgoorlie", "Eneabba", "La Rochelle", "Silmet",
                   "Narva", "Independence", "10X", "Vulcan", "e-VAC", "USA Rare Earth", "Noveon",
                   "Energy Fuels", "Nolans", "Serra Verde", "Shin-Etsu", "Bayan Obo"]:
        assert needle in names, needle


def test_2024_mine_output_matches_usgs_file(world, mcs_csv):
    """Facilities reproduce the MCS 2026 file's 2024 production by country, to USGS rounding."""
    mcs = read_mcs_rare_earths(mcs_csv)
    prod = mcs[(mcs["chapter"] == "RARE EARTHS") & (mcs["category"] == "production") & (mcs["year"] == 2024)]
    file_values = prod.set_index("country")["value"].drop("World total")
    comparison = usgs_groups_comparison(world, 2024)
    for row in comparison.itertuples():
        countries = row.usgs_country.split(" + ")
        assert row.usgs == pytest.approx(file_values.reindex(countries).sum())
        assert abs(row.facilities - row.usgs) <= max(0.005 * row.usgs, 50), row.usgs_country
    covered = {c for group in comparison["usgs_country"] for c in group.split(" + ")}
    assert covered == set(file_values.index)
    world_total = prod.set_index("country").at["World total", "value"]
    mines = world["facilities"].query("process == 'mine'")["output_base"].sum()
    assert round(mines, -4) == world_total  # USGS rounds the world total to two significant digits


def test_embedded_usgs_tables_are_the_file_as_published(world, mcs_csv):
    """The USGS tables were written by the importer from the file, not retyped."""
    fresh = tables_from_mcs(read_mcs_rare_earths(mcs_csv), source="usgs_mcs2026")
    for name, key in [("usgs_production", ["usgs_country", "year"]), ("usgs_reserves", ["usgs_country"]),
                      ("us_salient", ["statistic", "year"])]:
        ours = world[name].sort_values(key).reset_index(drop=True)
        theirs = fresh[name].sort_values(key).reset_index(drop=True)
        value = "value" if name == "us_salient" else "quantity"
        assert list(ours[key].itertuples(index=False)) == list(theirs[key].itertuples(index=False))
        np.testing.assert_allclose(ours[value].to_numpy(float), theirs[value].to_numpy(float))
    reported = world["prices"].query("source == 'usgs_mcs2026'").set_index("product")["price"]
    file_prices = fresh["prices"].query("year == 2024").set_index("product")["price"]
    assert len(reported) >= 9
    np.testing.assert_allclose(reported, file_prices.reindex(reported.index))


def test_compositions_are_the_myb_table_normalised(world, usgs):
    """Deposit baskets are USGS MYB 2022 table 2 rows, NA as 0, upper bounds at the bound, scaled to 1."""
    myb = read_myb_compositions(usgs / "myb2022_rare_earths_tables.xlsx")
    examples = world["deposit_types"].set_index("deposit_type")["example"]
    from_myb = set(world["compositions"].query("source == 'usgs_myb2022'")["deposit_type"])
    assert len(from_myb) == 7
    comp = world.composition()
    for deposit, example in examples[examples.index.isin(from_myb)].items():
        location = example.split(" (")[0].split(",")[0].strip()
        rows = myb[myb["location"].str.startswith(location)]
        assert len(rows) > 0, f"no MYB T2 row for {location}"
        percent = rows.set_index("element")["percent"].fillna(0.0)
        expected = (percent / percent.sum()).reindex(comp.columns, fill_value=0.0)
        np.testing.assert_allclose(comp.loc[deposit], expected, atol=2e-6, err_msg=deposit)


def test_heavy_basket_is_heavy_and_light_basket_light(world):
    comp = world.composition()
    assert comp.at["ionic_clay_heavy", "Dy"] > 20 * comp.at["mixed_bastnaesite_monazite", "Dy"]
    assert comp.at["mixed_bastnaesite_monazite", "Nd"] > 5 * comp.at["ionic_clay_heavy", "Nd"]


def test_every_number_has_a_source(world):
    records = provenance_records(world.schema, world.tables)
    assert set(records["source"]) <= set(world["sources"]["source"])
    assert set(records["status"]) <= {"reported", "estimated", "assumed"}
    for name, spec in world.schema.tables.items():
        df = world.tables[name]
        for attr in spec.sourced_attributes:
            filled = int(df[attr].notna().sum()) if df[attr].dtype.kind == "f" else int((df[attr] != "").sum())
            assert (records.query("table == @name and attribute == @attr").shape[0]) == filled, (name, attr)
    assumed = world["facilities"].query("cost_status == 'assumed' or data_status == 'assumed'")
    assert (assumed["note"].str.len() > 10).all()


def test_china_shares_near_sourced_figures(world):
    shares = stage_shares(world).set_index("stage")
    assert shares.at["mining", "CHN_share_location"] == pytest.approx(270_000 / 380_000, abs=0.01)
    assert shares.at["separation", "CHN_share_location"] == pytest.approx(0.91, abs=0.03)  # IEA 2025
    assert shares.at["magnet", "CHN_share_location"] == pytest.approx(0.94, abs=0.03)  # IEA 2025
    assert shares.at["metal", "CHN_share_location"] >= 0.88
    # Location is not control: Lynas Malaysia sits in MYS but is controlled from Australia.
    lynas = world["facilities"].set_index("facility").loc["MYS_LYNAS_KUANTAN"]
    assert (lynas["region"], lynas["controller"]) == ("MYS", "AUS")


def test_capacity_covers_quotas_and_output(world):
    fac = world["facilities"]
    assert (fac["output_base"] <= fac["capacity"]).all()
    quotas = world["quotas"].set_index("kind")["quantity"]
    assert fac.query("quota == 'mining'")["capacity"].sum() >= quotas["mining"]
    assert fac.query("quota == 'separation'")["capacity"].sum() >= quotas["separation"]


def test_pipeline_dates(world):
    fac = world["facilities"].set_index("facility")
    assert fac.at["USA_MP_10X", "start"] == pd.Period("2028-01", freq="M")
    assert fac.at["USA_EF_WHITE_MESA_2", "start"].year == 2029
    assert fac.at["AUS_ILUKA_ENEABBA", "start"].year == 2027
    assert set(fac["status"]) >= {"operating", "construction", "announced"}


def test_import_has_no_side_effects():
    code = ("import sys, reesim; heavy=[m for m in ('pandas','numpy','xarray','yaml','typer') if m in sys.modules];"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    assert out.stderr == ""


def test_version_is_content_hash(world, world_copy: Path):
    copy = load_world(world_copy)
    assert copy.version == world.version
    path = world_copy / "prices.csv"
    path.write_text(path.read_text().replace("oxide:La,0.97", "oxide:La,0.98"))
    assert load_world(world_copy).version != world.version
