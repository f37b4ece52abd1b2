"""The scenario language and the built-in library: files, extends, validation messages, and every
built-in scenario run end to end with the claims of its page checked against the baseline."""

from __future__ import annotations

import itertools
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from reesim.cli.main import app
from reesim.engine.simulate import run_scenario
from reesim.errors import InputError
from reesim.scenario import BUILTIN_SCENARIOS, load_scenario
from reesim.scenario_files import check_file

REQUIRED = {"baseline", "2025-controls", "three-pillars-2026", "blunt-ban", "g7-price-floor-club"}


@cache
def run(name: str, end: str):
    return run_scenario(load_scenario(name, members=1, end=end))


def premium(results, product: str, region: str, when: str | slice) -> float:
    price = results.dataset["price"].sel(product=product, time=when)
    return float(price.sel(region=region).mean() / price.sel(region="CHN").mean())


def test_library_has_the_required_scenarios_with_pages():
    assert REQUIRED <= set(BUILTIN_SCENARIOS) and len(BUILTIN_SCENARIOS) >= 7
    for name, sc in BUILTIN_SCENARIOS.items():
        assert sc.name == name and sc.description and len(sc.notes) > 200 and sc.sources, name


def test_baseline_has_no_events_and_costs_nothing():
    results = run("baseline", "2025-06")
    assert not BUILTIN_SCENARIOS["baseline"].timeline
    assert "fiscal_cost" not in results.dataset
    assert float(results.statistics.fiscal_cost().sum()) == 0


def test_2025_controls_page_claims():
    results = run("2025-controls", "2026-06")
    assert premium(results, "oxide:Dy", "JPN", slice("2025-07", "2025-12")) > 1.2
    assert premium(run("baseline", "2026-06"), "oxide:Dy", "JPN", slice("2025-07", "2025-12")) < 1.01
    assert float(results.statistics.fiscal_cost(payer="USA", instrument="us-ndpr-floor").sum()) > 0
    halted = results.dataset["trade"].sel(origin="USA", destination="CHN", product="concentrate:carbonatite_bastnaesite",
                                          time=slice("2025-05", None))
    assert float(halted.sum()) == 0
    before = results.dataset["trade"].sel(origin="USA", destination="CHN", product="concentrate:carbonatite_bastnaesite",
                                          time=slice("2024-01", "2025-03"))
    assert float(before.sum()) > 0


def test_blunt_ban_opens_a_g7_wedge_only_while_it_lasts():
    results = run("blunt-ban", "2027-12")
    assert premium(results, "oxide:Dy", "JPN", slice("2026-10", "2027-06")) > 1.3
    assert premium(results, "oxide:Dy", "JPN", slice("2026-01", "2026-06")) < 1.01
    flows = results.dataset["trade"].sel(origin="CHN", destination="JPN", product="magnet:NdFeB")
    assert float(flows.sel(time=slice("2026-07", "2027-06")).sum()) == 0
    assert float(flows.sel(time=slice("2027-07", "2027-12")).sum()) > 0


def test_price_floor_club_costs_its_treasuries_and_fills_stockpiles():
    results = run("g7-price-floor-club", "2027-12")
    stats = results.statistics
    assert float(stats.fiscal_cost(payer="USA").sum()) > 0
    assert float(stats.fiscal_cost(payer="JPN").sum()) > 0
    level = results.dataset["stockpile"].sel(region="USA", product="oxide:Dy", time="2027-12-01")
    assert 0 < float(level.squeeze()) <= 300 + 1e-9


def test_myanmar_outage_raises_heavy_rare_earth_prices():
    outage, base = run("myanmar-outage", "2026-12"), run("baseline", "2026-12")
    when = slice("2026-06", "2026-12")
    assert float(outage.dataset["price"].sel(product="oxide:Dy", region="CHN", time=when).mean()) > 1.05 * float(
        base.dataset["price"].sel(product="oxide:Dy", region="CHN", time=when).mean())


def test_technology_ban_bites_delays_new_western_separation_by_two_years():
    banned, base = run("tech-ban-bites", "2028-12"), run("baseline", "2028-12")

    def first_month(results, facility: str) -> int:
        capacity = results.dataset["capacity"].sel(facility=facility).squeeze().values
        return int(np.flatnonzero(capacity > 0)[0]) if (capacity > 0).any() else len(capacity)

    for facility in ("EU_SOLVAY_LA_ROCHELLE", "MYS_LYNAS_HEAVY"):
        assert first_month(banned, facility) >= first_month(base, facility) + 24


