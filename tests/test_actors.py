"""Strategic actors: each rule on crafted months, specs and presets, and the actors in a short run.

Crafted months (`month_of`) start from a calm world: base-year prices, China shipping every product to
every other region, base-year plant output, no unmet demand. Each test changes what its rule reads.
"""

from __future__ import annotations

import numpy as np
import pytest

from reesim.actors import (
    ChinaSpec,
    G7Spec,
    PartnerSpec,
    build_actors,
    check_actors,
    parse_actors,
    play,
    with_commitments,
)
from reesim.actors.board import Board
from reesim.actors.china import ChinaActor
from reesim.actors.g7 import G7Actor
from reesim.actors.licence import ReferencedLicence
from reesim.actors.partner import PartnerActor
from reesim.engine.core import StepResult
from reesim.engine.parameters import draw_parameters
from reesim.engine.simulate import policy_context, run_scenario
from reesim.engine.wedges import POOLS
from reesim.errors import InputError
from reesim.policy.builder import Ledger, WedgeBuilder
from reesim.policy.event import EventRun
from reesim.scenario import load_scenario

MEMBERS = 3
JULY_2026, JAN_2026 = 30, 24  # month indices from January 2024


@pytest.fixture(scope="module")
def ctx():
    params = draw_parameters({}, [np.random.default_rng(0) for _ in range(MEMBERS)])
    return policy_context(load_scenario("baseline", members=MEMBERS), None, params)


def month_of(ctx, exports: float = 10.0) -> StepResult:
    """A calm month: base prices, `exports` t/month of every product from China to every other region."""
    s, m = ctx.structure, ctx.members
    n_r, n_p, n_s, n_l = s.shape
    china = ctx.region("CHN")
    trade = np.zeros((m, n_p, n_r, n_r))
    trade[:, :, china, :] = exports
    trade[:, :, china, china] = 0.0
    zeros = np.zeros((m, n_r, n_p))
    line = np.broadcast_to(s.line_base_output, (m, n_l)).copy()
    return StepResult(price=np.broadcast_to(s.price_base, (m, n_r, n_p)).copy(), production=zeros.copy(),
                      consumption=np.full((m, n_r, n_p), 5.0), purchases=zeros.copy(), inventory=zeros.copy(),
                      arrivals=zeros.copy(), trade=trade, smuggled=np.zeros_like(trade), rent=np.zeros_like(trade),
                      shortfall=np.zeros((m, n_r, n_s, n_p)), disposal=zeros.copy(), stockpile=zeros.copy(),
                      throughput=line, capacity=np.broadcast_to(s.line_capacity, (m, n_l)).copy(),
                      margin=np.zeros((m, n_l)), expansion=np.zeros((m, n_l)), licence=np.zeros((m, POOLS)))


def with_unmet_magnets(ctx, step: StepResult, tonnes: np.ndarray) -> StepResult:
    """The month with `tonnes` (M,) of NdFeB magnets unmet in Japan's EV sector."""
    s = ctx.structure
    step.shortfall[:, ctx.region("JPN"), s.sectors.index("ev_traction"), ctx.product("magnet:NdFeB")] = tonnes
    return step


def china(ctx, spec: ChinaSpec, board: Board | None = None) -> ChinaActor:
    return ChinaActor(spec, board or Board(), np.random.default_rng(0))


def play_months(actor, ctx, steps: dict[int, StepResult], start: int, stop: int) -> dict[int, dict]:
    """Decisions for months start..stop-1, each seeing `steps[t-1]` (a calm month where none is given)."""
    return {t: actor.decide(t, steps.get(t - 1, month_of(ctx)), ctx) for t in range(start, stop)}


# --- China ------------------------------------------------------------------------------------------------

def test_status_quo_moves_nothing(ctx):
    actor = china(ctx, ChinaSpec(strategy="status-quo"))
    assert all(not moves for moves in play_months(actor, ctx, {}, 0, 40).values())


def test_pillar_measures_stand_from_their_start_in_every_member(ctx):
    actor = china(ctx, ChinaSpec(strategy="inducement-first"))
    before, after = actor.decide(JAN_2026 - 1, month_of(ctx), ctx), actor.decide(JAN_2026, month_of(ctx), ctx)
    assert not before
    assert set(after) == {"oxide-export-tax", "magnet-export-rebate", "technology-ban"}
    tax, everyone = after["oxide-export-tax"]
    assert tax.rate == 0.1 and everyone.all()
    assert after["magnet-export-rebate"][0].rate == -0.05


