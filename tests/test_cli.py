"""The `reesim data` commands on the embedded world and the real USGS files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from reesim.cli.main import app
from reesim.world import load_world

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "200"})


def test_help_of_each_command_is_useful():
    for args, needle in [((), "data"), (("data",), "import-usgs"), (("data", "show"), "--table"),
                         (("data", "sources"), "status"), (("data", "check"), "consistency"),
                         (("data", "import-usgs"), "Data Series 140")]:
        result = run(*args, "--help")
        assert result.exit_code == 0
        assert needle in result.output


def test_show_summary_and_table_and_schema():
    result = run("data", "show")
    assert result.exit_code == 0
    assert "China's share" in result.output and "separation" in result.output
    result = run("data", "show", "--table", "facilities", "--rows", "5", "--columns", "facility,region,capacity")
    assert result.exit_code == 0 and "CHN_BAYAN_OBO" in result.output and "more rows" in result.output
    result = run("data", "show", "--table", "facilities", "--schema")
    assert result.exit_code == 0 and "controller" in result.output and "t/yr" in result.output
    assert run("data", "show", "--table", "nope").exit_code == 2
    assert run("data", "show", "--table", "facilities", "--columns", "bogus").exit_code == 2


def test_sources_lists_publishers_and_counts():
    result = run("data", "sources")
    assert result.exit_code == 0
    assert "U.S. Geological Survey" in result.output and "Values by status" in result.output


def test_check_passes_on_default_and_fails_on_broken(world_copy: Path):
    assert run("data", "check").exit_code == 0
    df = pd.read_csv(world_copy / "facilities.csv", dtype=str, keep_default_na=False)
    df.loc[df["facility"] == "USA_MOUNTAIN_PASS", "output_base"] = "99999"
    df.to_csv(world_copy / "facilities.csv", index=False)
    result = run("data", "check", "--world", str(world_copy))
    assert result.exit_code == 1
    assert "FAIL" in result.output and "United States" in result.output


def test_import_usgs_shows_differences_and_writes_update(mcs_csv: Path, world_copy: Path, tmp_path: Path):
    # Make the dataset differ from the file in one production figure and one price.
    prod = pd.read_csv(world_copy / "usgs_production.csv", dtype=str, keep_default_na=False)
    prod.loc[(prod["usgs_country"] == "Australia") & (prod["year"] == "2024"), "quantity"] = "13000"
    prod.to_csv(world_copy / "usgs_production.csv", index=False)
    result = run("data", "import-usgs", str(mcs_csv), "--world", str(world_copy), "--write", str(tmp_path / "new"))
    assert result.exit_code == 0, result.output
    assert "Australia" in result.output and "changed" in result.output
    updated = load_world(tmp_path / "new", check=False)
    aus = updated["usgs_production"].query("usgs_country == 'Australia' and year == 2024")["quantity"]
    assert aus.tolist() == [29000.0]
    assert run("data", "check", "--world", str(tmp_path / "new")).exit_code == 0
    # An existing target is never overwritten.
    again = run("data", "import-usgs", str(mcs_csv), "--world", str(world_copy), "--write", str(tmp_path / "new"))
    assert again.exit_code == 1 and "already exists" in again.output


def test_import_usgs_on_default_world_finds_no_difference(mcs_csv: Path):
    result = run("data", "import-usgs", str(mcs_csv))
    assert result.exit_code == 0
    assert ": 0 of" in result.output


def test_import_usgs_reads_ds140(usgs: Path):
    result = run("data", "import-usgs", str(usgs / "ds140_rare_earths_2020.xlsx"))
    assert result.exit_code == 0
    assert "243,000" in result.output  # world production 2020


def test_import_usgs_refuses_another_layout(tmp_path: Path):
    bad = tmp_path / "other.csv"
    bad.write_text("country,year,tonnes\nChina,2024,270000\n")
    result = run("data", "import-usgs", str(bad))
    assert result.exit_code == 1
    assert "other.csv" in result.output and "Fix:" in result.output


def test_run_writes_results_and_manifest(tmp_path: Path):
    import json

    out = tmp_path / "run"
    result = run("run", "--members", "2", "--seed", "4", "--end", "2024-03", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "oxide:NdPr" in result.output and "China's share" in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 4 and manifest["members"] == 2 and manifest["scenario"]["end"] == "2024-03"
    assert manifest["variables"]["price"]["units"] == "USD/kg"
    prices = pd.read_parquet(out / "price.parquet")
    assert set(prices.columns) == {"member", "time", "region", "product", "price"}
    assert len(prices) == 2 * 3 * 18 * prices["product"].nunique()
    again = run("run", "--members", "2", "--end", "2024-03", "--out", str(out))
    assert again.exit_code == 1 and "not empty" in again.output
    assert run("run", "no-such-scenario").exit_code == 1
