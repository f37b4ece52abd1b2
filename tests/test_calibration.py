"""Calibration machinery: designs, the objective, the ABC weights, and recovery of known parameters from a
synthetic record made by the model itself."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from reesim.backtest.record import DOMESTIC, EXPORTS, PRICES, PricePoint
from reesim.calibration.batch import run_design
from reesim.calibration.design import Prior, box_around, latin_hypercube, to_units
from reesim.calibration.fit import Target, calibrate
from reesim.calibration.objective import export_residuals, log_residuals, simulated_points
from reesim.calibration.polish import compass_search
from reesim.calibration.posterior import read_posterior
from reesim.calibration.priors import WORLD_SPECIFIC
from reesim.calibration.result import read_parameters, write_calibration
from reesim.engine.parameters import PARAMETERS
from reesim.engine.simulate import member_parameters, run_scenario
from reesim.errors import InputError
from reesim.scenario import load_scenario


@given(n=st.integers(1, 60), seed=st.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_latin_hypercube_puts_one_candidate_in_every_slice(n, seed):
    priors = [Prior("elasticity_short", 0.05, 0.6), Prior("precaution", 0.1, 10.0, "log")]
    design = latin_hypercube(priors, n, np.random.default_rng(seed))
    units = to_units(priors, design)
    assert ((units >= 0) & (units <= 1)).all()
    for column in units.T:
        assert sorted(np.floor(column * n).astype(int).clip(0, n - 1)) == list(range(n))


def test_design_box_is_clipped_to_the_prior_and_log_scale_round_trips():
    priors = [Prior("elasticity_short", 0.05, 0.6), Prior("precaution", 0.1, 10.0, "log")]
    low, high = box_around(priors, {"elasticity_short": 0.06, "precaution": 1.0}, 0.5)
    assert low[0] == 0.0 and high[0] == pytest.approx(0.25 + 0.01 / 0.55)
    assert (low[1], high[1]) == pytest.approx((0.25, 0.75))  # 1.0 is the log-midpoint of [0.1, 10]
    design = latin_hypercube(priors, 20, np.random.default_rng(0), (low, high))
    assert design["precaution"].min() >= 10**-0.5 - 1e-12 and design["precaution"].max() <= 10**0.5 + 1e-12
    x = np.array([0.1, 0.7, 10.0])
    np.testing.assert_allclose(priors[1].from_unit(priors[1].to_unit(x)), x)


def test_compass_search_walks_down_a_valley_and_stops_in_the_unit_cube():
    """On a narrow tilted valley (what the crisis's loss looks like to a random design) the search reaches
    the minimum within its last step, never accepts a worse point, and clips at the cube's faces: the
    third coordinate's minimum lies outside [0, 1], so it ends on the face."""
    centre = np.array([0.3, 0.62, 1.4])

    def valley(units):
        d = units - centre
        return 50 * (d[:, 0] - d[:, 1]) ** 2 + (d[:, 0] + d[:, 1]) ** 2 + d[:, 2] ** 2

    start = np.array([0.8, 0.1, 0.5])
    tried, losses = compass_search(valley, start, float(valley(start[None])[0]))
    points, values = np.concatenate(tried), np.concatenate(losses)
    assert ((points >= 0) & (points <= 1)).all()
    best = points[np.argmin(values)]
    assert np.abs(best[:2] - centre[:2]).max() < 0.02 and best[2] == 1.0
    running = np.minimum.accumulate([float(valley(start[None])[0])] + [v.min() for v in losses])
    assert (np.diff(running) <= 0).all() and values.min() < 1e-3 + (centre[2] - 1) ** 2
    assert len(tried) < 60  # it stopped on the step, not the iteration limit


def test_bad_priors_name_the_parameter_and_the_fix():
    with pytest.raises(ValueError, match="unknown parameter 'no_such'"):
        Prior("no_such", 0.0, 1.0)
    with pytest.raises(ValueError, match=r"inside the parameter's bounds"):
        Prior("elasticity_short", -1.0, 1.0)
    with pytest.raises(ValueError, match="positive lower end"):
        Prior("elasticity_short", 0.0, 1.0, "log")


def test_statistics_of_the_recorded_points_on_a_known_series():
    time = pd.period_range("2009-01", "2011-12", freq="M").to_timestamp()
    values = np.arange(len(time), dtype=float)[None, :, None] + 1.0  # 1, 2, ..., 36 in every member
    price = xr.DataArray(np.repeat(values, 2, axis=0), coords={"member": [0, 1], "time": time, "product": ["oxide:La"]},
                         dims=("member", "time", "product"))
    points = [PricePoint("oxide:La", "mean", "2009-01", "2009-12", 1, 1, 1, "", ""),
              PricePoint("oxide:La", "point", "2011-04", "2011-06", 1, 1, 1, "", ""),
              PricePoint("oxide:La", "peak", "2011-01", "2011-12", 1, 1, 1, "", "")]
    np.testing.assert_allclose(simulated_points(price, points), [[6.5, 29.0, 36.0]] * 2)
    late = PricePoint("oxide:La", "point", "2013-12", "2013-12", 1, 1, 1, "", "")
    with pytest.raises(ValueError, match="does not cover 2013-12"):
        simulated_points(price, [late])


def test_log_residuals_are_zero_inside_a_recorded_range_and_finite_at_zero_prices():
    point = PricePoint("oxide:Dy", "point", "2012-12", "2012-12", 615, 600, 630, "", "")
    res = log_residuals(np.array([[610.0], [1260.0], [300.0], [0.0]]), [point])
    assert res[0, 0] == 0.0
    assert res[1, 0] == pytest.approx(np.log(2.0)) and res[2, 0] == pytest.approx(np.log(0.5))
    assert np.isfinite(res[3, 0]) and res[3, 0] < -10
    exports = export_residuals(np.array([[16_900.0, 16_265.0, 22_493.0]]), (2011, 2012, 2013), EXPORTS)
    np.testing.assert_allclose(exports, 0.0, atol=1e-12)


def test_target_holds_back_the_years_after_until():
    target = Target(until=2012)
    used = target.used()
    labels = target.labels()
    assert len(used) == len(labels) == len(PRICES) + 3
    for (figure, label, _), fitted in zip(labels, used):
        year = int(label) if figure == "exports" else int(label[-4:]) if label[-4:].isdigit() else 2011
        assert fitted == (year <= 2012), (figure, label)


def test_target_fits_china_own_prices_only_when_asked_and_holds_back_the_later_ones():
    plain, both = Target(until=2012), Target(until=2012, domestic=DOMESTIC)
    assert len(both.labels()) == len(both.used()) == len(plain.labels()) + len(DOMESTIC)
    extra = dict(zip([(f, label) for f, label, _ in both.labels()], both.used()))
    assert extra[("oxide:Dy in China", "China 2012-03")] and not extra[("oxide:Dy in China", "China 2013-07")]


SYNTHETIC = {
    "name": "synthetic", "world": "world2009", "end": "2011-06",
    "timeline": [{"instrument": "export_quota", "start": "2010-01", "exporter": "CHN", "level": 30300,
                  "goods": {"elements": ["La", "Ce", "Nd", "Dy", "Tb", "Y"], "magnets_containing": False}}],
}
TRUTH = {"elasticity_short": 0.2, "precaution": 1.0}


def _synthetic_record() -> tuple:
    """The synthetic scenario, a price record simulated with the TRUTH parameters, and priors over them."""
    scenario = load_scenario(SYNTHETIC)
    shape = [PricePoint(p, "point", m, m, 1.0, 1.0, 1.0, "synthetic", m)
             for p in ("oxide:La", "oxide:NdPr", "oxide:Dy") for m in ("2010-03", "2010-09", "2011-03")]
    truth = run_design(scenario, {k: np.array([v]) for k, v in TRUTH.items()}, shape)
    record = tuple(PricePoint(p.product, p.kind, p.start, p.end, v, v, v, p.source, p.label)
                   for p, v in zip(shape, truth.prices[0]))
    return scenario, record, (Prior("elasticity_short", 0.05, 0.6), Prior("precaution", 0.1, 10.0, "log"))


def test_calibration_recovers_parameters_from_a_synthetic_record(tmp_path):
    """Make a record with known parameters, forget them, and find them again with the same machinery."""
    scenario, record, priors = _synthetic_record()
    cal = calibrate(scenario, members=12, stages=2, seed=5, priors=priors, accept=0.25, polish=True,
                    target=Target(points=record, exports=()))
    units = np.stack([p.to_unit(cal.candidates[p.name].to_numpy()) for p in priors], axis=1)
    truth_units = np.array([float(p.to_unit(np.array(TRUTH[p.name]))) for p in priors])
    distance = np.abs(units - truth_units).max(axis=1)
    # The short-run elasticity is sharply identified by the price path, precaution less so (a flat valley
    # below about 1.5: measured on a 6 x 6 grid and over seeds 0-5 of this design).
    assert cal.best["elasticity_short"] == pytest.approx(TRUTH["elasticity_short"], abs=0.03)
    assert 0.4 < cal.best["precaution"] / TRUTH["precaution"] < 2.5
    first = cal.candidates["stage"] == 0
    accepted = cal.candidates["accepted"].to_numpy()
    assert accepted.sum() == 3 and not accepted[~first].any()  # the ABC keeps stage-1 (prior) draws only
    assert distance[accepted].mean() < distance[first].mean()  # and they are nearer the truth than the prior
    assert cal.summary()["rmse_fitted"] < 0.1
    json_path, csv_path = write_calibration(cal, tmp_path / "cal")
    assert read_parameters(json_path) == cal.best
    assert len(pd.read_csv(csv_path)) == len(cal.candidates) > 24  # the polish's trial points are kept too
    polished = cal.candidates["stage"] == 2
    assert polished.any() and cal.candidates["loss"].min() <= cal.candidates.loc[~polished, "loss"].min()
    sample = read_posterior(str(json_path))  # what a scenario with `posterior: <that file>` draws from
    assert set(sample) == set(TRUTH)
    for name, values in sample.items():
        np.testing.assert_array_equal(values, cal.candidates.loc[accepted, name].to_numpy())


def test_smc_generations_tighten_the_posterior_and_weight_it_back_to_the_prior(tmp_path):
    """With `smc` the stages after the first are SMC generations: the posterior is the last one, within a
    tighter tolerance than the prior draws' rejection ABC and nearer the truth, weighted, and written as
    an equally weighted sample drawn from it."""
    scenario, record, priors = _synthetic_record()
    cal = calibrate(scenario, members=16, stages=3, seed=5, priors=priors, accept=0.25, polish=False,
                    target=Target(points=record, exports=()), smc=True)
    c = cal.candidates
    accepted = c["accepted"].to_numpy()
    assert accepted.sum() >= 2 and (c.loc[accepted, "stage"] == 2).all()  # the last generation's particles
    assert c["weight"].sum() == pytest.approx(1.0) and (c.loc[~accepted, "weight"] == 0).all()
    first = c[c["stage"] == 0]
    assert cal.epsilon < first["loss"].quantile(0.25) and (c.loc[accepted, "loss"] <= cal.epsilon).all()
    middle = c[c["stage"] == 1]  # the tolerance: the weighted median of the last generation's particles' losses
    assert cal.epsilon < middle["loss"].quantile(0.5)
    units = np.stack([p.to_unit(c[p.name].to_numpy()) for p in priors], axis=1)
    truth_units = np.array([float(p.to_unit(np.array(TRUTH[p.name]))) for p in priors])
    near = np.abs(units[:, 0] - truth_units[0])  # the sharply identified elasticity
    best_first = first["loss"].nsmallest(4).index
    assert near[accepted].mean() < near[best_first].mean()
    stats = cal.summary()
    assert cal.settings["smc"] and 1 <= stats["effective_sample_size"] <= accepted.sum()
    json_path, _ = write_calibration(cal, tmp_path / "smc")
    sample = read_posterior(str(json_path))
    rows = set(map(tuple, c.loc[accepted, ["elasticity_short", "precaution"]].to_numpy()))
    drawn = list(zip(sample["elasticity_short"], sample["precaution"]))
    assert len(drawn) == accepted.sum() and set(drawn) <= rows


def test_a_design_scores_china_own_price_at_the_quoted_month():
    scenario = load_scenario(SYNTHETIC)
    quote = PricePoint("oxide:Dy", "point", "2010-09", "2010-09", 1.0, 1.0, 1.0, "synthetic", "China 2010-09")
    run = run_design(scenario, {k: np.array([v]) for k, v in TRUTH.items()}, [quote], domestic=[quote])
    direct = run_scenario(scenario.model_copy(update={"members": 1}),
                          params={k: np.array([v]) for k, v in TRUTH.items()}, variables=("price",))
    price = direct.dataset["price"].sel(region="CHN", product="oxide:Dy", time="2010-09-01").item()
    assert run.domestic.shape == (1, 1) and run.domestic[0, 0] == pytest.approx(price)
    assert run.prices[0, 0] != pytest.approx(price)  # the export price of the same month is another figure
    assert run_design(scenario, {k: np.array([v]) for k, v in TRUTH.items()}, [quote]).domestic.shape == (1, 0)


def test_a_start_point_joins_the_candidates_before_the_polish():
    """The known point is evaluated as a stage of its own; the polish then starts from the best of all, so
    with the truth as the start the result is the truth, whatever the one small stage found."""
    scenario = load_scenario(SYNTHETIC)
    shape = [PricePoint(p, "point", m, m, 1.0, 1.0, 1.0, "synthetic", m)
             for p in ("oxide:La", "oxide:Dy") for m in ("2010-03", "2011-03")]
    truth = run_design(scenario, {k: np.array([v]) for k, v in TRUTH.items()}, shape)
    record = tuple(PricePoint(p.product, p.kind, p.start, p.end, v, v, v, p.source, p.label)
                   for p, v in zip(shape, truth.prices[0]))
    priors = (Prior("elasticity_short", 0.05, 0.6), Prior("precaution", 0.1, 10.0, "log"))
    cal = calibrate(scenario, members=4, stages=1, seed=1, priors=priors, accept=0.5, polish=True,
                    start=TRUTH, target=Target(points=record, exports=()))
    stages = cal.candidates["stage"]
    assert (stages == 1).sum() == 1 and (stages == 2).any() and not cal.candidates.loc[stages > 0, "accepted"].any()
    assert cal.candidates.loc[stages == 1, "loss"].item() == pytest.approx(0.0, abs=1e-12)
    assert cal.best == pytest.approx(TRUTH) and cal.settings["start"] == TRUTH
    with pytest.raises(ValueError, match="outside the priors"):
        calibrate(scenario, members=2, stages=1, priors=priors, start={**TRUTH, "precaution": 20.0},
                  target=Target(points=record, exports=()))
    with pytest.raises(ValueError, match="lacks"):
        calibrate(scenario, members=2, stages=1, priors=priors, start={"precaution": 1.0},
                  target=Target(points=record, exports=()))


def test_calibration_files_name_known_parameters_and_bad_files_say_so(tmp_path):
    # The reader is checked on files written the way `reesim calibrate` writes them, and on broken ones.
    good = tmp_path / "calibration.json"
    good.write_text(json.dumps({"best": {"elasticity_short": 0.2, "precaution": 1.5}}))
    assert read_parameters(good) == {"elasticity_short": 0.2, "precaution": 1.5}
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"best": {"no_such_parameter": 1.0}}))
    with pytest.raises(InputError, match="unknown parameter"):
        read_parameters(unknown)
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(InputError, match=r"bad.json \[best\].*reesim calibrate"):
        read_parameters(bad)