def test_calibrated_controls_start_when_the_provocation_comes(ctx):
    board = Board()
    actor = china(ctx, ChinaSpec(strategy="calibrated-coercion"), board)
    moves = play_months(actor, ctx, {}, JAN_2026, JULY_2026 + 1)
    assert "controls" not in moves[JULY_2026 - 1]
    licence, members = moves[JULY_2026]["controls"]
    assert members.all() and licence.approval_rate == pytest.approx(0.3)
    covered = licence.goods.mask(ctx)
    assert covered[ctx.product("oxide:Dy")] and covered[ctx.product("magnet:NdFeB")]
    assert not covered[ctx.product("oxide:La")]  # calibrated: the April 2025 list, not every element
    np.testing.assert_allclose(board.controls, 0.7)


def test_the_targets_damage_brings_a_concession_in_the_members_that_suffer(ctx):
    spec = ChinaSpec(strategy="calibrated-coercion",
                     controls={"cycle": {"damage_threshold": 50.0, "concession_scale": 100.0, "max_duration": 6}})
    board = Board()
    actor = china(ctx, spec, board)
    play_months(actor, ctx, {}, 1, JULY_2026 + 1)  # controls on everywhere from July 2026
    hurt = with_unmet_magnets(ctx, month_of(ctx), np.array([10_000.0, 0.0, 0.0]))  # member 0 only
    moves = actor.decide(JULY_2026 + 1, hurt, ctx)
    assert moves["eased"][1].tolist() == [True, False, False]
    assert moves["controls"][1].tolist() == [False, True, True]
    assert moves["eased"][0].approval_rate == pytest.approx(0.8)
    assert actor.concessions.tolist() == [1, 0, 0]
    assert board.conceded_until[0] == JULY_2026 + 1 + 12 and board.conceded_until[1] < 0
    # The provocation the G-7 conceded on no longer provokes; in the other members it still does.
    tension = actor.tension(JULY_2026 + 2, month_of(ctx))
    assert tension[0] == 0.0 and tension[1] == pytest.approx(1.0)


def test_chinas_own_cost_suspends_the_controls(ctx):
    spec = ChinaSpec(strategy="calibrated-coercion",
                     controls={"cycle": {"cost_threshold": 5.0, "concession_scale": 0.0}})
    actor = china(ctx, spec)
    play_months(actor, ctx, {}, 1, JULY_2026 + 1)
    no_exports = month_of(ctx, exports=0.0)  # China's export revenue falls to nothing: a large loss
    moves = actor.decide(JULY_2026 + 1, no_exports, ctx)
    assert "controls" not in moves and "eased" not in moves
    assert (actor.state.phase == 3).all()  # suspended


def test_controls_end_after_their_maximum_duration(ctx):
    spec = ChinaSpec(strategy="calibrated-coercion", controls={"cycle": {"max_duration": 2}})
    moves = play_months(china(ctx, spec), ctx, {}, 1, JULY_2026 + 4)
    on = [t for t, m in moves.items() if "controls" in m]
    assert on == [JULY_2026, JULY_2026 + 1]


def test_a_blunt_ban_cuts_everything_and_does_not_ease_on_a_concession(ctx):
    spec = ChinaSpec(strategy="blunt-ban", controls={"cycle": {"damage_threshold": 50.0,
                                                               "concession_scale": 100.0}})
    actor = china(ctx, spec)
    ban = play_months(actor, ctx, {}, 1, JULY_2026 + 1)[JULY_2026]["controls"][0]
    assert ban.approval_rate == 0.0
    covered = ban.goods.mask(ctx)
    assert covered[ctx.product("oxide:La")] and covered[ctx.product("oxide:NdPr")]
    hurt = with_unmet_magnets(ctx, month_of(ctx), np.full(MEMBERS, 10_000.0))
    eased = actor.decide(JULY_2026 + 1, hurt, ctx)["eased"]
    assert eased[1].all() and eased[0].approval_rate == 0.0


