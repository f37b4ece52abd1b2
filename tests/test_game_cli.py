"""`reesim game`: the grid of strategy profiles, payoff tables, equilibria and their output."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from reesim.actors.grid import evaluate_grid
from reesim.actors.leverage import LeverageSpec
from reesim.cli.main import app
from reesim.errors import InputError
from reesim.game.analysis import analyse
from reesim.game.payoffs import payoff_tables
from reesim.scenario import load_scenario

runner = CliRunner()
SHORT = ["--members", "1", "--end", "2026-08", "--no-partners"]  # the blunt ban's trigger (July 2026) is inside


def run(*args: str):
    return runner.invoke(app, ["game", *args], catch_exceptions=False, env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def grid():
    scenario = load_scenario("baseline", members=1, end="2026-08")
    return evaluate_grid(scenario, ["status-quo", "blunt-ban"], ["passive"],
                         leverage=LeverageSpec(window_months=3, cutoff_months=2))


def test_the_grid_plays_every_profile_on_the_same_members(grid):
    out = grid.outcomes.set_index(["china_strategy", "g7_strategy"])
    assert list(out.index) == [("status-quo", "passive"), ("blunt-ban", "passive")]
    quo, ban = out.loc[("status-quo", "passive")], out.loc[("blunt-ban", "passive")]
    assert quo["months_of_controls"] == 0 and ban["months_of_controls"] == 2
    assert ban["china_export_revenue"] < quo["china_export_revenue"]
    assert ban["g7_shortfall_value"] > quo["g7_shortfall_value"]
    assert set(grid.yearly["year"]) == {2024, 2025, 2026}
    assert len(grid.leverage) == 2 and grid.leverage["index"].notna().all()


def test_grid_metrics_become_payoff_tables_and_an_analysis(grid):
    china, g7 = payoff_tables(grid.outcomes)
    assert china.dims == ("member", "china", "g7") and china.shape == (1, 2, 1)
    analysis = analyse(china, g7)
    leader = analysis.robustness.table.query("kind == 'stackelberg_strong'")
    assert len(leader) == 1 and leader["share"].item() == 1.0


def test_a_grid_needs_distinct_known_strategies():
    scenario = load_scenario("baseline", members=1, end="2024-03")
    with pytest.raises(InputError, match="unknown strategy 'charm'"):
        evaluate_grid(scenario, ["charm"], ["passive"])
    with pytest.raises(InputError, match="repeat"):
        evaluate_grid(scenario, ["blunt-ban", "blunt-ban"], ["passive"])


def dilemma(path: Path) -> Path:
    """A saved metrics table whose game, under revenue-only objectives, is a prisoner's dilemma."""
    china = {("status-quo", "passive"): 3, ("status-quo", "decouple"): 0,
             ("blunt-ban", "passive"): 5, ("blunt-ban", "decouple"): 1}
    g7 = {("status-quo", "passive"): 3, ("status-quo", "decouple"): 5,
          ("blunt-ban", "passive"): 0, ("blunt-ban", "decouple"): 1}
    rows = [{"member": m, "china_strategy": c, "g7_strategy": g, "china_export_revenue": china[c, g] + 0.1 * m,
             "g7_prices_paid": -g7[c, g]} for m in range(2) for (c, g) in china]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def objectives(path: Path, text: str = "china: {weights: {china_export_revenue: 1}}\n"
                                       "g7: {weights: {g7_prices_paid: -1}}\n") -> Path:
    path.write_text(text)
    return path


def test_game_reports_the_dilemmas_equilibrium_as_json_and_a_figure(tmp_path):
    figure = tmp_path / "game.png"
    result = run("--metrics", str(dilemma(tmp_path / "m.csv")), "--objectives", str(objectives(tmp_path / "o.yaml")),
                 "--figure", str(figure), "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    by_kind = {o["kind"]: o for o in record["outcomes"]}
    assert by_kind["pure_nash"]["row_support"] == ["blunt-ban"] and by_kind["pure_nash"]["col_support"] == ["decouple"]
    assert by_kind["pure_nash"]["share"] == 1.0
    assert by_kind["stackelberg_strong"]["row_support"] == ["blunt-ban"]
    assert "mixed_nash" not in by_kind
    assert record["mixed_commitment"]["china_mix"]["blunt-ban"] == pytest.approx(1.0)
    assert record["median_payoffs"]["china"]["status-quo"]["passive"] == pytest.approx(3.05)
    assert figure.stat().st_size > 10_000 and record["figure"] == str(figure)


def test_game_prints_tables(tmp_path):
    result = run("--metrics", str(dilemma(tmp_path / "m.csv")), "--objectives", str(objectives(tmp_path / "o.yaml")),
                 "--figure", str(tmp_path / "f.png"))
    assert result.exit_code == 0
    assert "Equilibria and Stackelberg outcomes" in result.output and "pure_nash" in result.output
    assert "China's payoff" in result.output and "Figure written" in result.output


def test_game_simulates_a_small_grid_end_to_end(tmp_path):
    saved = tmp_path / "metrics.csv"
    result = run("--china", "status-quo,blunt-ban", "--g7", "passive", *SHORT, "--json", "--save", str(saved),
                 "--figure", str(tmp_path / "f.png"))
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    profiles = {p["china_strategy"]: p for p in record["profiles"]}
    assert profiles["blunt-ban"]["months_of_controls"] == 2 and profiles["status-quo"]["months_of_controls"] == 0
    assert profiles["blunt-ban"]["year"] == 2026
    assert len(pd.read_csv(saved)) == 2
    assert {o["kind"] for o in record["outcomes"]} >= {"pure_nash", "stackelberg_strong"}


@pytest.mark.parametrize(("args", "needle"), [
    (["--china", "charm", *SHORT], "unknown strategy 'charm'"),
    (["--metrics", "missing.csv"], "missing.csv"),
])
def test_bad_input_is_named(args, needle):
    result = run(*args)
    assert result.exit_code == 1
    assert needle in result.output


def test_bad_objectives_name_the_file_and_key(tmp_path):
    path = objectives(tmp_path / "o.yaml", "china: {weights: {china_export_revenue: 1}}\n"
                                           "g7: {weights: {g7_prices_paid: -1}, wieghts: {}}\n")
    result = run("--metrics", str(dilemma(tmp_path / "m.csv")), "--objectives", str(path))
    assert result.exit_code == 1
    assert "o.yaml" in result.output and "g7.wieghts" in result.output
