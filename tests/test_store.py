"""The run store: round trip, recognition of a re-run, queries, and consistency after interrupted writes."""

from __future__ import annotations

import json
import pickle
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from reesim.cli.main import app
from reesim.errors import InputError
from reesim.results import Results
from reesim.store import RunStore, planned_key, run_key


@pytest.fixture(scope="module")
def tiny_run() -> Results:
    """Two members, four months: small enough that each store write takes a fraction of a second."""
    import reesim

    return reesim.simulate("baseline", members=2, end="2024-04")


def variant(results: Results, seed: int) -> Results:
    """The same data under another manifest, so that the store sees a different run."""
    manifest = {**results.manifest, "seed": seed}
    manifest["scenario"] = {**manifest["scenario"], "seed": seed}
    return Results(results.dataset.assign_attrs(manifest=json.dumps(manifest, sort_keys=True)))


def test_round_trip_is_exact(tiny_run: Results, tmp_path: Path):
    store = RunStore(tmp_path / "store")
    entry, written = store.put(tiny_run)
    assert written and entry.path.is_dir()
    back = store.load(entry.run_id)
    xr.testing.assert_identical(back.dataset, tiny_run.dataset)
    assert back.manifest == tiny_run.manifest
    # Auxiliary coordinates survive, so statistics by controller work on a stored run.
    xr.testing.assert_allclose(back.statistics.stage_share(by="controller"),
                               tiny_run.statistics.stage_share(by="controller"))
    part = store.load(entry.run_id[:12], variables=["price"])
    assert list(part.dataset.data_vars) == ["price"] and "facility" not in part.dataset.dims
    row = store.catalog().iloc[0]
    assert (row["run_id"], row["members"], row["end"]) == (entry.run_id, 2, "2024-04")
    assert row["key"] == run_key(tiny_run.manifest)


def test_tables_have_the_layout_of_results_save_and_read_selectively(tiny_run: Results, tmp_path: Path):
    import pandas as pd

    store = RunStore(tmp_path / "store")
    entry, _ = store.put(tiny_run)
    saved = tiny_run.save(tmp_path / "saved")
    for name in ("price", "trade", "output"):
        ours, theirs = pd.read_parquet(entry.path / f"{name}.parquet"), pd.read_parquet(saved / f"{name}.parquet")
        assert list(ours.columns) == list(theirs.columns)
        for column in ours.columns:  # ours are dictionary-encoded (categorical here); same values, same order
            np.testing.assert_array_equal(ours[column].astype(theirs[column].dtype).to_numpy(),
                                          theirs[column].to_numpy())
    part = store.load(entry.run_id, variables=["trade"], select={"origin": ["CHN", "AUS"]}).dataset
    xr.testing.assert_identical(part["trade"], tiny_run.dataset["trade"].sel(origin=["CHN", "AUS"]))
    with pytest.raises(KeyError, match="XYZ"):
        store.load(entry.run_id, variables=["trade"], select={"origin": ["XYZ"]})


def test_same_manifest_is_recognised_before_running(tiny_run: Results, tmp_path: Path):
    from reesim.scenario import load_scenario

    store = RunStore(tmp_path)
    first, _ = store.put(tiny_run)
    again, written = store.put(tiny_run)
    assert not written and again.run_id == first.run_id and again.created == first.created
    forced, written = store.put(tiny_run, force=True)
    assert written and len(store.catalog()) == 1 and forced.created > first.created
    # The key a run will have is known from the scenario and the world alone.
    scenario = load_scenario("baseline", members=2, end="2024-04")
    assert store.find(planned_key(scenario)).run_id == first.run_id
    assert store.find(planned_key(scenario.model_copy(update={"seed": 7}))) is None


