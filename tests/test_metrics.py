"""Metrics of the strategic game: signals on crafted months, coverage year, fiscal cost, the leverage index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from test_actors import MEMBERS, month_of, with_unmet_magnets

from reesim.actors import LeverageSpec, coverage_year, g7_fiscal_cost, parse_actors, play, signals
from reesim.actors.leverage import Probe, leverage_dataset
from reesim.actors.metrics import Recorder
from reesim.engine.parameters import draw_parameters
from reesim.engine.simulate import policy_context
from reesim.errors import InputError
from reesim.game.payoffs import DEFAULT_CHINA_WEIGHTS, DEFAULT_G7_WEIGHTS
from reesim.scenario import load_scenario


@pytest.fixture(scope="module")
def ctx():
    params = draw_parameters({}, [np.random.default_rng(0) for _ in range(MEMBERS)])
    return policy_context(load_scenario("baseline", members=MEMBERS), None, params)


@pytest.fixture(scope="module")
def view(ctx):
    return signals.lens(ctx)


def test_export_revenue_and_licence_rent(ctx, view):
    step = month_of(ctx, exports=10.0)
    others = len(ctx.structure.regions) - 1
    np.testing.assert_allclose(signals.export_revenue(view, step),
                               10.0 * others * ctx.structure.price_base.sum() * 1e-3)
    step.rent[:, ctx.product("oxide:Dy"), ctx.region("CHN"), ctx.region("JPN")] = 5.0
    np.testing.assert_allclose(signals.licence_rent(view, step), 10.0 * 5.0 * 1e-3)


def test_unmet_demand_is_valued_at_base_prices_in_the_target_only(ctx, view):
    step = with_unmet_magnets(ctx, month_of(ctx), np.array([100.0, 0.0, 50.0]))
    price = ctx.structure.price_base[ctx.product("magnet:NdFeB")]
    np.testing.assert_allclose(signals.unmet_value(view, step, view.g7), np.array([100.0, 0.0, 50.0]) * price * 1e-3)
    assert signals.unmet_value(view, step, ctx.regions(["EU"])).sum() == 0.0


def test_china_holds_more_by_controller_than_by_location_where_it_runs_plants_abroad(ctx, view):
    step = month_of(ctx)
    step.throughput[:] = 0.0
    mines = ctx.lines(facilities=["CHN_BAYAN_OBO", "LAO_IONIC", "USA_MOUNTAIN_PASS"])
    step.throughput[:, mines] = 100.0  # three mines, one of them Chinese-run in Laos
    mining = 0
    np.testing.assert_allclose(signals.china_stage_share(view, step, "location")[:, mining], 1 / 3)
    np.testing.assert_allclose(signals.china_stage_share(view, step, "controller")[:, mining], 2 / 3)


def test_requirement_rolls_magnet_demand_up_the_chain(ctx, view):
    s = ctx.structure
    final = np.zeros((MEMBERS, len(s.products)))
    final[:, ctx.product("magnet:NdFeB")] = 1000.0
    need = signals.requirement(view, final)  # mining, separation, metal, magnet
    makers = (s.line_stage == 3) & (s.outputs[:, ctx.product("magnet:NdFeB")] > 0) & (s.inputs.sum(axis=1) > 0)
    metals = s.product_stage == 2
    per_magnet = (s.inputs[makers][:, metals] * s.line_capacity[makers, None]).sum() / s.line_capacity[makers].sum()
    np.testing.assert_allclose(need[:, 3], 1000.0)
    np.testing.assert_allclose(need[:, 2], 1000.0 * per_magnet)
    assert (need[:, 1] > 0.9 * need[:, 2]).all()  # a tonne of metal takes about a tonne of oxide or more
    np.testing.assert_allclose(need[:, 0], need[:, 1] / ctx.params["separation_recovery"])


def test_value_added_is_output_value_less_input_cost(ctx, view):
    step = month_of(ctx)
    line = int(np.flatnonzero(ctx.lines(facilities=["JPN_MAGNET"]))[0])
    s = ctx.structure
    value = (s.outputs[line] * s.price_base).sum() - (s.inputs[line] * s.price_base).sum()
    np.testing.assert_allclose(signals.value_added(view, step)[:, line], step.throughput[:, line] * value * 1e-3)


def test_the_recorder_keeps_every_metric_by_member_and_month(ctx, view):
    months = pd.period_range("2024-01", periods=2, freq="M")
    recorder = Recorder(view, months)
    for k in range(2):
        recorder.observe(with_unmet_magnets(ctx, month_of(ctx), np.full(MEMBERS, 10.0 * k)), np.zeros(MEMBERS))
    ds = recorder.dataset()
    assert ds["china_share"].dims == ("member", "time", "by", "stage")
    assert ds["g7_unmet_value"].isel(time=0).sum() == 0 and (ds["g7_unmet_value"].isel(time=1) > 0).all()
    assert ((ds["china_value_added_share"] > 0) & (ds["china_value_added_share"] < 1)).all()


def metric_frame(supply: list[float], need: float = 10.0) -> xr.Dataset:
    """Monthly non-China supply (one value per year, held for twelve months) against a flat G-7 need."""
    time = pd.date_range("2024-01-01", periods=12 * len(supply), freq="MS")
    values = np.repeat(supply, 12)[None, :, None, None] * np.ones((1, 1, 2, 4))
    return xr.Dataset({"non_china_supply": (("member", "time", "by", "stage"), values),
                       "g7_requirement": (("member", "time", "stage"), np.full((1, len(time), 4), need))},
                      coords={"member": [0], "time": time, "by": ["location", "controller"],
                              "stage": ["mining", "separation", "metal", "magnet"]})


def test_coverage_year_is_the_year_from_which_supply_covers_the_share():
    frame = metric_frame([6.0, 4.0, 6.0, 9.0])  # covered in 2024, lost in 2025, covered from 2026 on
    assert coverage_year(frame, share=0.5).sel(stage="magnet").item() == 2026
    assert coverage_year(frame, share=0.35).sel(stage="magnet").item() == 2024
    assert coverage_year(frame, share=0.9).sel(stage="magnet").item() == 2027
    assert np.isnan(coverage_year(frame, share=0.95).sel(stage="magnet").item())
    with pytest.raises(ValueError, match="by must be"):
        coverage_year(frame, by="owner")


def test_g7_fiscal_cost_counts_only_g7_payers():
    time = pd.date_range("2026-01-01", periods=2, freq="MS")
    paid = np.array([[[10.0, -3.0, 7.0], [1.0, 1.0, 1.0]]])  # USA, CHN, AUS
    ds = xr.Dataset({"fiscal_cost": (("member", "time", "payer"), paid),
                     "g7_unmet_value": (("member", "time"), np.zeros((1, 2)))},
                    coords={"member": [0], "time": time, "payer": ["USA", "CHN", "AUS"],
                            "payer_alignment": ("payer", ["g7", "china", "partner"])})
    np.testing.assert_allclose(g7_fiscal_cost(ds).values, [[10.0, 1.0]])


def probe_of(unmet: float, price: float, served: float, revenue: float, rivals: float) -> Probe:
    full = np.full((1, 1, 1), 1.0)
    return Probe(np.array([unmet]), price * full, served * full, np.array([revenue]), np.array([rivals]))


def test_leverage_formula_on_crafted_months():
    months = pd.period_range("2025-01", periods=3, freq="M")
    run = [probe_of(1.0, 100.0, 10.0, 500.0, 20.0)] * 3
    cut = [probe_of(11.0, 300.0, 8.0, 200.0, 50.0), probe_of(6.0, 200.0, 9.0, 300.0, 40.0)]
    spec = LeverageSpec(cutoff_months=1, window_months=2, damage_multiplier=2.0, rival_weight=0.5)
    lev = leverage_dataset(run, {1: cut}, spec, months)
    damage = 2.0 * (10.0 + 5.0) + (200.0 * 8.0 + 100.0 * 9.0) * 1e-3
    loss = (300.0 + 200.0) + 0.5 * (30.0 + 20.0)
    assert lev["damage"].item() == pytest.approx(damage) and lev["loss"].item() == pytest.approx(loss)
    assert lev["index"].item() == pytest.approx(damage / loss)
    assert pd.Timestamp(lev["start"].item()) == pd.Timestamp("2025-02-01")
    # A cut-off that costs China nothing is judged against a tenth of the revenue at stake.
    free = leverage_dataset(run, {1: [probe_of(11.0, 300.0, 8.0, 600.0, 20.0)] * 2}, spec, months)
    assert free["index"].item() == pytest.approx(free["damage"].item() / (0.1 * 1000.0))


def test_leverage_starts_must_fit_in_the_run():
    base = pd.Period("2024-01", freq="M")
    assert LeverageSpec().start_indices(base, 36) == [24]
    with pytest.raises(InputError, match="does not fit"):
        LeverageSpec(starts=["2026-06"]).start_indices(base, 36)


def test_the_fork_leaves_the_run_alone_and_measures_a_cut_off():
    specs = parse_actors([{"kind": "china", "strategy": "status-quo"}, {"kind": "g7", "strategy": "passive"}])
    scenario = load_scenario("baseline", members=1, end="2025-08")
    plain = play(scenario, specs)
    forked = play(scenario, specs, leverage=LeverageSpec(starts=["2025-01"], window_months=6, cutoff_months=3))
    assert plain.metrics.identical(forked.metrics)
    lev = forked.leverage.isel(member=0, start=0)
    assert lev["damage"].item() > 0 and lev["index"].item() > 0


def test_outcomes_carry_every_metric_the_default_objectives_weigh():
    specs = parse_actors([{"kind": "china", "strategy": "status-quo"}, {"kind": "g7", "strategy": "passive"}])
    played = play(load_scenario("baseline", members=1, end="2024-12"), specs,
                  leverage=LeverageSpec(window_months=3, cutoff_months=1))
    frame = played.outcomes()
    assert set(DEFAULT_CHINA_WEIGHTS) | set(DEFAULT_G7_WEIGHTS) <= set(frame.columns)
    assert frame[list(DEFAULT_CHINA_WEIGHTS)].notna().all().all()