def test_diversification_and_decoupling_raise_the_tension(ctx):
    board = Board()
    spec = ChinaSpec(tension={"provocations": [], "share_floor": 0.99, "share_gain": 10.0, "decoupling_gain": 0.6})
    actor = china(ctx, spec, board)
    actor.decide(1, month_of(ctx), ctx)
    step = month_of(ctx)
    china_sep = actor.view.line_china["controller"] & (ctx.structure.line_stage == 1)
    share = (step.throughput[0] * china_sep).sum() / step.throughput[0, ctx.structure.line_stage == 1].sum()
    np.testing.assert_allclose(actor.tension(2, step), 10.0 * (0.99 - share))
    board.provoking = np.array([True, False, False])
    np.testing.assert_allclose(actor.tension(2, step) - 10.0 * (0.99 - share), [0.6, 0.0, 0.0], atol=1e-12)


def test_china_can_read_its_share_of_capacity_instead_of_output(ctx):
    spec = ChinaSpec(tension={"provocations": [], "share_floor": 0.99, "share_gain": 10.0, "share_of": "capacity"})
    actor = china(ctx, spec)
    actor.decide(1, month_of(ctx), ctx)
    step = month_of(ctx)
    rivals_sep = ~actor.view.line_china["controller"] & (ctx.structure.line_stage == 1)
    before = actor.tension(2, step)
    step.capacity[:, rivals_sep] *= 3.0  # rivals build; their output has not followed yet
    assert (actor.tension(2, step) > before).all()


def test_controls_can_throttle_chinas_plants_abroad(ctx):
    spec = ChinaSpec(strategy="calibrated-coercion", controls={"throttle_abroad": True})
    moves = play_months(china(ctx, spec), ctx, {}, 1, JULY_2026 + 1)[JULY_2026]
    throttle = moves["controls-throttle"][0]
    assert throttle.factor == pytest.approx(0.3)
    plants = throttle.plants.mask(ctx)
    assert plants[ctx.lines(facilities=["LAO_IONIC"])].all() and not plants[ctx.lines(regions=["CHN"])].any()


def test_the_licence_refers_to_the_actors_reference_flows(ctx):
    licence = ReferencedLicence(start="2024-01", goods={"elements": ["Dy"]}, destinations=["JPN"],
                                approval_rate=0.25, deny_defence=False)
    reference = month_of(ctx, exports=40.0).trade
    licence.use_reference(reference)
    s = ctx.structure
    builder = WedgeBuilder(ctx.members, len(s.regions), len(s.products), len(s.line_facility), len(s.sectors))
    run = EventRun(ctx=ctx, label="china:controls", t=40, since=20, last=None, memo={}, wedges=builder,
                   ledger=Ledger(ctx.members, 48, s.regions))
    licence.act(run)
    cap = builder.build().route_cap[:, ctx.region("CHN"), ctx.region("JPN"), ctx.product("oxide:Dy")]
    np.testing.assert_allclose(cap, 0.25 * 40.0)  # no growth since the licence's first month, no delay


# --- the G-7 and partners -----------------------------------------------------------------------------------

def test_a_passive_g7_does_nothing(ctx):
    actor = G7Actor(G7Spec(strategy="passive"), Board())
    assert not actor.decide(JAN_2026 + 5, month_of(ctx), ctx)


def test_the_floor_club_pays_floors_from_its_start_and_tells_the_partners(ctx):
    board = Board()
    actor = G7Actor(G7Spec(strategy="price-floor-club"), board)
    assert not actor.decide(JAN_2026 - 1, month_of(ctx), ctx)
    moves = actor.decide(JAN_2026, month_of(ctx), ctx)
    assert {"floor-ndpr-usa", "floor-dy-jpn", "floor-tb-eu"} <= set(moves)
    floor = moves["floor-ndpr-jpn"][0]
    assert floor.level == 110.0 and floor.payer == "JPN"
    assert floor.producers.mask(ctx)[ctx.lines(facilities=["MYS_LYNAS_KUANTAN"])].all()
    assert board.club.all() and not board.provoking.any()