def test_planned_key_matches_a_run_whose_timeline_adds_plants():
    import reesim
    from reesim.scenario import load_scenario

    refinery = {"id": "refinery", "instrument": "offshore_refinery", "start": "2024-02", "facility": "MYS_NEW",
                "name": "test refinery", "region": "MYS", "product": "oxide:NdPr", "feed": "ionic_clay_heavy",
                "capacity": 1000, "unit_cost": 5.0, "ramp_months": 6}
    scenario = load_scenario({"name": "plants", "extends": "baseline", "members": 1, "end": "2024-03",
                              "timeline": [refinery]})
    results = reesim.simulate(scenario)
    assert "+plants" in results.manifest["data_version"]
    assert planned_key(scenario) == run_key(results.manifest)


def test_query_spans_runs_with_duckdb(tiny_run: Results, tmp_path: Path):
    store = RunStore(tmp_path)
    a, _ = store.put(tiny_run)
    b, _ = store.put(variant(tiny_run, seed=5))
    frame = store.query("select run_id, avg(price) as p from price "
                        "where region = 'USA' and product = 'oxide:NdPr' group by run_id order by run_id")
    assert frame["run_id"].tolist() == sorted([a.run_id, b.run_id])
    expected = float(tiny_run.dataset["price"].sel(region="USA", product="oxide:NdPr").mean())
    np.testing.assert_allclose(frame["p"], expected, rtol=1e-12)
    assert store.query("select count(*) as n from catalog")["n"].item() == 2


def test_delete_and_clear_errors(tiny_run: Results, tmp_path: Path):
    store = RunStore(tmp_path)
    a, _ = store.put(tiny_run)
    b, _ = store.put(variant(tiny_run, seed=5))
    with pytest.raises(InputError, match="ambiguous") as ambiguous:
        store.resolve("baseline-")
    assert a.run_id in str(ambiguous.value)
    assert store.delete(a.run_id) == a.run_id
    assert store.catalog()["run_id"].tolist() == [b.run_id] and not a.path.exists()
    with pytest.raises(InputError, match="no such run") as missing:
        store.load(a.run_id)
    assert a.run_id in str(missing.value) and "reesim runs list" in str(missing.value)
    with pytest.raises(InputError, match="no run store") as nowhere:
        RunStore(tmp_path / "nowhere").catalog()
    assert str(tmp_path / "nowhere") in str(nowhere.value) and "--store" in str(nowhere.value)


KILLER = """
import os, pickle, signal, sys
from reesim.store import RunStore, codec
from reesim.store.store import RunStore as Impl
results = pickle.loads(open(sys.argv[1], "rb").read())
where, action = sys.argv[3], sys.argv[4]
calls = []
def die(original):
    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3 or where == "catalog":
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    return wrapper
if where == "parquet":
    codec._write_table = die(codec._write_table)
else:
    Impl._write_catalog = die(Impl._write_catalog)
store = RunStore(sys.argv[2])
store.put(results) if action == "put" else store.delete(sys.argv[5])
"""


