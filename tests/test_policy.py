"""Each instrument acts as its documentation says, on the default world, against a run without it.

Runs are short (one member at the default parameters, a year or two) and cached per module; every
claim compares a run with the instrument to the same run without it, so a test fails if the
instrument does nothing or the opposite of what its page says.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from reesim.engine.simulate import policy_context, run_scenario
from reesim.errors import InputError
from reesim.policy.schedule import PolicySchedule
from reesim.scenario import Scenario, load_scenario

END = "2025-12"


def scenario(*events: dict, end: str = END, members: int = 1) -> Scenario:
    return load_scenario({"name": "test", "members": members, "end": end, "timeline": list(events)})


@cache
def run(key: str, end: str = END):
    """Results of a named test case (cached: several tests look at the same run)."""
    return run_scenario(scenario(*CASES[key], end=end))


DY_LICENCE = {"instrument": "export_licence", "id": "dy", "start": "2024-07", "goods": {"elements": ["Dy"]},
              "destinations": ["g7"], "approval_rate": 0.3, "delay_months": 0}
QUOTA_GOODS = {"elements": ["La", "Ce", "Pr", "Nd", "Dy", "Tb", "Y", "Sm"], "magnets_containing": False}
LIGHT_GOODS = {"elements": ["La", "Ce", "Pr", "Nd"], "magnets_containing": False}  # China's split from 2012
HEAVY_GOODS = {"elements": ["Dy", "Tb", "Y", "Sm"], "magnets_containing": False}
CASES: dict[str, list[dict]] = {
    "none": [],
    "dy_licence": [DY_LICENCE],
    "dy_licence_extraterritorial": [{**DY_LICENCE, "extraterritorial_threshold": 0.001}],
    "dy_licence_suspended": [{**DY_LICENCE, "extraterritorial_threshold": 0.001},
                             {"instrument": "suspend", "start": "2024-10", "target": "dy"}],
    "mp_cost": [{"instrument": "environmental_enforcement", "start": "2024-01",
                 "plants": {"facilities": ["USA_MP_SEPARATION"]}, "cost_increase": 8.0}],
    "mp_cost_floor": [{"instrument": "environmental_enforcement", "start": "2024-01",
                       "plants": {"facilities": ["USA_MP_SEPARATION"]}, "cost_increase": 8.0},
                      {"instrument": "price_floor", "id": "floor", "start": "2024-01", "product": "oxide:NdPr",
                       "level": 150.0, "payer": "USA", "producers": {"facilities": ["USA_MP_SEPARATION"]}}],
    "tech_ban": [{"instrument": "technology_ban", "start": "2024-01", "delay_months": 24}],
    "quota": [{"instrument": "quota", "start": "2024-07", "kind": "mining", "level": 200000}],
    "quota_part": [{"instrument": "quota", "start": "2024-07", "kind": "mining", "level": 10000,
                    "relative_to": 270000, "plants": {"facilities": ["CHN_SOUTH_IONIC"]}}],
    "quota_part_steered": [{"instrument": "quota", "start": "2024-07", "kind": "mining", "level": 10000,
                            "relative_to": 270000, "plants": {"facilities": ["CHN_SOUTH_IONIC"]}},
                           {"instrument": "consolidation", "start": "2024-03", "target_price": 300.0}],
    "quota_relative": [{"instrument": "quota", "start": "2024-07", "kind": "mining", "level": 180000,
                        "relative_to": 240000}],
    "closure": [{"instrument": "environmental_enforcement", "start": "2024-07",
                 "plants": {"facilities": ["CHN_SOUTH_IONIC"]}, "capacity_cut": 1.0}],
    "export_tax": [{"instrument": "export_tax", "id": "tax", "start": "2024-07",
                    "goods": {"products": ["magnet:NdFeB"]}, "rate": 0.1}],
    "tariff": [{"instrument": "tariff", "id": "tariff", "start": "2024-07", "importers": ["USA"],
                "goods": {"products": ["magnet:NdFeB"]}, "rate": 0.15}],
    "stockpile": [{"instrument": "stockpile", "id": "pile", "start": "2024-03", "region": "JPN",
                   "product": "oxide:Dy", "size": 60, "build_months": 6, "release_price": 1000}],
    "refinery": [{"instrument": "offshore_refinery", "id": "mys", "start": "2024-03", "facility": "MYS_CHN_TEST",
                  "region": "MYS", "product": "oxide:NdPr", "feed": "ionic_clay_heavy", "capacity": 6000,
                  "unit_cost": 3.0, "ramp_months": 3}],
    "refinery_throttled": [{"instrument": "offshore_refinery", "id": "mys", "start": "2024-03",
                            "facility": "MYS_CHN_TEST", "region": "MYS", "product": "oxide:NdPr",
                            "feed": "ionic_clay_heavy", "capacity": 6000, "unit_cost": 3.0, "ramp_months": 3},
                           {"instrument": "throttle", "start": "2024-09", "factor": 0.0,
                            "plants": {"controllers": ["CHN"], "regions": ["MYS"]}}],
    "offtake": [{"instrument": "offtake", "start": "2024-03", "producers": {"facilities": ["MYS_LYNAS_KUANTAN"]},
                 "goods": {"products": ["oxide:NdPr"]}, "buyers": ["JPN"], "share": 0.9}],
    "consolidation": [{"instrument": "consolidation", "start": "2024-03", "target_price": 90.0}],
    "outage": [{"instrument": "outage", "start": "2024-03", "plants": {"facilities": ["MMR_KACHIN_IONIC"]},
                "share": 0.9}],
    "demand": [{"instrument": "demand_shift", "start": "2024-03", "sectors": ["ev_traction"], "factor": 1.5}],
    "speculation": [{"instrument": "speculation", "start": "2024-03", "end": "2024-08", "regions": ["JPN"],
                     "goods": {"products": ["oxide:Dy"]}, "risk": 3.0}],
    "pooled_quota": [{"instrument": "export_quota", "start": "2024-07", "level": 20000, "allocation": "pooled",
                      "tension": 0.0, "goods": QUOTA_GOODS}],
    "slack_pooled_quota": [{"instrument": "export_quota", "start": "2024-07", "level": 2e6, "allocation": "pooled",
                            "tension": 0.0, "goods": QUOTA_GOODS}],
    "split_quota": [{"instrument": "export_quota", "start": "2024-07", "level": 20000, "allocation": "pooled",
                     "tension": 0.0, "goods": LIGHT_GOODS},
                    {"instrument": "export_quota", "start": "2024-07", "level": 3000, "allocation": "pooled",
                     "pool": 2, "tension": 0.0, "goods": HEAVY_GOODS}],
    "smuggled_quota": [{"instrument": "export_quota", "start": "2024-07", "level": 20000, "allocation": "pooled",
                        "tension": 0.0, "goods": QUOTA_GOODS},
                       {"instrument": "smuggling", "start": "2024-07", "goods": QUOTA_GOODS, "capacity": 10000}],
    "smuggling_alone": [{"instrument": "smuggling", "start": "2024-07", "goods": QUOTA_GOODS, "capacity": 10000}],
    "grant": [{"instrument": "capital_grant", "id": "grant", "start": "2024-01", "share": 0.9, "payer": "USA",
               "plants": {"regions": ["non-china"]}}],
}


def price(results, product: str, region: str, when: str | slice) -> float:
    return float(results.dataset["price"].sel(product=product, region=region, time=when).mean())


def output(results, facility: str, when: str | slice) -> float:
    return float(results.dataset["output"].sel(facility=facility, time=when).mean())


LATE = slice("2025-01", "2025-12")


def test_licence_opens_an_ex_china_premium_while_chinas_price_does_not_rise():
    base, capped = run("none"), run("dy_licence_extraterritorial")
    assert price(capped, "oxide:Dy", "JPN", LATE) > 1.2 * price(capped, "oxide:Dy", "CHN", LATE)
    assert price(base, "oxide:Dy", "JPN", LATE) < 1.01 * price(base, "oxide:Dy", "CHN", LATE)
    assert price(capped, "oxide:Dy", "CHN", LATE) <= price(base, "oxide:Dy", "CHN", LATE) * 1.001


def test_reexport_closes_the_wedge_unless_the_extraterritorial_rule_is_on():
    open_route, closed = run("dy_licence"), run("dy_licence_extraterritorial")
    # Without the rule, third countries (outside the licence's destinations) re-export Chinese Dy.
    assert price(open_route, "oxide:Dy", "JPN", LATE) < 1.02 * price(open_route, "oxide:Dy", "CHN", LATE)
    third = [r for r, a in zip(closed.dataset.region.values, closed.dataset.alignment.values)
             if a not in ("g7", "china")]

    def from_third(r):  # Dy oxide shipped from third countries to the G-7 beyond what they make themselves
        flows = r.dataset["trade"].sel(origin=third, destination=["JPN", "USA", "EU"], product="oxide:Dy", time=LATE)
        made = r.dataset["production"].sel(region=third, product="oxide:Dy", time=LATE)
        return float(np.maximum(flows.sum("destination") - made.rename(region="origin"), 0).sum())

    rerouted, reexports = from_third(open_route), from_third(closed)
    assert float(rerouted) > 5 * max(float(reexports), 1e-6)


def test_route_cap_follows_the_approval_rate_of_the_reference_flow():
    base, capped = run("none"), run("dy_licence")
    before = float(base.dataset["trade"].sel(origin="CHN", destination="JPN", product="oxide:Dy",
                                             time=slice("2023-07", "2024-06")).mean())
    during = float(capped.dataset["trade"].sel(origin="CHN", destination="JPN", product="oxide:Dy",
                                               time="2024-08").squeeze())
    assert before > 0
    assert during <= 0.3 * before * 1.05 + 1e-6


def test_a_suspended_measure_stops_acting_on_its_date():
    sc = scenario(*CASES["dy_licence_suspended"])
    schedule = PolicySchedule(sc.timeline, policy_context(sc), len(sc.months()))
    labels = lambda t: [label for label, _ in schedule.in_force(t)]
    assert labels(7) == ["dy"] and labels(8) == ["dy"] and labels(9) == []  # months 2024-08, -09, -10
    suspended, base = run("dy_licence_suspended"), run("none")
    flows = suspended.dataset["trade"].sel(origin="CHN", destination="JPN", product="oxide:Dy")
    reference = base.dataset["trade"].sel(origin="CHN", destination="JPN", product="oxide:Dy")
    assert float(flows.sel(time="2024-09").squeeze()) < 0.5 * float(reference.sel(time="2024-09").squeeze())
    assert float(flows.sel(time="2024-10").squeeze()) > float(reference.sel(time="2024-10").squeeze())  # restocking


def test_a_floor_keeps_a_high_cost_producer_running_and_its_cost_is_the_payments():
    # The cost increase cuts the plant's output by more than half; the floor restores it above its output
    # without either.
    base, costly, floored = (output(run(key), "USA_MP_SEPARATION", LATE) for key in ("none", "mp_cost", "mp_cost_floor"))
    assert costly < 0.5 * base < 0.5 * floored
    ds = run("mp_cost_floor").dataset
    # Independent account: gap to last month's US price x NdPr made by the plant (throughput x basket x recovery).
    sc = scenario(*CASES["mp_cost_floor"])
    ctx = policy_context(sc)
    s = ctx.structure
    line = int(np.flatnonzero(s.line_facility == list(s.facilities).index("USA_MP_SEPARATION"))[0])
    ndpr_per_t = s.outputs[line, s.products.index("oxide:NdPr")] * float(ds["parameters"].sel(
        parameter="separation_recovery").squeeze())
    us_price = ds["price"].sel(region="USA", product="oxide:NdPr").squeeze().values
    last_price = np.concatenate([[s.price_base[s.products.index("oxide:NdPr")]], us_price[:-1]])
    made = ds["output"].sel(facility="USA_MP_SEPARATION").squeeze().values
    expected = (np.maximum(150.0 - last_price, 0.0) * made * ndpr_per_t * 1e-3).sum()
    booked = float(ds["fiscal_cost"].sel(instrument="floor", payer="USA").sum())
    assert booked > 0
    assert booked == pytest.approx(expected, rel=1e-9)


def test_technology_ban_delays_non_chinese_separation_capacity():
    base, banned = run("none", "2027-12"), run("tech_ban", "2027-12")
    for facility in ("EU_SOLVAY_LA_ROCHELLE", "MYS_LYNAS_HEAVY"):  # start 2025-04 and 2025-05
        when = slice("2025-06", "2026-03")
        assert float(base.dataset["capacity"].sel(facility=facility, time=when).mean()) > 0
        assert float(banned.dataset["capacity"].sel(facility=facility, time=when).mean()) == 0
    # Chinese plants are untouched.
    assert float(banned.dataset["capacity"].sel(facility="CHN_SEP_NORTHERN").mean()) == pytest.approx(
        float(base.dataset["capacity"].sel(facility="CHN_SEP_NORTHERN").mean()))


def test_quota_caps_chinas_mine_output():
    base, cut = run("none"), run("quota")
    mines = [f for f, st, proc, reg in zip(base.dataset.facility.values, base.dataset.facility_stage.values,
                                           base.dataset.facility_process.values, base.dataset.facility_region.values)
             if st == "mining" and proc == "mine" and reg == "CHN"]
    yearly = lambda r: float(r.dataset["output"].sel(facility=mines, time=LATE).sum("facility").mean()) * 12
    assert yearly(cut) <= 200000 * 1.001
    assert yearly(base) > 220000


def test_a_quota_relative_to_a_published_level_binds_on_its_change():
    # Where output ran above the published quotas (China before 2014), a quota given with the published
    # level of the base year caps the holders at their base-year output times the quota's change: here
    # three quarters of it, whatever the published level itself.
    sc = scenario(*CASES["quota_relative"])
    ctx = policy_context(sc)
    s = ctx.structure
    base_output = float(s.line_base_output[s.line_quota == 1].sum()) * 12.0
    allowed = sc.timeline[0].allowed(ctx)
    assert allowed == pytest.approx(base_output * 180000 / 240000)
    assert abs(allowed - 180000) > 10000  # the published level alone would give another cap
    base, cut = run("none"), run("quota_relative")
    mines = sorted({s.facilities[i] for i in s.line_facility[s.line_quota == 1]})
    mined = [float(r.dataset["output"].sel(facility=mines, time=LATE).sum("facility").mean()) * 12 for r in (base, cut)]
    assert mined[1] <= allowed * 1.001 < mined[0]


def test_a_part_of_a_quota_caps_only_the_holders_it_lists():
    # China published its mining quota in a light and a medium-heavy part: a part held by the ionic-clay
    # mines caps them at the holders' base-year output times the part over the published total, and leaves
    # the other holders to the engine's quota path.
    sc = scenario(*CASES["quota_part"])
    ctx = policy_context(sc)
    s = ctx.structure
    allowed = sc.timeline[0].allowed(ctx)
    assert allowed == pytest.approx(float(s.line_base_output[s.line_quota == 1].sum()) * 12.0 * 10000 / 270000)
    base, cut = run("none"), run("quota_part")
    ionic = float(cut.dataset["output"].sel(facility="CHN_SOUTH_IONIC", time=LATE).mean()) * 12
    assert ionic <= allowed * 1.001 < float(base.dataset["output"].sel(facility="CHN_SOUTH_IONIC", time=LATE).mean()) * 12
    light = [float(r.dataset["output"].sel(facility="CHN_BAYAN_OBO", time=LATE).mean()) for r in (base, cut)]
    assert light[1] >= light[0] * 0.99  # not capped by the part (it may run more as prices rise)


def test_consolidation_scales_a_quota_part_as_it_scales_the_quota():
    # Steering output toward a price scales the quota's parts too: the ionic-clay mines, held at their part,
    # mine less when the state groups withhold output (a target above the run's NdPr price, so that they
    # still withhold in 2025).
    part = float(run("quota_part").dataset["output"].sel(facility="CHN_SOUTH_IONIC", time=LATE).mean())
    steered = float(run("quota_part_steered").dataset["output"].sel(facility="CHN_SOUTH_IONIC", time=LATE).mean())
    assert steered < 0.99 * part


def test_a_quota_part_must_name_a_holder():
    with pytest.raises(ValueError, match="holds a mining quota"):
        sc = scenario({"instrument": "quota", "start": "2024-07", "kind": "mining", "level": 1000,
                       "plants": {"facilities": ["USA_MOUNTAIN_PASS"]}})
        sc.timeline[0].check(policy_context(sc))


def test_enforcement_closes_a_capacity_block():
    assert output(run("closure"), "CHN_SOUTH_IONIC", LATE) == 0
    assert output(run("none"), "CHN_SOUTH_IONIC", LATE) > 0


def quota_goods(ds) -> list[str]:
    """The oxides and metals QUOTA_GOODS covers (NdPr is covered as Nd and Pr are)."""
    elements = set(QUOTA_GOODS["elements"])
    return [p for p, e, s in zip(ds["product"].values, ds["element"].values, ds["stage"].values)
            if s in ("separation", "metal") and (e in elements or (e == "NdPr" and {"Nd", "Pr"} <= elements))]


def export_wedges(ds, month: int, goods: list[str]) -> list[float]:
    """Member 0's price abroad less China's price and freight (0.5 USD/kg for oxides and metals by
    default), in the 2025 `month`, on every route from China that ships more than 1 t of one of `goods`."""
    abroad = [r for r in ds["region"].values if r != "CHN"]
    prices = ds["price"].sel(time="2025").isel(member=0, time=month)
    shipped = ds["trade"].sel(origin="CHN", time="2025").isel(member=0, time=month)
    return [float(prices.sel(region=d, product=p) - prices.sel(region="CHN", product=p)) - 0.5
            for d in abroad for p in goods if float(shipped.sel(destination=d, product=p)) > 1.0]


def test_pooled_export_quota_holds_the_year_and_prices_one_licence_per_tonne():
    capped, base = run("pooled_quota"), run("none")
    ds = capped.dataset
    covered = quota_goods(ds)
    abroad = [r for r in ds["region"].values if r != "CHN"]
    exports = ds["trade"].sel(origin="CHN", destination=abroad, product=covered, time="2025").sum()
    assert float(exports) <= 20000 * (1 + 1e-9)
    assert float(base.dataset["trade"].sel(origin="CHN", destination=abroad, product=covered,
                                           time="2025").sum()) > 2 * 20000  # so the quota binds
    # One price per tonne: it multiplies a cheap good's price abroad far more than a dear one's.
    lift = {p: price(capped, p, "JPN", LATE) / price(capped, p, "CHN", LATE) for p in ("oxide:La", "oxide:Dy")}
    assert lift["oxide:La"] > 5 * lift["oxide:Dy"] > 5, lift


def test_pooled_licences_clear_within_each_month_at_one_price_per_tonne():
    ds = run("pooled_quota").dataset
    covered = quota_goods(ds)
    abroad = [r for r in ds["region"].values if r != "CHN"]
    monthly = ds["trade"].sel(origin="CHN", destination=abroad, product=covered).sum(("destination", "product"))
    # A month may use the year's remaining quota spread evenly over the months left: a month with a licence
    # price uses exactly that allowance, a month without one (slack) at most it, and what is unused carries
    # on to the later months of the year.
    assert float(monthly.sel(time=slice("2024-07", "2024-12")).sum()) <= 20000
    shipped_2025 = monthly.sel(time="2025").isel(member=0).values
    licence = ds["licence"].sel(time="2025", pool=1).isel(member=0).values
    allowance = (20000 - np.concatenate([[0.0], np.cumsum(shipped_2025)[:-1]])) / np.arange(12, 0, -1)
    assert np.all(shipped_2025 <= allowance * (1 + 1e-6))
    binding = licence > 0
    assert binding.sum() >= 6, licence
    np.testing.assert_allclose(shipped_2025[binding], allowance[binding], rtol=1e-5)
    assert shipped_2025.sum() <= 20000 * (1 + 1e-6)
    # Every covered good on every route it is shipped pays the same licence price on top of freight, in
    # every month the quota binds.
    for month in np.flatnonzero(binding):
        wedges = export_wedges(ds, month, covered)
        assert len(wedges) >= 5 and max(wedges) - min(wedges) < 1e-6 and min(wedges) > 1.0, wedges
        # That wedge is the licence price the run reports.
        assert float(ds["licence"].sel(time="2025", pool=1).isel(member=0, time=month)) == pytest.approx(wedges[0],
                                                                                                  abs=1e-6)


def test_quotas_in_two_pools_hold_each_allowance_at_a_licence_price_of_their_own():
    ds = run("split_quota").dataset
    abroad = [r for r in ds["region"].values if r != "CHN"]
    light = [p for p in quota_goods(ds) if str(ds["element"].sel(product=p).values) in ("La", "Ce", "NdPr")]
    heavy = [p for p in quota_goods(ds) if p not in light]
    assert light and heavy and "oxide:Dy" in heavy
    trade = ds["trade"].sel(origin="CHN", destination=abroad, time="2025").isel(member=0)
    for goods, level in ((light, 20000), (heavy, 3000)):
        assert float(trade.sel(product=goods).sum()) <= level * (1 + 1e-6)
    licence = ds["licence"].sel(time="2025").isel(member=0)
    both = np.flatnonzero((licence.sel(pool=1) > 0).values & (licence.sel(pool=2) > 0).values)
    assert len(both) >= 6, licence.values  # both quotas bind (each far below China's exports without it)
    assert float(ds["licence"].sel(pool=3).max()) == 0.0
    for month in both:
        # Within a pool every good shipped pays its pool's licence price on top of freight, and the two
        # pools' prices differ.
        for pool, goods in ((1, light), (2, heavy)):
            wedges = export_wedges(ds, month, goods)
            assert len(wedges) >= 2 and max(wedges) - min(wedges) < 1e-6, (pool, wedges)
            assert wedges[0] == pytest.approx(float(licence.isel(time=month).sel(pool=pool)), abs=1e-6)
        assert abs(float(licence.isel(time=month).sel(pool=1) - licence.isel(time=month).sel(pool=2))) > 1.0


def test_a_slack_pooled_quota_has_no_licence_price():
    # The spread between Japan and China is freight alone, as without a quota. (Prices themselves are
    # not compared: a non-binding finite cap can move a price the clearing leaves undetermined, a node on
    # a flat stretch of its net supply, which is not the licence price's doing.)
    slack, base = run("slack_pooled_quota").dataset["price"], run("none").dataset["price"]
    def spread(prices, product):
        return (prices.sel(region="JPN", product=product) - prices.sel(region="CHN", product=product)).values

    for product in ("oxide:La", "oxide:Ce", "oxide:NdPr", "oxide:Dy", "metal:Dy"):
        np.testing.assert_allclose(spread(slack, product), spread(base, product), atol=1e-9)
    assert float(run("slack_pooled_quota").dataset["licence"].max()) == 0.0


def test_smuggling_carries_its_capacity_past_a_binding_quota_outside_the_customs_record():
    ds, capped = run("smuggled_quota").dataset, run("pooled_quota").dataset
    covered = quota_goods(ds)
    abroad = [r for r in ds["region"].values if r != "CHN"]
    smuggled = ds["smuggled"]
    # Only from China, only covered goods, only from the event's start (the first month has no observation).
    assert float(smuggled.sel(time=slice("2024-01", "2024-07")).sum()) == 0.0
    others = [p for p, s in zip(ds["product"].values, ds["stage"].values) if s not in ("separation", "metal")]
    assert float(smuggled.sel(product=others).sum()) == 0.0  # concentrates and magnets are not in its scope
    assert float(smuggled.sel(origin=abroad).sum()) == 0.0
    # The quota keeps licences dear, so smugglers use most of their channel: all of its share for the cheap
    # goods, on which a licence priced per tonne weighs most, less for dear ones (Dy), on which it is a
    # small margin over the evasion cost.
    in_2025 = float(smuggled.sel(origin="CHN", time="2025").sum())
    assert 0.6 * 10000 < in_2025 <= 10000 * (1 + 1e-9), in_2025
    # Customs still records only licensed exports, which the quota holds ...
    official = float(ds["trade"].sel(origin="CHN", destination=abroad, product=covered, time="2025").sum())
    assert official <= 20000 * (1 + 1e-9)
    # ... and the extra supply abroad lowers prices there (stop 16's calibration: La by 4.6 %, Ce by 11 %).
    for product in ("oxide:La", "oxide:Ce"):
        assert price(run("smuggled_quota"), product, "JPN", LATE) < 0.97 * price(run("pooled_quota"), product,
                                                                                  "JPN", LATE), product
    assert "smuggled" not in capped  # kept by default only where a channel is in the timeline ...
    without = run_scenario(scenario(*CASES["pooled_quota"]), variables=("smuggled",)).dataset
    assert without["smuggled"].sum() == 0.0  # ... and zero without one


def test_smuggling_carries_nothing_where_the_official_route_is_cheaper():
    # Without a duty, licence or tariff the official route costs freight alone and the channel's evasion
    # cost makes it dearer, so nobody smuggles and the run is the baseline's.
    alone, base = run("smuggling_alone").dataset, run("none").dataset
    assert float(alone["smuggled"].sum()) == 0.0
    np.testing.assert_allclose(alone["price"].values, base["price"].values, rtol=1e-9)


def test_export_tax_lowers_chinas_price_and_books_its_revenue():
    base, taxed = run("none"), run("export_tax")
    assert price(taxed, "magnet:NdFeB", "CHN", LATE) < price(base, "magnet:NdFeB", "CHN", LATE)
    assert price(taxed, "magnet:NdFeB", "JPN", LATE) > price(base, "magnet:NdFeB", "JPN", LATE)
    ds = taxed.dataset
    flows = ds["trade"].sel(origin="CHN", product="magnet:NdFeB", time=slice("2024-07", None))
    exported = flows.sum("destination") - flows.sel(destination="CHN")
    revenue = 0.1 * float((exported * ds["price"].sel(region="CHN", product="magnet:NdFeB")).sum()) * 1e-3
    assert revenue > 0
    assert float(ds["fiscal_cost"].sel(instrument="tax", payer="CHN").sum()) == pytest.approx(-revenue, rel=1e-9)


def test_tariff_diverts_the_importers_purchases_and_books_revenue():
    base, tariffed = run("none"), run("tariff")
    direct = lambda r: float(r.dataset["trade"].sel(origin="CHN", destination="USA", product="magnet:NdFeB",
                                                    time=LATE).sum())
    assert direct(tariffed) < 0.8 * direct(base)  # the US buys more from Japan, Korea and Vietnam instead
    assert price(tariffed, "magnet:NdFeB", "USA", LATE) >= price(base, "magnet:NdFeB", "USA", LATE)
    ds = tariffed.dataset
    imports = ds["trade"].sel(origin="CHN", destination="USA", product="magnet:NdFeB", time=slice("2024-07", None))
    revenue = 0.15 * float((imports * ds["price"].sel(region="CHN", product="magnet:NdFeB")).sum()) * 1e-3
    assert revenue > 0
    booked = float(tariffed.statistics.fiscal_cost(payer="USA", instrument="tariff").sum())
    assert booked == pytest.approx(-revenue, rel=1e-9)


def test_stockpile_builds_to_its_size_and_books_purchases():
    ds = run("stockpile").dataset
    level = ds["stockpile"].sel(region="JPN", product="oxide:Dy").squeeze()
    assert float(level.sel(time="2024-08-01")) == pytest.approx(60.0)
    assert float(level.sel(time="2024-05-01")) == pytest.approx(30.0)
    bought = level.diff("time").clip(min=0) * ds["price"].sel(region="JPN", product="oxide:Dy").squeeze().isel(time=slice(1, None))
    assert float(ds["fiscal_cost"].sel(instrument="pile", payer="JPN").sum()) == pytest.approx(float(bought.sum()) * 1e-3, rel=1e-6)


def test_offshore_refinery_counts_for_the_partner_but_china_controls_and_throttles_it():
    ds = run("refinery").dataset
    assert str(ds["facility_region"].sel(facility="MYS_CHN_TEST").values) == "MYS"
    assert str(ds["facility_controller"].sel(facility="MYS_CHN_TEST").values) == "CHN"
    assert output(run("refinery"), "MYS_CHN_TEST", LATE) > 0
    assert output(run("refinery_throttled"), "MYS_CHN_TEST", LATE) == 0
    stats = run("refinery").statistics
    location = float(stats.stage_share(by="location").sel(stage="separation", time=LATE).mean())
    control = float(stats.stage_share(by="controller").sel(stage="separation", time=LATE).mean())
    assert control > location  # China controls more separation than it hosts


def test_offtake_reserves_output_for_the_buyers():
    base, reserved = run("none"), run("offtake")
    def to_others(r):
        flows = r.dataset["trade"].sel(origin="MYS", product="oxide:NdPr", time=LATE)
        return float(flows.drop_sel(destination=["MYS", "JPN"]).sum())
    made = float(reserved.dataset["production"].sel(region="MYS", product="oxide:NdPr", time=LATE).sum())
    assert to_others(reserved) < to_others(base)
    assert to_others(reserved) <= 0.1 * made * 1.5 + 1.0


def test_consolidation_withholds_chinese_output_below_the_target_price():
    base, steered = run("none"), run("consolidation")
    assert price(steered, "oxide:NdPr", "CHN", LATE) > price(base, "oxide:NdPr", "CHN", LATE)
    assert float(steered.dataset["output"].sel(facility="CHN_BAYAN_OBO", time=LATE).mean()) < float(
        base.dataset["output"].sel(facility="CHN_BAYAN_OBO", time=LATE).mean())


def test_outage_and_demand_shift():
    lost, base = run("outage").dataset, run("none").dataset
    capacity = lambda ds: float(ds["capacity"].sel(facility="MMR_KACHIN_IONIC", time=LATE).mean())
    assert capacity(lost) == pytest.approx(0.1 * capacity(base))
    assert output(run("outage"), "MMR_KACHIN_IONIC", LATE) <= capacity(lost) / 12 * (1 + 1e-9)
    assert price(run("demand"), "oxide:NdPr", "CHN", LATE) > price(run("none"), "oxide:NdPr", "CHN", LATE)


def test_speculation_hoards_while_in_force_and_sells_back_after():
    base, hoard = run("none"), run("speculation")

    def stock(results, when, product="oxide:Dy"):
        return float(results.dataset["inventory"].sel(region="JPN", product=product, time=when).mean())

    during, after = "2024-08", slice("2025-06", "2025-12")
    assert stock(hoard, during) > 1.5 * stock(base, during)  # holders keep more than their usual cover
    assert price(hoard, "oxide:Dy", "JPN", "2024-03") > 1.01 * price(base, "oxide:Dy", "JPN", "2024-03")
    # Once the risk is gone they sell the extra stock: stocks return to the base run's, and the price
    # falls below its level while they were buying.
    assert stock(hoard, after) < 1.1 * stock(base, after)
    assert price(hoard, "oxide:Dy", "JPN", "2024-09") < price(hoard, "oxide:Dy", "JPN", "2024-08")
    # Goods outside the event are not hoarded.
    assert stock(hoard, during, "oxide:La") == pytest.approx(stock(base, during, "oxide:La"), rel=0.05)


def test_capital_grant_lowers_the_hurdle_for_expansion():
    base, granted = run("none", "2027-12"), run("grant", "2027-12")
    non_china = [f for f, reg in zip(base.dataset.facility.values, base.dataset.facility_region.values) if reg != "CHN"]
    cap = lambda r: float(r.dataset["capacity"].sel(facility=non_china, time="2027-12").sum())
    assert cap(granted) >= cap(base)
    assert float(granted.dataset["fiscal_cost"].sel(instrument="grant").sum()) >= 0


def test_an_event_not_yet_in_force_changes_nothing():
    plain = run_scenario(scenario(end="2024-12"), variables=("price",))
    later = run_scenario(scenario({"instrument": "tariff", "start": "2024-12", "importers": ["USA"],
                                   "goods": {"products": ["magnet:NdFeB"]}, "rate": 0.5}, end="2024-12"),
                         variables=("price",))
    before = slice("2024-01", "2024-11")
    np.testing.assert_array_equal(plain.dataset["price"].sel(time=before).values,
                                  later.dataset["price"].sel(time=before).values)
    assert not np.array_equal(plain.dataset["price"].values, later.dataset["price"].values)


def test_every_instrument_is_documented_and_in_the_schema():
    from reesim.policy.instruments import INSTRUMENTS

    schema = Scenario.model_json_schema()
    for name, cls in INSTRUMENTS.items():
        assert cls.__doc__ and len(cls.__doc__) > 60, name
        assert any(d.get("properties", {}).get("instrument", {}).get("const") == name
                   for d in schema["$defs"].values()), name


def test_trigger_fires_per_member_holds_and_cools_down():
    from types import SimpleNamespace

    from reesim.policy.trigger import Trigger, TriggerState

    sc = scenario(members=3)
    ctx = policy_context(sc, params={k: np.repeat(v, 3) for k, v in policy_context(sc).params.items()})
    trigger = Trigger(metric="relative_price", region="JPN", product="oxide:Dy", above=1.5, hold_months=2,
                      cooldown_months=3)
    state = TriggerState(trigger, 3)
    base = ctx.structure.price_base
    j, d = ctx.region("JPN"), ctx.product("oxide:Dy")

    def observed(multiples):  # last month's prices with JPN Dy at the given multiples of its base price
        price = np.broadcast_to(base, (3, len(ctx.structure.regions), len(base))).copy()
        price[:, j, d] = base[d] * np.asarray(multiples)
        return SimpleNamespace(price=price)

    masks = [state.update(ctx, 0, None)]
    masks += [state.update(ctx, t, observed([2.0, 1.0, 2.0 if t >= 3 else 1.0])) for t in range(1, 10)]
    acted = np.array(masks).T  # (member, month)
    assert acted[0].tolist() == [0, 1, 1, 0, 0, 0, 1, 1, 0, 0]  # fires, holds 2, cools 3, fires again
    assert not acted[1].any()
    assert acted[2].tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 1, 1]
    with pytest.raises(InputError, match="cannot take a trigger"):
        load_scenario({"name": "x", "timeline": [{"instrument": "stockpile", "start": "2025-01", "region": "USA",
                                                   "product": "oxide:Dy", "size": 10,
                                                   "trigger": {"metric": "price", "product": "oxide:Dy",
                                                               "above": 1.0}}]})


def test_an_actor_moves_events_in_chosen_members_and_its_payments_are_booked():
    from reesim.policy.trade_measures import Tariff

    class Protectionist:
        """Tariffs US magnet imports from China in member 1 only, from month 6."""

        name = "usa"

        def decide(self, t, last, ctx):
            if t < 6:
                return {}
            event = Tariff(start="2024-01", importers=["USA"], goods={"products": ["magnet:NdFeB"]}, rate=0.15)
            return {"tariff": (event, np.array([False, True]))}

    results = run_scenario(scenario(members=2, end="2024-12"), actors=[Protectionist()])
    ds = results.dataset
    active = ds["in_force"].sel(instrument="usa:tariff")
    assert active.sel(member=0).sum() == 0 and active.sel(member=1).sum() == 6
    paid = results.statistics.fiscal_cost(payer="USA").sum("time")
    assert float(paid.sel(member=0)) == 0 and float(paid.sel(member=1)) < 0
    magnets = ds["price"].sel(product="magnet:NdFeB", region="USA", time="2024-12-01")
    assert float(magnets.sel(member=1)) > float(magnets.sel(member=0))


def test_every_instrument_has_a_row_in_the_policy_docs():
    from pathlib import Path

    from reesim.policy.instruments import INSTRUMENTS

    docs = (Path(__file__).resolve().parents[1] / "docs" / "policy.md").read_text(encoding="utf-8")
    missing = [name for name in INSTRUMENTS if f"`{name}`" not in docs]
    assert not missing, f"document these instruments in docs/policy.md: {missing}"