def test_the_defaults_are_the_shipped_calibration():
    """The 2024 world's point defaults are the back-test's least-squares point, except what is specific
    to the 2009 world; a recalibration that is not carried into `PARAMETERS` fails here."""
    best = read_parameters()
    carried = {k: v for k, v in best.items() if k not in WORLD_SPECIFIC}
    assert len(carried) == len(best) - 1
    for name, value in carried.items():
        assert PARAMETERS[name].default == pytest.approx(value, rel=1e-3), name
        assert PARAMETERS[name].basis.startswith("calibrated"), name
    assert PARAMETERS["growth_scale"].default == 1.0


def test_members_draw_whole_vectors_of_the_posterior_sample():
    sample = read_posterior("calibrated_2010")
    names = sorted(sample)
    assert "growth_scale" not in names and "elasticity_short" in names and len(names) == 11
    rows = np.stack([sample[k] for k in names], axis=1)
    scenario = load_scenario("baseline", members=60, seed=4)
    assert scenario.posterior == "calibrated_2010"
    rngs = [np.random.default_rng(c) for c in np.random.SeedSequence(4).spawn(60)]
    drawn = member_parameters(scenario, rngs)
    vectors = np.stack([drawn[k] for k in names], axis=1)
    matches = [np.flatnonzero(np.all(row == rows, axis=1)) for row in vectors]
    assert all(len(m) >= 1 for m in matches)  # every member is one accepted candidate, whole
    assert len({int(m[0]) for m in matches}) > 20  # and the members spread over the sample
    # `uncertain` overrides the posterior parameter by parameter, and the posterior leaves the other draws
    # of a member (here the project delays) as they were without it.
    data = scenario.model_dump()
    fixed = load_scenario({**data, "uncertain": {**data["uncertain"], "precaution": {"kind": "fixed", "value": 2.0}}})
    rngs = [np.random.default_rng(c) for c in np.random.SeedSequence(4).spawn(60)]
    again = member_parameters(fixed, rngs)
    assert np.all(again["precaution"] == 2.0)
    np.testing.assert_array_equal(again["elasticity_short"], drawn["elasticity_short"])
    bare = load_scenario({**scenario.model_dump(), "posterior": None})
    rngs = [np.random.default_rng(c) for c in np.random.SeedSequence(4).spawn(60)]
    plain = member_parameters(bare, rngs)
    np.testing.assert_array_equal(plain["project_delay_max"], drawn["project_delay_max"])
    assert np.all(plain["elasticity_short"] == PARAMETERS["elasticity_short"].default)


