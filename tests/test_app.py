"""The dashboard: levers map to validated scenarios (no browser), and an end-to-end run in Chromium."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from pydantic import ValidationError

from reesim.app.levers import Floor, Levers, Licence, Reserve, scenario_of
from reesim.app.runner import obtain, scenario_yaml, zipped
from reesim.errors import InputError
from reesim.scenario import load_scenario
from reesim.store import RunStore, planned_key

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"


def test_levers_add_dated_events_to_the_chosen_scenario():
    levers = Levers(scenario="2025-controls", members=4, seed=2, end="2027-06",
                    licence=Licence(elements=["Dy", "Tb"], approval_rate=0.2, start="2026-01", end="2026-06"),
                    floor=Floor(region="EU", product="oxide:NdPr", level=95.0, start="2026-03"),
                    stockpile=Reserve(region="JPN", product="oxide:Tb", size=40.0, start="2026-02"))
    scenario = scenario_of(levers)
    parent = load_scenario("2025-controls")
    assert (scenario.members, scenario.seed, scenario.end) == (4, 2, "2027-06")
    assert len(scenario.timeline) == len(parent.timeline) + 3
    added = {e.instrument: e for e in scenario.timeline[len(parent.timeline):]}
    licence = added["export_licence"]
    assert (licence.approval_rate, licence.start, licence.end) == (0.2, "2026-01", "2026-06")
    assert licence.goods.elements == ["Dy", "Tb"] and licence.exporter == "CHN"
    assert (added["price_floor"].level, added["price_floor"].payer, added["price_floor"].product) == \
        (95.0, "EU", "oxide:NdPr")
    assert (added["stockpile"].size, added["stockpile"].region) == (40.0, "JPN")


def test_without_policy_levers_the_run_is_the_builtin_scenario():
    plain = scenario_of(Levers(scenario="baseline", members=2, end="2024-04"))
    assert plain == load_scenario("baseline", members=2, end="2024-04")
    assert planned_key(plain) == planned_key(load_scenario("baseline", members=2, end="2024-04"))


@pytest.mark.parametrize(("raw", "where"), [
    ({"licence": {"elements": ["Dy"], "approval_rate": 1.5, "start": "2025-04"}}, "approval_rate"),
    ({"licence": {"elements": ["Dy"], "approval_rate": 0.5, "start": "2025-13"}}, "start"),
    ({"licence": {"elements": ["Unobtainium"], "approval_rate": 0.5, "start": "2025-04"}}, "elements"),
    ({"floor": {"region": "USA", "product": "oxide:NdPr", "level": "__import__('os').getcwd()",
                "start": "2025-04"}}, "level"),
    ({"stockpile": {"region": "USA", "product": "oxide:Dy", "size": 10, "start": "2025-04", "code": "1"}}, "code"),
])
def test_bad_levers_are_refused_with_their_key(raw: dict, where: str):
    with pytest.raises(ValidationError) as refused:
        Levers.model_validate({"scenario": "baseline", **raw})
    assert where in str(refused.value)


def test_levers_are_checked_like_scenario_files():
    late = Levers(scenario="baseline", end="2025-06",
                  licence=Licence(elements=["Dy"], approval_rate=0.5, start="2026-01"))
    with pytest.raises(InputError, match="after the end of the horizon"):
        scenario_of(late)
    with pytest.raises(InputError, match="no-such-scenario"):
        scenario_of(Levers(scenario="no-such-scenario"))


def test_runner_reuses_stored_runs_and_packs_them(tmp_path: Path):
    store = RunStore(tmp_path)
    scenario = scenario_of(Levers(scenario="baseline", members=2, end="2024-03",
                                  stockpile=Reserve(region="USA", product="oxide:Dy", size=50.0, start="2024-02")))
    months = []
    entry, reused = obtain(store, scenario, lambda done, total: months.append((done, total)))
    assert not reused and months[-1][0] == months[-1][1]
    again, reused = obtain(store, scenario)
    assert reused and again.run_id == entry.run_id
    archive = zipfile.ZipFile(BytesIO(zipped(store, entry.run_id)))
    assert {f"{entry.run_id}/manifest.json", f"{entry.run_id}/price.parquet"} <= set(archive.namelist())
    reloaded = tmp_path / "scenario.yaml"
    reloaded.write_text(scenario_yaml(scenario))
    assert load_scenario(reloaded).timeline == scenario.timeline


# -- end to end, in a real browser --------------------------------------------------------------------------

def _require(ok: bool, what: str) -> None:
    """Skip with the reason outside CI; fail in CI, where .ci/run installs everything this test needs."""
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing in CI; .ci/run must install it")
        pytest.skip(f"{what} is missing (pip install 'reesim[app,dev]'; apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def dashboard(tmp_path: Path) -> Iterator[tuple[str, RunStore]]:
    """`reesim app` on a free local port with its own run store; stopped (whole process group) afterwards."""
    import importlib.util

    _require(importlib.util.find_spec("streamlit") is not None, "streamlit")
    store = RunStore(tmp_path / "store")
    port = _free_port()
    log = (tmp_path / "app.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "reesim.cli.main", "app", "--port", str(port), "--headless",
                             "--store", str(store.root)], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not start: {(tmp_path / 'app.log').read_text()}")
            time.sleep(0.3)
        yield url, store
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_dashboard_end_to_end_in_chromium(dashboard: tuple[str, RunStore], tmp_path: Path):
    _require(CHROMIUM.exists(), str(CHROMIUM))
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _require(False, "the playwright Python package")
    url, store = dashboard
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            run = page.get_by_role("button", name="Run", exact=True)
            run.wait_for(timeout=30_000)
            page.get_by_label("Members").fill("2")
            page.get_by_label("Last month (YYYY-MM, empty: the scenario's)").fill("2025-06")
            run.click()
            expect(page.get_by_text("Showing run")).to_be_visible(timeout=60_000)
            figure = page.locator("[data-testid='stImage'] img").first
            expect(figure).to_be_visible(timeout=60_000)
            before = figure.get_attribute("src")
            baseline_id = store.catalog()["run_id"].item()
            expect(page.get_by_text(f"Runs: {baseline_id}.")).to_be_visible()

            # Change a lever: license Dy and Tb exports at 10 % from mid-2024, and compare with the baseline.
            page.get_by_text("Add an export licence").click()
            page.get_by_label("Approval rate (share of usual flows)").fill("0.1")
            page.get_by_label("Licence from (YYYY-MM)").fill("2024-06")
            page.get_by_text("Compare with the baseline").click()
            run.click()
            expect(page.get_by_text("compared with")).to_be_visible(timeout=60_000)
            expect(figure).not_to_have_attribute("src", before, timeout=60_000)
            custom = store.catalog().query("run_id != @baseline_id")
            assert custom["scenario"].tolist() == ["baseline-custom"]
            custom_id = custom["run_id"].item()
            expect(page.get_by_text(f"Runs: {custom_id}, {baseline_id}.")).to_be_visible()
            licence = store.manifest(custom_id)["scenario"]["timeline"][-1]
            assert (licence["instrument"], licence["approval_rate"], licence["start"]) == \
                ("export_licence", 0.1, "2024-06")
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "dashboard.png")
    assert shot.stat().st_size > 10_000