def test_decoupling_provokes_until_the_g7_concedes(ctx):
    board = Board()
    actor = G7Actor(G7Spec(strategy="decouple"), board)
    board.ensure(MEMBERS)
    board.conceded_until = np.array([JAN_2026 + 5, -1, -1])
    moves = actor.decide(JAN_2026, month_of(ctx), ctx)
    assert moves["tariff"][1].tolist() == [False, True, True]
    assert board.provoking.tolist() == [False, True, True]
    assert moves["grant-usa"][1].all()  # support does not depend on the concession
    stubborn = G7Actor(G7Spec(strategy="decouple", concedes=False), board)
    assert stubborn.decide(JAN_2026, month_of(ctx), ctx)["tariff"][1].all()


def test_a_g7_acting_after_controls_acts_only_where_china_has_imposed_them(ctx):
    board = Board()
    board.ensure(MEMBERS)
    board.ever_controlled = np.array([True, False, False])
    actor = G7Actor(G7Spec(strategy="stockpile-and-floor", when="after_controls"), board)
    moves = actor.decide(JAN_2026, month_of(ctx), ctx)
    assert moves["floor-ndpr-usa"][1].tolist() == [True, False, False]
    assert moves["stockpile-usa-dy"][1].all()  # stockpiles are built everywhere from the start
    assert moves["stockpile-usa-dy"][0].release_price == pytest.approx(2.0 * ctx.structure.price_base[
        ctx.product("oxide:Dy")])


def test_a_g7_acting_after_shortfalls_acts_where_its_users_went_short(ctx):
    actor = G7Actor(G7Spec(strategy="price-floor-club", when="after_shortfall", shortfall_trigger=50.0), Board())
    assert "floor-ndpr-usa" not in actor.decide(JAN_2026, month_of(ctx), ctx)
    short = with_unmet_magnets(ctx, month_of(ctx), np.array([0.0, 5_000.0, 0.0]))
    assert actor.decide(JAN_2026 + 1, short, ctx)["floor-ndpr-usa"][1].tolist() == [False, True, False]
    assert actor.decide(JAN_2026 + 2, month_of(ctx), ctx)["floor-ndpr-usa"][1].tolist() == [False, True, False]


def test_a_g7_member_can_act_alone(ctx):
    usa = G7Actor(G7Spec(name="usa", payers={"USA": ["USA"]}, importers=["USA"], tariff=0.25,
                         floors=[{"product": "oxide:NdPr", "level": 110.0}]), Board())
    moves = usa.decide(JAN_2026, month_of(ctx), ctx)
    assert set(moves) == {"floor-ndpr-usa", "tariff"}
    assert moves["tariff"][0].importers == ["USA"]


def test_a_partner_bans_raw_exports_and_joins_the_club_where_it_runs(ctx):
    board = Board()
    board.ensure(MEMBERS)
    board.club = np.array([False, True, False])
    actor = PartnerActor(PartnerSpec(name="malaysia", region="MYS", raw_export_ban=True, club_offtake=0.5), board)
    moves = actor.decide(JAN_2026, month_of(ctx), ctx)
    ban, everyone = moves["raw-export-ban"]
    assert everyone.all() and ban.goods.mask(ctx)[ctx.product("concentrate:mineral_sand_monazite")]
    assert not ban.goods.mask(ctx)[ctx.product("oxide:NdPr")]
    offtake, members = moves["club-offtake"]
    assert members.tolist() == [False, True, False] and offtake.buyers == ["g7"]


# --- specs ------------------------------------------------------------------------------------------------

def test_a_spec_overrides_its_preset_field_by_field():
    (spec,) = parse_actors([{"kind": "china", "strategy": "calibrated-coercion",
                             "controls": {"cycle": {"max_duration": 3}}}])
    assert spec.controls.cycle.max_duration == 3 and spec.controls.cycle.intensity == 0.7
    assert "Dy" in spec.controls.goods.elements and spec.inducement.technology_ban


@pytest.mark.parametrize(("data", "key"), [
    ([{"kind": "china", "strategy": "charm-offensive"}], "actors.0.strategy"),
    ([{"kind": "g7", "tarif": 0.2}], "actors.0.tarif"),
    ([{"kind": "partner", "region": "MYS"}], "actors.0.name"),
    ([{"kind": "china", "controls": {"cycle": {"intensity": 1.5}}}], "actors.0.controls.cycle.intensity"),
])
def test_bad_specs_name_the_key(data, key):
    with pytest.raises(InputError) as err:
        parse_actors(data, source="scenario.yaml")
    assert err.value.key == key and err.value.file == "scenario.yaml"
    if "charm" in str(data):
        assert "calibrated-coercion" in str(err.value)  # the choices are listed