def killed(tmp_path: Path, results: Results, store: RunStore, where: str, action: str, target: str = "") -> None:
    """Run a store write in a subprocess that SIGKILLs itself at `where`; check that it really died there."""
    blob = tmp_path / "results.pkl"
    blob.write_bytes(pickle.dumps(results))
    script = tmp_path / "killer.py"
    script.write_text(textwrap.dedent(KILLER))
    proc = subprocess.run([sys.executable, str(script), str(blob), str(store.root), where, action, target],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr


@pytest.mark.parametrize("where", ["parquet", "catalog"])
def test_killed_put_leaves_catalog_consistent(tiny_run: Results, tmp_path: Path, where: str):
    store = RunStore(tmp_path / "store")
    kept, _ = store.put(tiny_run)
    before = store.catalog()
    second = variant(tiny_run, seed=11)
    killed(tmp_path, second, store, where, "put")
    # Readers see exactly the runs that were there; the killed writer left only staging or an unlisted folder.
    assert store.catalog().equals(before)
    assert store.load(kept.run_id).manifest == tiny_run.manifest
    leftovers = list(store.tmp.iterdir())
    listed = {p.name for p in store.runs.iterdir()}
    if where == "parquet":
        assert leftovers and listed == {kept.run_id}
    else:
        assert len(listed) == 2  # complete, renamed into place, but never committed to the catalog
    # The next writer clears staging and adopts a complete folder; nothing half-written is ever listed.
    entry, written = store.put(second)
    assert written == (where == "parquet")
    assert not list(store.tmp.iterdir())
    assert sorted(store.catalog()["run_id"]) == sorted([kept.run_id, entry.run_id])
    xr.testing.assert_identical(store.load(entry.run_id).dataset, second.dataset)


def test_killed_delete_hides_the_run_and_next_write_drops_it(tiny_run: Results, tmp_path: Path):
    store = RunStore(tmp_path / "store")
    gone, _ = store.put(tiny_run)
    kept, _ = store.put(variant(tiny_run, seed=3))
    killed(tmp_path, tiny_run, store, "catalog", "delete", gone.run_id)
    assert store.catalog()["run_id"].tolist() == [kept.run_id]
    store.put(variant(tiny_run, seed=4))
    assert gone.run_id not in set(store._read_catalog()["run_id"])


def test_exception_mid_write_leaves_nothing(tiny_run: Results, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from reesim.store import codec

    store = RunStore(tmp_path)
    original, calls = codec._write_table, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise OSError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(codec, "_write_table", failing)
    with pytest.raises(OSError, match="disk full"):
        store.put(tiny_run)
    monkeypatch.undo()
    assert len(calls) == 4  # it failed part-way through the tables
    assert store.catalog().empty and not list(store.runs.iterdir()) and not list(store.tmp.iterdir())


def test_cli_runs_commands(tmp_path: Path):
    runner = CliRunner()
    env = {"COLUMNS": "250"}
    store = str(tmp_path / "store")

    def cli(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False, env=env)

    args = ("run", "--members", "2", "--end", "2024-03", "--store", store)
    first = cli(*args)
    assert first.exit_code == 0, first.output
    rid = RunStore(store).catalog()["run_id"].item()
    assert f"Stored as run {rid}" in first.output
    again = cli(*args)
    assert again.exit_code == 0 and "already holds this manifest" in again.output and rid in again.output
    assert len(RunStore(store).catalog()) == 1
    listed = cli("runs", "list", "--store", store)
    assert listed.exit_code == 0 and rid in listed.output
    shown = cli("runs", "show", rid[:12], "--store", store)
    assert shown.exit_code == 0 and "USD/kg" in shown.output and "oxide:NdPr" in shown.output
    queried = cli("runs", "query", "select run_id, count(*) as n from price group by run_id", "--store", store)
    assert queried.exit_code == 0 and rid in queried.output
    bad_sql = cli("runs", "query", "select nope from price", "--store", store)
    assert bad_sql.exit_code == 1 and "Fix" in bad_sql.output
    unknown = cli("runs", "show", "no-such-run", "--store", store)
    assert unknown.exit_code == 1 and "no-such-run" in unknown.output and "reesim runs list" in unknown.output
    assert cli("runs", "delete", rid, "--yes", "--store", store).exit_code == 0
    assert "No runs" in cli("runs", "list", "--store", store).output
    assert cli("run", "--members", "2", "--end", "2024-03", "--no-store", "--store", store).exit_code == 0
    assert RunStore(store).catalog().empty
    missing = cli("runs", "list", "--store", str(tmp_path / "absent"))
    assert missing.exit_code == 1 and "no run store" in missing.output


def test_planned_key_matches_a_run_whose_actors_commit_plants():
    # An actor's strategy may build plants (China's refineries abroad under inducement-first); the run's
    # manifest holds the timeline with those commitments, so the key planned before running must too.
    import reesim
    from reesim.scenario import load_scenario

    scenario = load_scenario({"name": "actors", "members": 1, "end": "2027-02",
                              "actors": [{"kind": "china", "strategy": "inducement-first"}]})
    results = reesim.simulate(scenario)
    assert len(results.manifest["scenario"]["timeline"]) > len(scenario.timeline)  # commitments were added
    assert planned_key(scenario) == run_key(results.manifest)
