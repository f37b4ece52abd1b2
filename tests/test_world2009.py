"""The embedded 2009 world: it loads, agrees with USGS for 2009, cites a source for every number, and the
engine starts from it in January 2009 with prices near the recorded 2009 averages."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reesim.engine.core import Engine
from reesim.engine.parameters import draw_parameters
from reesim.engine.structure import build_structure
from reesim.engine.wedges import ConstantWedges
from reesim.errors import DatasetError
from reesim.market.fast import solve_fast
from reesim.usgs.compare import diff_world_ds140, tables_from_ds140
from reesim.usgs.ds140 import read_ds140
from reesim.world import base_year_of, load_world, world_path
from reesim.world.checks import run_checks, usgs_groups_comparison
from reesim.world.provenance import provenance_records
from reesim.world.summary import stage_shares

# 2009 averages FOB China, 99% oxides (Lynas price table, 2010); the engine's cleared prices are held to them.
RECORDED_2009 = {"oxide:La": 4.88, "oxide:Ce": 3.88, "oxide:Nd": 19.12, "oxide:Dy": 115.67,
                 "oxide:Tb": 361.67}


@pytest.fixture(scope="module")
def world():
    return load_world("world2009")


@pytest.fixture(scope="module")
def ds140(usgs: Path) -> pd.DataFrame:
    return read_ds140(usgs / "ds140_rare_earths_2020.xlsx")


def test_loads_validates_and_is_2009(world):
    assert world.base_year == 2009
    assert [r.problem.render() for r in run_checks(world) if not r.ok] == []
    assert load_world("2009").version == world.version  # the year alone names the built-in world


def test_base_year_of_reads_world_csv_alone(tmp_path: Path):
    assert base_year_of("world2024") == 2024
    assert base_year_of("world2009") == base_year_of("2009") == 2009
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(world_path("world2009") / "world.csv", lone / "world.csv")
    assert base_year_of(lone) == 2009  # no other table is needed
    with pytest.raises(DatasetError, match="table 'sources' is missing"):
        load_world(lone)


def test_mine_output_by_country_within_ten_percent_of_usgs(world, ds140):
    comparison = usgs_groups_comparison(world, 2009)
    listed = {"China", "India", "Brazil", "Malaysia", "United States", "Australia"}
    assert set(comparison["usgs_country"]) == listed
    for row in comparison.itertuples():
        assert abs(row.facilities - row.usgs) <= 0.10 * max(row.usgs, 1.0), row.usgs_country
    mines = world["facilities"].query("process == 'mine'")
    assert mines["output_base"].sum() == pytest.approx(ds140.at[2009, "world_production"], rel=0.10)
    by_region = mines.groupby("region")["output_base"].sum()
    assert by_region["CHN"] == pytest.approx(129_000, rel=0.10)
    assert by_region["USA"] == by_region["AUS"] == 0  # Mountain Pass idle, Mount Weld not yet concentrating


def test_china_stage_shares(world):
    """China mined about 96% of the DS140 world total (97% of what USGS lists) and made ~80% of NdFeB."""
    shares = stage_shares(world).set_index("stage")
    assert shares.at["mining", "CHN_share_location"] == pytest.approx(0.97, abs=0.02)
    assert shares.at["separation", "CHN_share_location"] > 0.95
    magnets = world["facilities"].query("product == 'magnet:NdFeB'")
    china = magnets.loc[magnets["region"] == "CHN", "output_base"].sum() / magnets["output_base"].sum()
    assert 0.75 <= china <= 0.80
    outside = magnets["output_base"].sum() * (1 - china)
    assert magnets.query("region == 'JPN'")["output_base"].sum() > 0.5 * outside  # Japan most of the rest


def test_every_number_has_a_source(world):
    records = provenance_records(world.schema, world.tables)
    assert set(records["source"]) <= set(world["sources"]["source"])
    for name, spec in world.schema.tables.items():
        df = world.tables[name]
        for attr in spec.sourced_attributes:
            column = df[attr]
            filled = int(column.notna().sum()) if column.dtype.kind == "f" else int((column != "").sum())
            assert records.query("table == @name and attribute == @attr").shape[0] == filled, (name, attr)
    assumed = pd.concat([world["facilities"].query("cost_status == 'assumed' or data_status == 'assumed'"),
                         world["prices"].query("status == 'assumed'"), world["demand"]])
    assert (assumed["note"].str.len() > 20).all()


def test_usgs_tables_are_ds140_as_published(world, ds140):
    """World totals and US statistics were written from the DS140 workbook, not retyped."""
    fresh = tables_from_ds140(ds140, source="usgs_ds140", first_year=2000)
    ours = world["usgs_production"].query("source == 'usgs_ds140'").reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, fresh["usgs_production"], check_dtype=False)
    salient = world["us_salient"].sort_values(["statistic", "year"]).reset_index(drop=True)
    theirs = fresh["us_salient"].sort_values(["statistic", "year"]).reset_index(drop=True)
    assert list(salient[["statistic", "year"]].itertuples(index=False)) == \
        list(theirs[["statistic", "year"]].itertuples(index=False))
    np.testing.assert_allclose(salient["value"].to_numpy(float), theirs["value"].to_numpy(float))


def test_ds140_diff_names_each_changed_figure(world, ds140):
    assert (diff_world_ds140(world, ds140)["change"] == "same").all()
    edited = ds140.copy()
    edited.loc[2009, "world_production"] = 130_000.0
    diff = diff_world_ds140(world, edited).set_index(["category", "key", "year"])
    assert diff.at[("production", "World total", 2009), "change"] == "changed"
    assert (diff["change"] == "changed").sum() == 1
    assert len(diff) == 21 + 21 * 5  # world totals and five US statistics for 2000-2020


def test_export_quotas_and_prices_as_recorded(world):
    quotas = world["quotas"].query("kind == 'export'").set_index("year")["quantity"]
    assert list(quotas.index) == list(range(2009, 2015))
    assert quotas[2010] / quotas[2009] - 1 == pytest.approx(-0.40, abs=0.01)  # facts.md D1: -40%
    prices = world["prices"].set_index("product")
    for product, value in RECORDED_2009.items():
        assert prices.at[product, "price"] == value and prices.at[product, "status"] == "reported"


def test_non_china_projects_of_the_time(world):
    fac = world["facilities"].set_index("facility")
    mountain_pass = fac.loc["USA_MOUNTAIN_PASS"]
    assert (mountain_pass["status"], str(mountain_pass["start"])) == ("idle", "2012-08")
    assert fac.at["AUS_MT_WELD", "start"].year == 2011
    assert str(fac.at["MYS_LYNAS_KUANTAN", "start"]) == "2012-11"
    assert fac.at["MYS_LYNAS_KUANTAN", "controller"] == "AUS"


def test_world_total_check_catches_a_mine_usgs_leaves_out(tmp_path: Path):
    """Russia is NA in the 2009 USGS table, so only the DS140 world total can catch a wrong Russian figure."""
    folder = tmp_path / "w"
    shutil.copytree(world_path("world2009"), folder)
    fac = pd.read_csv(folder / "facilities.csv", dtype=str, keep_default_na=False)
    fac.loc[fac["facility"] == "RUS_LOVOZERO", ["capacity", "output_base"]] = "10000"
    fac.to_csv(folder / "facilities.csv", index=False, lineterminator="\n")
    problems = [r.problem.render() for r in run_checks(load_world(folder, check=False)) if not r.ok]
    assert any("USGS country=World total" in p and "135,000" in p for p in problems)


def test_engine_starts_in_2009_with_recorded_prices(world):
    """A few months clear from the 2009 world with China's prices within 25% of the recorded 2009 averages."""
    structure = build_structure(world)
    assert structure.base_month == pd.Period("2009-01", freq="M")
    rngs = [np.random.default_rng(seed) for seed in np.random.SeedSequence(9).spawn(2)]
    months = 6
    engine = Engine(structure, draw_parameters({}, rngs), rngs, months, ConstantWedges(), solve_fast)
    prices = np.stack([engine.step(t).price for t in range(months)], axis=1)  # (member, month, region, prod.)
    assert np.isfinite(prices).all()
    china = prices[:, :, structure.regions.index("CHN"), :].mean(axis=(0, 1))
    for product, recorded in RECORDED_2009.items():
        traded = "oxide:NdPr" if product == "oxide:Nd" else product  # Nd trades as NdPr oxide in the engine
        cleared = china[structure.products.index(traded)]
        assert cleared == pytest.approx(recorded, rel=0.25), product