def test_actors_decide_china_first_and_need_distinct_names():
    specs = parse_actors([{"kind": "partner", "name": "australia", "region": "AUS"}, {"kind": "g7"},
                          {"kind": "china"}])
    assert [a.name for a in build_actors(specs)] == ["china", "g7", "australia"]
    with pytest.raises(InputError, match="used twice"):
        build_actors(parse_actors([{"kind": "g7"}, {"kind": "g7"}]))


def test_specs_are_checked_against_the_world(ctx):
    check_actors(parse_actors([{"kind": "china", "strategy": "inducement-first"}, {"kind": "g7", "strategy": "decouple"},
                               {"kind": "partner", "name": "malaysia", "region": "MYS", "club_offtake": 0.5}]), ctx)
    with pytest.raises(InputError, match="unknown region 'ATLANTIS'") as err:
        check_actors(parse_actors([{"kind": "g7", "importers": ["ATLANTIS"], "tariff": 0.1}]), ctx)
    assert err.value.key == "actors.g7"
    with pytest.raises(InputError, match="oxide:Unobtainium"):
        check_actors(parse_actors([{"kind": "g7", "reserves": [{"region": "USA", "product": "oxide:Unobtainium",
                                                                  "size": 10}]}]), ctx)


def test_commitments_add_chinas_refinery_to_the_timeline():
    base = load_scenario("baseline")
    specs = parse_actors([{"kind": "china", "strategy": "inducement-first"}])
    planned = with_commitments(base, specs)
    assert [e.facility for e in planned.timeline if e.instrument == "offshore_refinery"] == ["MYS_CHN_INDUCEMENT"]
    assert with_commitments(base, parse_actors([{"kind": "china", "strategy": "blunt-ban"}])) is base
    assert with_commitments(planned, specs) is planned  # a manifest's scenario runs again as it ran


def test_a_scenario_file_can_name_its_actors(tmp_path):
    path = tmp_path / "coercion.yaml"
    path.write_text("name: coercion\nextends: baseline\nmembers: 1\nend: 2026-08\n"
                    "actors:\n  - {kind: china, strategy: blunt-ban}\n  - {kind: g7, strategy: passive}\n")
    scenario = load_scenario(path)
    assert [a.kind for a in scenario.actors] == ["china", "g7"]
    on = run_scenario(scenario, variables=["price"]).dataset["in_force"].sel(instrument="china:controls")
    assert int(on.sel(time="2026-06").sum()) == 0 and int(on.sel(time="2026-08").sum()) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nactors:\n  - {kind: china, strategy: charm}\n")
    with pytest.raises(InputError) as err:
        load_scenario(bad)
    assert "actors" in str(err.value) and "charm" in str(err.value)


# --- in a run -------------------------------------------------------------------------------------------------

def test_a_ban_acts_in_a_run_from_its_trigger():
    specs = parse_actors([{"kind": "china", "strategy": "blunt-ban"}, {"kind": "g7", "strategy": "passive"}])
    scenario = load_scenario("baseline", members=2, end="2026-08")
    results = run_scenario(scenario, actors=build_actors(specs, scenario.seed))
    ds = results.dataset
    on = ds["in_force"].sel(instrument="china:controls")
    assert int(on.sel(time="2026-06").sum()) == 0 and int(on.sel(time="2026-08").sum()) == 2
    dy = ds["trade"].sel(origin="CHN", destination="JPN", product="oxide:Dy")
    assert float(dy.sel(time="2026-08").sum()) < 0.01 * float(dy.sel(time="2026-05").sum())


def test_played_runs_repeat_exactly():
    specs = parse_actors([{"kind": "china", "strategy": "calibrated-coercion"},
                          {"kind": "g7", "strategy": "decouple", "start": "2024-06"},
                          {"kind": "partner", "name": "malaysia", "region": "MYS", "club_offtake": 0.5}])
    scenario = load_scenario("baseline", members=2, end="2024-09")
    first, second = play(scenario, specs), play(scenario, specs)
    assert first.metrics.identical(second.metrics)
    assert first.actors[0].episodes.tolist() == second.actors[0].episodes.tolist()
    assert first.actors[0].episodes.tolist() == [1, 1]  # decoupling from June 2024 provoked controls