def test_a_scenario_file_names_its_posterior_beside_it(tmp_path, monkeypatch):
    folder = tmp_path / "study"
    folder.mkdir()
    shipped = resources.files("reesim.calibration").joinpath("calibrated_2010.json").read_text(encoding="utf-8")
    (folder / "mine.json").write_text(shipped, encoding="utf-8")
    (folder / "run.yaml").write_text("name: run\nextends: baseline\nposterior: mine.json\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the scenario's folder
    scenario = load_scenario(folder / "run.yaml")
    assert Path(scenario.posterior) == folder / "mine.json"
    assert set(read_posterior(scenario.posterior)) == set(read_posterior("calibrated_2010"))


def test_a_missing_or_sampleless_posterior_is_named_with_its_fix(tmp_path):
    with pytest.raises(InputError, match=r"posterior.*no calibration 'nowhere.json'.*reesim calibrate"):
        load_scenario({"name": "m", "extends": "baseline", "posterior": "nowhere.json"})
    old = tmp_path / "calibration.json"
    old.write_text(json.dumps({"best": {"elasticity_short": 0.2}}))
    with pytest.raises(InputError, match=r"calibration.json \[sample\].*rerun `reesim calibrate`"):
        read_posterior(str(old))


def test_a_run_drawn_from_an_edited_calibration_is_another_run(tmp_path):
    """A run's key covers the content of the posterior it draws from, not only its name."""
    from reesim.engine.simulate import run_scenario
    from reesim.store.identity import planned_key, run_key

    path = tmp_path / "mine.json"
    shipped = json.loads(resources.files("reesim.calibration").joinpath("calibrated_2010.json").read_text())
    path.write_text(json.dumps(shipped), encoding="utf-8")
    scenario = load_scenario({"name": "m", "extends": "baseline", "end": "2024-02", "posterior": str(path)})
    before = planned_key(scenario)
    manifest = json.loads(run_scenario(scenario, variables=("price",)).dataset.attrs["manifest"])
    assert run_key(manifest) == before and manifest["scenario"]["posterior"].startswith(f"{path}@sha256:")
    shipped["sample"][0]["precaution"] *= 2
    path.write_text(json.dumps(shipped), encoding="utf-8")
    assert planned_key(scenario) != before


def test_calibrate_command_fits_china_own_prices_and_starts_from_a_point_when_asked(tmp_path, monkeypatch):
    """Two candidates, one stage, the shipped point, no polish and no profiles: the wiring, not the search."""
    from typer.testing import CliRunner

    from reesim.cli.main import app

    monkeypatch.setattr("reesim.calibration.profile.profiles", lambda *args, **kwargs: {})
    out = tmp_path / "cal"
    shipped = tmp_path / "shipped.json"
    shipped.write_text(resources.files("reesim.calibration").joinpath("calibrated_2010.json").read_text())
    result = CliRunner().invoke(app, ["calibrate", "--members", "2", "--stages", "1", "--no-polish",
                                      "--fit-domestic", "--start", str(shipped), "--out", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "calibration.json").read_text())
    assert saved["settings"]["fit_domestic"] is True
    assert saved["settings"]["start"] == pytest.approx(read_parameters())  # the shipped point, run as stage 1
    figures = [row["figure"] for row in saved["fit"]]
    assert sum(f.endswith(" in China") for f in figures) == len(DOMESTIC)