def test_three_pillars_runs_a_china_controlled_refinery_in_malaysia_and_calibrated_controls():
    results = run("three-pillars-2026", "2029-06")
    ds = results.dataset
    assert str(ds["facility_region"].sel(facility="MYS_CHN_REFINERY").values) == "MYS"
    assert str(ds["facility_controller"].sel(facility="MYS_CHN_REFINERY").values) == "CHN"
    assert float(ds["output"].sel(facility="MYS_CHN_REFINERY", time="2028").mean()) > 0
    stats = results.statistics
    location = float(stats.stage_share(by="location").sel(stage="separation", time="2028").mean())
    control = float(stats.stage_share(by="controller").sel(stage="separation", time="2028").mean())
    assert control > location
    # The calibrated controls fire when China's separation share by controller is below 86 %, act for six
    # months, and cannot return for 18 more.
    share = stats.stage_share(by="controller").sel(stage="separation").squeeze().values
    active = ds["in_force"].sel(instrument="calibrated-controls").squeeze().values.astype(bool)
    months = [str(t)[:7] for t in ds["time"].values]
    starts = [i for i in range(1, len(active)) if active[i] and not active[i - 1]]
    assert starts and months[starts[0]] >= "2027-01"
    assert all(share[i - 1] < 0.86 for i in starts)
    assert all(active[i:i + 6].all() and not active[i + 6] for i in starts if i + 6 < len(active))
    assert all(b - a >= 24 for a, b in itertools.pairwise(starts))
    assert float(stats.fiscal_cost(payer="JPN", instrument="stockpile-jp-dy").sum()) > 0


def test_extends_appends_the_timeline_and_overrides_fields(tmp_path: Path):
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nextends: 2025-controls\nmembers: 3\nend: 2027-12\ntimeline:\n"
                    "  - {instrument: tariff, start: 2026-01, importers: [EU], goods: {products: [magnet:NdFeB]}, "
                    "rate: 0.1}\n")
    sc = load_scenario(path)
    parent = BUILTIN_SCENARIOS["2025-controls"]
    assert sc.members == 3 and sc.end == "2027-12" and sc.extends == "2025-controls"
    assert len(sc.timeline) == len(parent.timeline) + 1 and sc.timeline[-1].instrument == "tariff"
    assert dict(sc.uncertain) == dict(parent.uncertain)
    assert load_scenario({"name": "m", "extends": "baseline"}).uncertain == BUILTIN_SCENARIOS["baseline"].uncertain


BAD = """name: bad
extends: baseline
end: 2030-12
timeline:
  - instrument: export_licence
    start: 2026-01
    goods: {elements: [Dy, Xx]}
    destinations: [USA, MARS]
    approval_rate: 1.5
  - instrument: teleport
    start: 2026-01
  - instrument: tariff
    start: 2031-01
    importers: [USA]
    goods: {products: [magnet:NdFeB]}
    rate: -0.2
"""


def test_validate_reports_every_problem_with_line_key_and_fix(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    problems = {(p.file, p.key): p for p in check_file(path)}
    assert (f"{path}:9", "timeline.0.approval_rate") in problems  # rate above 1
    assert (f"{path}:10", "timeline.1") in problems  # unknown instrument
    assert (f"{path}:16", "timeline.2.rate") in problems  # negative rate
    assert (f"{path}:13", "timeline.2.start") in problems  # outside the horizon
    names = problems[(f"{path}:5", "timeline.0")].problem
    assert "MARS" in names and "Xx" in names  # unknown region and element, both reported
    assert all(p.fix for p in problems.values())
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1 and "5 problem(s)" in result.output


def test_validate_compiles_actors_against_the_world(tmp_path: Path):
    path = tmp_path / "actors.yaml"
    path.write_text("name: actor-check\nend: 2026-12\nactors:\n  - kind: g7\n    importers: [ATLANTIS]\n"
                    "    tariff: 0.1\n")
    problems = check_file(path)
    assert len(problems) == 1 and problems[0].key == "actors.g7" and "ATLANTIS" in problems[0].problem
    assert problems[0].fix
    path.write_text("name: actor-check\nend: 2026-12\nactors:\n  - kind: china\n    strategy: inducement-first\n")
    assert check_file(path) == []  # its refinery commitments are added to the world before the check


def test_validate_accepts_every_builtin_file():
    folder = Path(load_scenario.__globals__["resources"].files("reesim.scenarios"))
    for path in sorted(folder.glob("*.yaml")):
        assert check_file(path) == [], path.name


def test_bad_target_and_duplicate_ids_are_errors():
    with pytest.raises(InputError, match="target 'nope'"):
        load_scenario({"name": "x", "timeline": [{"instrument": "suspend", "start": "2025-01", "target": "nope"}]})
    event = {"instrument": "quota", "id": "q", "start": "2025-01", "kind": "mining", "level": 1e5}
    with pytest.raises(InputError, match="used twice"):
        load_scenario({"name": "x", "timeline": [event, event]})


def test_schema_and_scenarios_commands():
    runner = CliRunner()
    schema = json.loads(runner.invoke(app, ["schema"]).output)
    assert schema["additionalProperties"] is False and "timeline" in schema["properties"]
    listed = runner.invoke(app, ["scenarios"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and all(name in listed.output for name in REQUIRED)
    page = runner.invoke(app, ["scenarios", "blunt-ban"], env={"COLUMNS": "200"})
    assert page.exit_code == 0 and "g7-ban" in page.output and "Sources" in page.output
    assert runner.invoke(app, ["scenarios", "nope"]).exit_code == 2
